//go:build unix

package childproc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// Spawn starts a child with pipes for stdin, stdout and stderr (Node's
// spawn). Wait returns once it has exited and its output is all read
// (Node's 'close').
func ExampleSpawn() {
	ctx := context.Background()
	c, err := childproc.Spawn(ctx, "tr", []string{"a-z", "A-Z"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	io.WriteString(c.Stdin, "hello from go\n")
	c.Stdin.Close()
	out, _ := io.ReadAll(c.Stdout)
	if err := c.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Print(string(out))
	fmt.Println("exit code", c.ExitCode())
	// Output:
	// HELLO FROM GO
	// exit code 0
}

// A program that cannot be started is an error from Spawn itself, with
// Node's fields.
func ExampleSpawn_notFound() {
	_, err := childproc.Spawn(context.Background(), "no-such-program", []string{"arg"}, nil)
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Syscall, e.Path, e.Spawnargs)
	}
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// ENOENT spawn no-such-program no-such-program [arg]
	// true
}

// Stdio entries choose what each fd of the child is: here stdin is
// /dev/null, stdout goes to a strings.Builder, stderr is a pipe, and fd 3 is
// an extra pipe the parent reads through Stdio(3).
func ExampleSpawn_stdio() {
	var out strings.Builder
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "echo to stdout; echo to fd 3 >&3"},
		&childproc.Options{Stdio: []any{childproc.Ignore, &out, childproc.Pipe, childproc.Pipe}})
	if err != nil {
		fmt.Println(err)
		return
	}
	three, _ := io.ReadAll(c.Stdio(3))
	if err := c.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Print(out.String(), string(three))
	// Output:
	// to stdout
	// to fd 3
}

// Exec runs a command line through the shell and buffers its output;
// Output is Node's callback (error, stdout, stderr).
func ExampleExec() {
	c, err := childproc.Exec(context.Background(), "echo hello; echo oops >&2; exit 3", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	stdout, stderr, err := c.Output()
	fmt.Printf("stdout %q stderr %q\n", stdout, stderr)
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Println("exit code", e.ExitCode)
	}
	// Output:
	// stdout "hello\n" stderr "oops\n"
	// exit code 3
}

