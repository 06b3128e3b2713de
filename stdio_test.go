//go:build unix

package childproc_test

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// Node: test-child-process-stdio, test-child-process-stdio-inherit,
// test-child-process-validate-stdio, §1.3 of the Node notes. The tests
// that read what the child sees in /proc are in stdio_linux_test.go.

// Pipes at 0-2: the parent writes stdin and reads stdout and stderr; a
// negative int and Overlapped are pipes too.
func TestStdioPipeForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		stdio []any
	}{
		{"Pipe", []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}},
		{"Overlapped", []any{childproc.Overlapped, childproc.Overlapped, childproc.Overlapped}},
		{"negative int", []any{-1, -1, -1}},
		{"nil", []any{nil, nil, nil}},
		{"short", []any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "cat; echo err >&2"}, &childproc.Options{Stdio: tc.stdio})
			if err != nil {
				t.Fatal(err)
			}
			if c.Stdin == nil || c.Stdout == nil || c.Stderr == nil {
				t.Fatal("missing parent ends")
			}
			go func() {
				c.Stdin.Write([]byte("data"))
				c.Stdin.Close()
			}()
			errc := make(chan string, 1)
			go func() { b, _ := io.ReadAll(c.Stderr); errc <- string(b) }()
			if out := readAll(t, c.Stdout); out != "data" {
				t.Fatalf("stdout %q", out)
			}
			if e := <-errc; e != "err\n" {
				t.Fatalf("stderr %q", e)
			}
			if err := waitFor(t, c); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Node: test-child-process-double-pipe-ish: several extra pipes, each its
// own stream, unread ones drained so that Wait returns.
func TestStdioManyExtraPipes(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "echo a >&3; echo b >&4; echo c >&5; echo d >&6"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.Pipe, childproc.Pipe, childproc.Pipe, -1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"a\n", "b\n", "c\n", "d\n"} {
		if got := readAll(t, c.Stdio(3+i)); got != want {
			t.Fatalf("fd %d: %q", 3+i, got)
		}
	}
}

