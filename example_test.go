//go:build unix

package childproc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"syscall"
	"time"

	"github.com/childproc/childproc"
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