// ExecFile runs a program without a shell: the arguments reach it as they
// are.
func ExampleExecFile() {
	c, err := childproc.ExecFile(context.Background(), "echo", []string{"$HOME", "a  b"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	stdout, _, err := c.Output()
	fmt.Printf("%q %v\n", stdout, err)
	// Output:
	// "$HOME a  b\n" <nil>
}

// Past Timeout the child is sent KillSignal; the error says so.
func ExampleExecFile_timeout() {
	c, err := childproc.ExecFile(context.Background(), "sleep", []string{"10"}, &childproc.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _, err = c.Output()
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Println(e.TimedOut, e.Killed, e.Signal)
	}
	// Output:
	// true true SIGTERM
}

// MaxBuffer bounds what Exec keeps of each stream.
func ExampleExec_maxBuffer() {
	c, err := childproc.Exec(context.Background(), "yes", &childproc.Options{MaxBuffer: 6})
	if err != nil {
		fmt.Println(err)
		return
	}
	stdout, _, err := c.Output()
	fmt.Printf("%q\n", stdout)
	fmt.Println(err)
	// Output:
	// "y\ny\ny\n"
	// stdout maxBuffer length exceeded
}

// SpawnSync runs a child to completion: a non-zero exit is in Status,
// not an error.
func ExampleSpawnSync() {
	r := childproc.SpawnSync("sh", []string{"-c", "tr a-z A-Z; exit 2"}, &childproc.Options{Input: []byte("input\n")})
	fmt.Printf("status %d signal %q stdout %q err %v\n", r.Status, r.Signal, r.Stdout, r.Err)
	// Output:
	// status 2 signal "" stdout "INPUT\n" err <nil>
}

// ExecSync returns the command's stdout.
func ExampleExecSync() {
	out, err := childproc.ExecSync("echo hello | tr a-z A-Z", nil)
	fmt.Printf("%q %v\n", out, err)
	// Output:
	// "HELLO\n" <nil>
}

// ExecFileSync fails when the child exits non-zero or is killed, with
// the exit code or signal in the error.
func ExampleExecFileSync() {
	out, err := childproc.ExecFileSync("echo", []string{"hello"}, nil)
	fmt.Printf("%q %v\n", out, err)

	_, err = childproc.ExecFileSync("sh", []string{"-c", "kill -TERM $$"}, nil)
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Println(e.Signal, e.ExitCode)
	}
	// Output:
	// "hello\n" <nil>
	// SIGTERM -1
}

// Kill sends a signal; Exited is closed when the process has ended
// (Node's 'exit'), and SignalCode says how.
func ExampleChild_Kill() {
	c, err := childproc.Spawn(context.Background(), "sleep", []string{"10"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Kill(syscall.SIGKILL); err != nil {
		fmt.Println(err)
	}
	<-c.Exited()
	fmt.Println(c.Killed(), c.SignalCode(), c.ExitCode())
	// Output:
	// true SIGKILL -1
}

// Cancelling the context kills the child (Node's AbortSignal); Wait then
// reports ABORT_ERR.
func ExampleSpawn_abort() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := childproc.Spawn(ctx, "sleep", []string{"10"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	cancel()
	err = c.Wait()
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Signal, errors.Is(err, context.Canceled))
	}
	// Output:
	// ABORT_ERR SIGTERM true
}

// upperEntry is a Go entry point of this binary: the test binary's
// TestMain calls childproc.RunEntry, so ForkEntry can start it. It replies
// to each string message with its arguments and the message, upper-cased,
// until the parent disconnects.
var upperEntry = childproc.RegisterEntry("example-upper", func(ctx context.Context, ch *ipc.Channel, args []string) error {
	for {
		m, err := ch.Recv(ctx)
		if err != nil {
			return nil // the parent disconnected
		}
		var s string
		if err := m.Decode(&s); err != nil {
			return err
		}
		if err := ch.Send(strings.ToUpper(strings.Join(append(args, s), " "))); err != nil {
			return err
		}
	}
})

// ForkEntry starts this very binary again in one of its registered entry
// points, with an IPC channel: no second program to build or ship.
func ExampleForkEntry() {
	ctx := context.Background()
	c, err := childproc.ForkEntry(ctx, upperEntry, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, msg := range []string{"hello", "from the parent"} {
		if err := c.Send(msg); err != nil {
			fmt.Println(err)
			return
		}
		m, err := c.Recv(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.String())
	}
	c.Disconnect() // the entry's Recv ends, it returns, the child exits 0
	fmt.Println(c.Wait())
	// Output:
	// "HELLO"
	// "FROM THE PARENT"
	// <nil>
}

// RegisterEntry names a function that a forked copy of the binary runs
// instead of main. Register it in a package-level variable, so that parent
// and child (the same binary) agree, and call RunEntry first in main (or
// TestMain):
//
//	var upperEntry = childproc.RegisterEntry("example-upper", func(ctx context.Context, ch *ipc.Channel, args []string) error { ... })
//
//	func main() {
//		childproc.RunEntry()
//		...
//	}
//
// ForkEntry's arguments reach the entry as args.
func ExampleRegisterEntry() {
	ctx := context.Background()
	c, err := childproc.ForkEntry(ctx, upperEntry, []string{"dear", "child:"}, &childproc.Options{Silent: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Send("hi")
	m, err := c.Recv(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	var reply string
	m.Decode(&reply)
	fmt.Println(reply)
	c.Disconnect()
	fmt.Println(c.Wait(), c.ExitCode())
	// Output:
	// DEAR CHILD: HI
	// <nil> 0
}

// Fork runs a Node module with an IPC channel (Node's fork):
// testdata/port/echo.js sends every message back, and disconnects when
// told "exit", after which node ends. Silent gives the parent pipes to the
// child's stdio instead of sharing its own.
func ExampleFork() {
	ctx := context.Background()
	c, err := childproc.Fork(ctx, "testdata/port/echo.js", []string{"--hello"}, &childproc.Options{Silent: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Send(map[string]any{"n": 42, "words": []string{"from", "go"}}); err != nil {
		fmt.Println(err)
		return
	}
	m, err := c.Recv(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	var back struct {
		N     int
		Words []string
	}
	m.Decode(&back)
	fmt.Println(back.N, back.Words)
	c.Send("exit")
	out, _ := io.ReadAll(c.Stdout)
	fmt.Printf("node printed %q\n", out)
	fmt.Println(c.Wait())
	// Output:
	// 42 [from go]
	// node printed "hello\n"
	// <nil>
}

// Exited is Node's 'exit': the process has ended. Wait is Node's 'close':
// it also waits for the child's stdout to end, here held by a grandchild
// that writes after the child has gone. Output nobody read is kept.
func ExampleChild_Exited() {
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "(sleep 0.3; echo late) & echo early"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-c.Exited()
	fmt.Println("exited with", c.ExitCode())
	if err := c.Wait(); err != nil {
		fmt.Println(err)
	}
	out, _ := io.ReadAll(c.Stdout)
	fmt.Print(string(out))
	// Output:
	// exited with 0
	// early
	// late
}

// Beyond Node, Exec also takes Input for the child's stdin.
func ExampleExec_input() {
	c, err := childproc.Exec(context.Background(), "sort | tr '\\n' ' '", &childproc.Options{Input: []byte("pear\napple\nfig\n")})
	if err != nil {
		fmt.Println(err)
		return
	}
	stdout, _, err := c.Output()
	fmt.Printf("%q %v\n", stdout, err)
	// Output:
	// "apple fig pear " <nil>
}

// With Shell, the program and its arguments are joined with spaces, not
// quoted, and run by the shell, as Node's shell option does: the shell
// splits "a  b" again and expands $((...)).
func ExampleExecFile_shell() {
	c, err := childproc.ExecFile(context.Background(), "echo", []string{"a  b", "$((6*7))"}, &childproc.Options{Shell: childproc.DefaultShell})
	if err != nil {
		fmt.Println(err)
		return
	}
	stdout, _, _ := c.Output()
	fmt.Printf("%q spawnfile %s\n", stdout, c.Spawnfile())
	// Output:
	// "a b 42\n" spawnfile /bin/sh
}

// A sync child past its Timeout is killed; Err has code ETIMEDOUT and the
// output so far is kept.
func ExampleSpawnSync_timeout() {
	r := childproc.SpawnSync("sh", []string{"-c", "echo started; exec sleep 10"}, &childproc.Options{Timeout: time.Second})
	var e *childproc.Error
	if errors.As(r.Err, &e) {
		fmt.Println(e.Code, r.Signal, r.Status)
	}
	fmt.Printf("%q\n", r.Stdout)
	// Output:
	// ETIMEDOUT SIGTERM -1
	// "started\n"
}

// ExecSync's error carries the exit code and both outputs. With an
// explicit Stdio the child's stderr is captured, not copied to ours.
func ExampleExecSync_error() {
	out, err := childproc.ExecSync("echo partial; echo broken >&2; exit 4",
		&childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}})
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Printf("exit %d stdout %q stderr %q\n", e.ExitCode, e.Stdout, e.Stderr)
		fmt.Println(strings.SplitN(e.Error(), ":", 2)[0])
	}
	fmt.Printf("%q\n", out)
	// Output:
	// exit 4 stdout "partial\n" stderr "broken\n"
	// Command failed
	// "partial\n"
}

// Past MaxBuffer a sync child is killed and the call fails with ENOBUFS,
// keeping the first MaxBuffer bytes.
func ExampleExecFileSync_maxBuffer() {
	out, err := childproc.ExecFileSync("yes", nil, &childproc.Options{MaxBuffer: 8})
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Signal)
	}
	fmt.Printf("%q\n", out)
	// Output:
	// ENOBUFS SIGTERM
	// "y\ny\ny\ny\n"
}

// Kill(nil) sends Options.KillSignal; signal 0 only checks that the child
// is there. Where Node's kill returns false, Kill returns an error: ESRCH
// once the child has exited.
func ExampleChild_Kill_afterExit() {
	c, err := childproc.Spawn(context.Background(), "sleep", []string{"10"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}, KillSignal: syscall.SIGUSR1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Kill(syscall.Signal(0)), c.ExitCode(), c.SignalCode() == "")
	c.Kill(nil)
	c.Wait()
	fmt.Println(c.SignalCode())
	err = c.Kill(nil)
	var e *childproc.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, errors.Is(err, os.ErrProcessDone))
	}
	// Output:
	// <nil> -1 true
	// SIGUSR1
	// ESRCH true
}

// Limits caps what the child may use; here its open descriptors.
func ExampleLimits() {
	out, err := childproc.ExecFileSync("sh", []string{"-c", "ulimit -n"}, &childproc.Options{
		Limits: &childproc.Limits{OpenFiles: 64},
	})
	fmt.Print(string(out), err)
	// Output:
	// 64
	// <nil>
}

// KillTree reaches what the child started too: here a shell and the
// sleep it runs in the background. A nil signal is the graceful stop:
// KillSignal, then SIGKILL after ForceKillAfter to whatever is left.
func ExampleChild_KillTree() {
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "sleep 60 & echo started; wait"}, &childproc.Options{
		KillTree: true,
		Stdio:    []any{childproc.Ignore, childproc.Pipe, childproc.Inherit},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for line := range childproc.Lines(c.Stdout) {
		fmt.Println(line) // the sleep runs
		break
	}
	fmt.Println(c.KillTree(nil))
	fmt.Println(c.Wait())
	// Output:
	// started
	// <nil>
	// Command failed: sh -c sleep 60 & echo started; wait: killed by SIGTERM
}

// Stop is the graceful stop of one child, bounded by a context: SIGKILL
// comes after ForceKillAfter, or at once when ctx ends first.
func ExampleChild_Stop() {
	c, err := childproc.Spawn(context.Background(), "sleep", []string{"60"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(c.Stop(ctx), c.SignalCode())
	// Output:
	// <nil> SIGTERM
}

// Lines ranges over what a child writes, line by line.
func ExampleLines() {
	c, err := childproc.Spawn(context.Background(), "printf", []string{`a\nb\r\nc`}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for line, err := range childproc.Lines(c.Stdout) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("%q\n", line)
	}
	fmt.Println(c.Wait())
	// Output:
	// "a"
	// "b"
	// "c"
	// <nil>
}

// CombinedOutput gives stdout and stderr as one, in the order written.
func ExampleCombinedOutput() {
	out, err := childproc.CombinedOutput(context.Background(), "sh", []string{"-c", "echo out; echo err >&2; echo out again"}, nil)
	fmt.Print(string(out), err)
	// Output:
	// out
	// err
	// out again
	// <nil>
}

// QuoteShell keeps outside input one word for the shell form, which joins
// arguments unquoted.
func ExampleQuoteShell() {
	name := "it's a file; rm -rf ~"
	out, err := childproc.ExecSync("printf '[%s]\\n' "+childproc.QuoteShell(name, "$HOME"), nil)
	fmt.Print(string(out), err)
	// Output:
	// [it's a file; rm -rf ~]
	// [$HOME]
	// <nil>
}

// AddEnv adds to the environment the child inherits instead of replacing
// it, as Env does.
func ExampleOptions_addEnv() {
	out, err := childproc.ExecSync(`echo "$GREETING, PATH is set: ${PATH:+yes}"`, &childproc.Options{
		AddEnv: []string{"GREETING=hello"},
	})
	fmt.Print(string(out), err)
	// Output:
	// hello, PATH is set: yes
	// <nil>
}

// Logger traces every start and exit through log/slog.
func ExampleOptions_logger() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case "time", "pid", "ran":
				return slog.Attr{} // they change from run to run
			}
			return a
		},
	}))
	childproc.ExecFileSync("sh", []string{"-c", "exit 3"}, &childproc.Options{Logger: log})
	// Output:
	// level=INFO msg="childproc: spawn" file=sh args="[-c exit 3]" cwd=""
	// level=INFO msg="childproc: exit" file=sh code=3
}

// ParseSignal reads signal names and numbers as kill(1) takes them.
func ExampleParseSignal() {
	for _, name := range []string{"TERM", "sigkill", "1", "NOPE"} {
		sig, err := childproc.ParseSignal(name)
		fmt.Println(sig, err)
	}
	// Output:
	// terminated <nil>
	// killed <nil>
	// hangup <nil>
	// <nil> Unknown signal: NOPE
}

// RunEntry goes first in main: in a copy of the binary that ForkEntry (or
// the Limits shim, or the guardian) started, it runs that mode and exits;
// anywhere else it returns at once.
func ExampleRunEntry() {
	// func main() {
	// 	childproc.RunEntry()
	// 	... // the program as usual
	// }
	childproc.RunEntry() // here a test binary not started for a mode: it returns
	fmt.Println("main runs")
	// Output:
	// main runs
}

// A timeout is found with errors.Is, in every form.
func ExampleErrTimeout() {
	_, err := childproc.ExecSync("sleep 60", &childproc.Options{Timeout: 100 * time.Millisecond})
	fmt.Println(errors.Is(err, childproc.ErrTimeout))
	// Output:
	// true
}