// An *os.File entry is given to the child as is.
func TestStdioFile(t *testing.T) {
	t.Parallel()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := os.Open("/etc/hostname")
	if err != nil {
		in, _ = os.Open(os.DevNull)
	}
	defer in.Close()
	want, _ := os.ReadFile(in.Name())
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "cat; echo err >&2; echo three >&3"},
		&childproc.Options{Stdio: []any{in, f, f, f}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdin != nil || c.Stdout != nil || c.Stderr != nil || c.Stdio(3) != nil {
		t.Fatal("file entries have parent ends")
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(f.Name())
	if string(got) != string(want)+"err\nthree\n" {
		t.Fatalf("file holds %q", got)
	}
}

// io.Reader at 0 feeds the child; io.Writer at 1, 2 and 3 collects its
// output; a bytes.Buffer (both) at 3 is a Writer.
func TestStdioReaderWriter(t *testing.T) {
	t.Parallel()
	var out, errOut, three bytes.Buffer
	in := strings.NewReader(strings.Repeat("line\n", 20000))
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "wc -l; echo err >&2; echo three >&3"},
		&childproc.Options{Stdio: []any{in, &out, &errOut, &three}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdin != nil || c.Stdout != nil || c.Stderr != nil || c.Stdio(3) != nil {
		t.Fatal("Reader/Writer entries have parent ends")
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != "20000" || errOut.String() != "err\n" || three.String() != "three\n" {
		t.Fatalf("out %q err %q three %q", out.String(), errOut.String(), three.String())
	}
}

// A Reader-only value from fd 3 up feeds the child there.
func TestStdioReaderAbove2(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "cat <&3"},
		&childproc.Options{Stdio: []any{childproc.Ignore, &out, childproc.Ignore, strings.NewReader("from three")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if out.String() != "from three" {
		t.Fatalf("%q", out.String())
	}
}

// A child that stops reading does not block the copy from a big Reader.
func TestStdioReaderChildStopsReading(t *testing.T) {
	t.Parallel()
	big := bytes.NewReader(make([]byte, 8<<20))
	var out bytes.Buffer
	c, err := childproc.Spawn(t.Context(), "head", []string{"-c", "10"}, &childproc.Options{Stdio: []any{big, &out, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 10 {
		t.Fatalf("%d bytes", out.Len())
	}
}

// A failing io.Writer makes Wait fail, with the child otherwise fine.
func TestStdioWriterFails(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "echo", []string{"x"}, &childproc.Options{Stdio: []any{childproc.Ignore, failingWriter{}, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	err = waitFor(t, c)
	if err == nil {
		t.Fatal("a failed copy was not reported")
	}
	asError(t, err)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// The caller's Writer is written from one goroutine at a time, and is done
// with by the time Wait returns.
func TestStdioWriterDoneBeforeWait(t *testing.T) {
	t.Parallel()
	w := &lockedBuffer{}
	c, err := childproc.Spawn(t.Context(), "head", []string{"-c", "500000", "/dev/zero"}, &childproc.Options{Stdio: []any{childproc.Ignore, w, w}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	n := w.Len()
	if n != 500000 {
		t.Fatalf("%d bytes", n)
	}
}

// Node: test-child-process-flush-stdio: output nobody read before exit is
// kept for later reads, in order, and Wait does not wait for the reader.
// (The output fits in the pipe: as in Node, a child whose unread output
// fills the pipe blocks and does not exit.)
func TestStdioUnreadOutputKept(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "seq", []string{"1", "10000"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	// Read a little first, then let the rest be drained.
	var first [6]byte
	if _, err := io.ReadFull(c.Stdout, first[:]); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	rest := readAll(t, c.Stdout)
	var want strings.Builder
	for i := 1; i <= 10000; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	if string(first[:])+rest != want.String() {
		t.Fatalf("read %d bytes, want %d", len(first)+len(rest), want.Len())
	}
}

// Node: stdin is destroyed on exit. Writing after the child has exited
// fails instead of blocking.
func TestStdinClosedOnExit(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "true", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stdin.Write([]byte("late")); err == nil {
		t.Fatal("a write to the stdin of an exited child succeeded")
	}
}

// Closing Stdout early: the child gets EPIPE/SIGPIPE, Wait still returns.
func TestStdoutClosedEarly(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "yes", nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	var buf [100]byte
	if _, err := io.ReadFull(c.Stdout, buf[:]); err != nil {
		t.Fatal(err)
	}
	c.Stdout.Close()
	err = waitFor(t, c)
	if c.SignalCode() != "SIGPIPE" && c.ExitCode() == 0 {
		t.Fatalf("yes survived a closed stdout: %v", err)
	}
}

// With stdio pipes to a node child: Node's own view of its stdio.
func TestStdioSeenByNode(t *testing.T) {
	t.Parallel()
	if _, err := childproc.ExecFileSync("node", []string{"--version"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}); err != nil {
		t.Skip("no node:", err)
	}
	script := `const fs=require('fs');
let s='';
for (const fd of [0,1,2,3]) { try { const st=fs.fstatSync(fd); s+=fd+':'+(st.isFIFO()?'fifo':st.isSocket()?'socket':st.isCharacterDevice()?'chr':'file')+' ' } catch(e) { s+=fd+':'+e.code+' ' } }
fs.writeSync(3, s.trim());`
	var three bytes.Buffer
	c, err := childproc.Spawn(t.Context(), "node", []string{"-e", script}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Pipe, &three}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if got := three.String(); got != "0:chr 1:fifo 2:fifo 3:fifo" {
		t.Fatalf("node sees %q", got)
	}
}

// Node: test-child-process-pipe-dataflow: one child's stdout feeds
// another's stdin through a pipe the parent hands to both and then closes.
func TestStdioPipeDataflow(t *testing.T) {
	t.Parallel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	producer, err := childproc.Spawn(t.Context(), "seq", []string{"1", "200000"}, &childproc.Options{Stdio: []any{childproc.Ignore, pw, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	consumer, err := childproc.Spawn(t.Context(), "wc", []string{"-l"}, &childproc.Options{Stdio: []any{pr, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	pr.Close()
	pw.Close()
	if out := readAll(t, consumer.Stdout); strings.TrimSpace(out) != "200000" {
		t.Fatalf("wc -l says %q", out)
	}
	if err := waitFor(t, producer); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, consumer); err != nil {
		t.Fatal(err)
	}
}

// Node: test-child-process-stdio-merge-stdouts-into-cat: two children
// write into the stdin of a third, given as an int fd.
func TestStdioMergeIntoCat(t *testing.T) {
	t.Parallel()
	cat, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	in := cat.Stdin // the pipe itself is shared, not copied
	var kids []*childproc.Child
	for _, word := range []string{"one", "two"} {
		c, err := childproc.Spawn(t.Context(), "echo", []string{word}, &childproc.Options{Stdio: []any{childproc.Ignore, in, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, c)
	}
	for _, c := range kids {
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	}
	cat.Stdin.Close()
	out := readAll(t, cat.Stdout)
	if out != "one\ntwo\n" && out != "two\none\n" {
		t.Fatalf("cat says %q", out)
	}
	if err := waitFor(t, cat); err != nil {
		t.Fatal(err)
	}
}

// Node: test-child-process-stdio-big-write-end: a big write to stdin, then
// end; the child reads it all.
func TestStdinBigWrite(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "wc", []string{"-c"}, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10 << 20
	errc := make(chan error, 1)
	go func() {
		_, err := c.Stdin.Write(make([]byte, n))
		c.Stdin.Close()
		errc <- err
	}()
	if out := readAll(t, c.Stdout); strings.TrimSpace(out) != strconv.Itoa(n) {
		t.Fatalf("wc -c says %q", out)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if err := c.Stdin.Close(); err == nil {
		t.Log("a second Close of Stdin returned nil")
	}
}

// A reader that keeps reading while the child exits and Wait drains what
// is left: every byte arrives once and in order, whichever side reads it.
func TestStdoutReadWhileDraining(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		c, err := childproc.Spawn(t.Context(), "seq", []string{"1", "30000"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 1)
		go func() {
			var all []byte
			buf := make([]byte, 1+round*97)
			for {
				n, err := c.Stdout.Read(buf)
				all = append(all, buf[:n]...)
				if err != nil {
					break
				}
			}
			got <- all
		}()
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for i := 1; i <= 30000; i++ {
			want.WriteString(strconv.Itoa(i) + "\n")
		}
		select {
		case all := <-got:
			if string(all) != want.String() {
				t.Fatalf("round %d: read %d bytes, want %d", round, len(all), want.Len())
			}
		case <-time.After(long):
			t.Fatal("the reader did not reach EOF")
		}
	}
}

// The extra socket at fd 3: writing after the child has gone fails
// (EPIPE) instead of killing the parent with SIGPIPE.
func TestStdioSocketWriteAfterExit(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.Pipe}})
	if err != nil {
		t.Fatal(err)
	}
	waitExited(t, c)
	p := c.Stdio(3)
	var werr error
	for range 100 {
		if _, werr = p.Write([]byte("x")); werr != nil {
			break
		}
	}
	if werr == nil {
		t.Fatal("writes to a socket nobody holds succeeded")
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
}

// A child sharing another child's Stdin gets a blocking descriptor: a
// writer that fills the pipe waits for room instead of failing with
// EAGAIN.
func TestStdinSharedBlocks(t *testing.T) {
	t.Parallel()
	cat, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	const size = 1 << 20
	head, err := childproc.Spawn(t.Context(), "head", []string{"-c", strconv.Itoa(size), "/dev/zero"},
		&childproc.Options{Stdio: []any{childproc.Ignore, cat.Stdin, childproc.Pipe}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let head fill both pipes
	counted := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, cat.Stdout)
		counted <- n
	}()
	var stderr bytes.Buffer
	io.Copy(&stderr, head.Stderr)
	if err := head.Wait(); err != nil {
		t.Fatalf("head: %v: %s", err, stderr.String())
	}
	cat.Stdin.Close()
	if err := cat.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := <-counted; n != size {
		t.Fatalf("cat passed on %d bytes, want %d", n, size)
	}
}

// A closed Stdin, used or not, cannot be handed to another child: the
// child would find whatever it opens next in that fd's place.
func TestStdinSharedClosed(t *testing.T) {
	t.Parallel()
	for _, used := range []bool{false, true} {
		cat, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Ignore, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		if used {
			if _, err := cat.Stdin.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		cat.Stdin.Close()
		if err := cat.Wait(); err != nil {
			t.Fatal(err)
		}
		c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: []any{childproc.Ignore, cat.Stdin, childproc.Ignore}})
		if c != nil {
			c.Wait()
			t.Fatalf("used=%v: a closed Stdin was accepted as stdio", used)
		}
		if e := wantCode(t, err, "EBADF"); e.Syscall != "dup" {
			t.Fatalf("used=%v: %#v", used, e)
		}
	}
}
