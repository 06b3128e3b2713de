//go:build unix

package childproc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

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
