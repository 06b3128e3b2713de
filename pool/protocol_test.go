//go:build linux

package pool_test

// The worker side of the pool protocol for other languages
// (node/worker.js, python/childproc_pool.py), spoken to directly over the
// child's channel with real node and python3, and the fault workers in
// testdata that the pool's own tests use.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// protoWait bounds every wait for a message or an exit: generous, the
// machine is loaded.
const protoWait = 20 * time.Second

// A protoLang is a way of running the protocol tests' worker.
type protoLang struct {
	name   string
	module string
	args   []string
	needs  string // the interpreter that must be on PATH
}

var protoLangs = []protoLang{
	{name: "node", module: "testdata/proto.js", needs: "node"},
	{name: "python", module: "testdata/proto.py", needs: "python3"},
	{name: "python-async", module: "testdata/proto.py", args: []string{"async"}, needs: "python3"},
}

// ext is the extension of the language's scripts.
func (l protoLang) ext() string { return filepath.Ext(l.module) }

// scriptLangs are the languages, one way of running each.
var scriptLangs = protoLangs[:2]

// forEachLang runs f, in parallel, once for each way of running proto.
func forEachLang(t *testing.T, f func(t *testing.T, l protoLang)) { forEach(t, protoLangs, f) }

// forEach runs f, in parallel, once for each of langs.
func forEach(t *testing.T, langs []protoLang, f func(t *testing.T, l protoLang)) {
	for _, l := range langs {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			need(t, l.needs)
			f(t, l)
		})
	}
}

func need(t testing.TB, program string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		t.Skipf("no %s on PATH", program)
	}
}

// wireMsg is any message of the protocol, as a worker sends it.
type wireMsg struct {
	Pool     string          `json:"pool"`
	ID       *int64          `json:"id"`
	Value    json.RawMessage `json:"value"`
	Error    *wireError      `json:"error"`
	Protocol int             `json:"protocol"`
	Reason   *string         `json:"reason"`
}

type wireError struct {
	Message string  `json:"message"`
	Name    string  `json:"name"`
	Stack   *string `json:"stack"` // nil when missing
}

type task struct {
	Pool  string `json:"pool"`
	ID    int64  `json:"id"`
	Value any    `json:"value"`
}

type cancelMsg struct {
	Pool string `json:"pool"`
	ID   int64  `json:"id"`
}

func taskMsg(id int64, value any) task { return task{Pool: "task", ID: id, Value: value} }

func cancelTask(id int64) cancelMsg { return cancelMsg{Pool: "cancel", ID: id} }

// worker is one worker process under test.
type worker struct {
	t      testing.TB
	c      *childproc.Child
	stdout bytes.Buffer // read them only after Wait
	stderr bytes.Buffer
}

// startWorker forks module (a script, run by node or by its #! line) with
// stdout and stderr captured; cleanup kills it if it still runs, and logs
// its stderr when the test failed.
func startWorker(t testing.TB, module string, args ...string) *worker {
	t.Helper()
	w := &worker{t: t}
	c, err := childproc.Fork(context.Background(), module, args, &childproc.Options{
		Stdio: []any{childproc.Ignore, &w.stdout, &w.stderr, childproc.IPC},
	})
	if err != nil {
		t.Fatalf("fork %s: %v", module, err)
	}
	w.c = c
	t.Cleanup(func() {
		c.Kill(syscall.SIGKILL)
		c.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", module, w.stderr.Bytes())
		}
	})
	return w
}

// startReady starts module and checks that its first message is ready.
func startReady(t testing.TB, module string, args ...string) *worker {
	t.Helper()
	w := startWorker(t, module, args...)
	m := w.recv()
	if m.Pool != "ready" || m.Protocol != 1 {
		t.Fatalf("first message %+v, want ready with protocol 1", m)
	}
	return w
}

func (w *worker) send(msg any) {
	w.t.Helper()
	if err := w.c.Send(msg); err != nil {
		w.t.Fatalf("send %+v: %v", msg, err)
	}
}

// recv returns the next message, failing the test after protoWait.
func (w *worker) recv() wireMsg {
	w.t.Helper()
	m, err := w.recvRaw(protoWait)
	if err != nil {
		w.t.Fatalf("recv: %v", err)
	}
	var msg wireMsg
	if err := m.Decode(&msg); err != nil {
		w.t.Fatalf("decode %s: %v", m.Bytes(), err)
	}
	return msg
}

func (w *worker) recvRaw(within time.Duration) (ipc.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return w.c.Recv(ctx)
}

// quiet checks that nothing arrives for a while.
func (w *worker) quiet(within time.Duration) {
	w.t.Helper()
	if m, err := w.recvRaw(within); err == nil {
		w.t.Fatalf("unexpected message %s", m.Bytes())
	}
}

// call sends one task and returns the answer, which must be for it.
func (w *worker) call(id int64, value any) wireMsg {
	w.t.Helper()
	w.send(taskMsg(id, value))
	m := w.recv()
	if m.ID == nil || *m.ID != id {
		w.t.Fatalf("answer %+v to task %d", m, id)
	}
	return m
}

// result calls and returns the task's result, which must not be an error.
func (w *worker) result(id int64, value any) string {
	w.t.Helper()
	m := w.call(id, value)
	if m.Pool != "result" {
		w.t.Fatalf("task %d %v: %+v, want a result", id, value, m)
	}
	return string(m.Value)
}

// taskError calls and returns the task's error, which must be one.
func (w *worker) taskError(id int64, value any) wireError {
	w.t.Helper()
	m := w.call(id, value)
	if m.Pool != "error" || m.Error == nil {
		w.t.Fatalf("task %d %v: %+v (value %s), want an error", id, value, m, m.Value)
	}
	return *m.Error
}

// exit waits for the worker to end, at most within.
func (w *worker) exit(within time.Duration) error {
	w.t.Helper()
	select {
	case <-w.c.Exited():
	case <-time.After(within):
		w.t.Fatalf("still running %v later", within)
	}
	return w.c.Wait()
}

type op map[string]any

func TestProtocolResults(t *testing.T) {
	forEachLang(t, func(t *testing.T, l protoLang) {
		w := startReady(t, l.module, l.args...)
		if got := w.result(1, op{"op": "add", "a": 2, "b": 40}); got != "42" {
			t.Errorf("add: %s", got)
		}
		if got := w.result(2, op{"op": "undefined"}); got != "null" {
			t.Errorf("a handler returning nothing: %s, want null", got)
		}
		values := []string{`null`, `true`, `0`, `-1.5`, `9007199254740991`, `""`, `"\u2028 é 😀 \n \"q\""`,
			`[1,[2,[3]],{}]`, `{"k":{"deep":[null,false]}}`, `"` + strings.Repeat("x", 1<<20) + `"`}
		for i, v := range values {
			got := w.result(int64(10+i), op{"op": "echo", "value": json.RawMessage(v)})
			if !jsonEqual(t, got, v) {
				t.Errorf("echo %.80s: %.80s", v, got)
			}
		}
		// Ids go up to 2^53 and come back exactly.
		if got := w.result(1<<53, op{"op": "id"}); got != "9007199254740992" {
			t.Errorf("the handler saw id %s, want 9007199254740992", got)
		}
	})
}

// A task and a result near the channel's 64 MiB limit cross in a few
// seconds: a worker that copied the whole line so far on each read would
// take minutes.
func TestProtocolBigMessage(t *testing.T) {
	const size = 48 << 20
	forEachLang(t, func(t *testing.T, l protoLang) {
		w := startProto(t, l)
		start := time.Now()
		got := w.result(1, op{"op": "echo", "value": strings.Repeat("x", size)})
		if len(got) != size+2 {
			t.Errorf("echo of %d bytes: %d", size, len(got))
		}
		t.Logf("%v for the round trip", time.Since(start))
	})
}

func jsonEqual(t *testing.T, a, b string) bool {
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%.80s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%.80s: %v", b, err)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func TestProtocolErrors(t *testing.T) {
	forEachLang(t, func(t *testing.T, l protoLang) {
		file := strings.TrimPrefix(l.module, "testdata/")
		w := startProto(t, l)
		e := w.taskError(1, op{"op": "throw", "message": "bad input"})
		if e.Message != "bad input" || e.Name != "TypeError" || e.Stack == nil ||
			!strings.Contains(*e.Stack, "bad input") || !strings.Contains(*e.Stack, file) {
			t.Errorf("thrown TypeError: %+v stack %q", e, deref(e.Stack))
		}
		if e := w.taskError(2, op{"op": "throw-custom"}); e.Name != "CustomError" || e.Message != "custom" {
			t.Errorf("a subclass of the language's error class: %+v", e)
		}
		// The worker lives on.
		if got := w.result(3, op{"op": "add", "a": 1, "b": 1}); got != "2" {
			t.Errorf("after errors: %s", got)
		}
	})
}

// startProto starts the language's proto worker.
func startProto(t *testing.T, l protoLang) *worker { return startReady(t, l.module, l.args...) }

func deref(s *string) string {
	if s == nil {
		return "<missing>"
	}
	return *s
}

func TestProtocolNodeThrows(t *testing.T) {
	need(t, "node")
	w := startReady(t, "testdata/proto.js")
	if e := w.taskError(1, op{"op": "sync-throw", "message": "early"}); e.Name != "RangeError" || e.Message != "early" || !strings.Contains(deref(e.Stack), "RangeError: early") {
		t.Errorf("thrown before the first await: %+v %q", e, deref(e.Stack))
	}
	if e := w.taskError(2, op{"op": "throw-value"}); e.Name != "number" || e.Message != "42" || deref(e.Stack) != "" {
		t.Errorf("throw 42: %+v stack %q", e, deref(e.Stack))
	}
}

// A result JSON cannot encode fails its task, and only its task.
func TestProtocolUnencodableResult(t *testing.T) {
	cases := []struct {
		lang protoLang
		op   string
		name string
	}{
		{protoLangs[0], "bigint", "TypeError"},
		{protoLangs[0], "cycle", "TypeError"},
		{protoLangs[1], "unencodable", "TypeError"},
		{protoLangs[1], "nan", "ValueError"},
		{protoLangs[2], "unencodable", "TypeError"},
		{protoLangs[2], "nan", "ValueError"},
	}
	for _, c := range cases {
		t.Run(c.lang.name+"/"+c.op, func(t *testing.T) {
			t.Parallel()
			need(t, c.lang.needs)
			w := startProto(t, c.lang)
			if e := w.taskError(1, op{"op": c.op}); e.Name != c.name || e.Message == "" {
				t.Errorf("%s: %+v, want a %s", c.op, e, c.name)
			}
			if got := w.result(2, op{"op": "add", "a": 1, "b": 2}); got != "3" {
				t.Errorf("after it: %s", got)
			}
		})
	}
}

// 50 tasks in flight run at the same time (each waits until all 50 have
// started), sent in random order, some of them failing, and every answer
// goes to its own id.
func TestProtocolConcurrentTasks(t *testing.T) {
	const n = 50
	forEachLang(t, func(t *testing.T, l protoLang) {
		w := startProto(t, l)
		ids := rand.Perm(n + 20)
		for _, i := range ids {
			switch {
			case i < n:
				w.send(taskMsg(int64(i), op{"op": "barrier", "n": n}))
			case i%2 == 0:
				w.send(taskMsg(int64(i), op{"op": "throw", "message": strconv.Itoa(i)}))
			default:
				w.send(taskMsg(int64(i), op{"op": "add", "a": i, "b": 1}))
			}
		}
		seen := map[int64]bool{}
		for range ids {
			m := w.recv()
			if m.ID == nil || seen[*m.ID] {
				t.Fatalf("answer %+v: no id, or a second one", m)
			}
			i := *m.ID
			seen[i] = true
			switch {
			case i < n:
				if m.Pool != "result" || string(m.Value) != strconv.FormatInt(i, 10) {
					t.Errorf("barrier task %d: %+v %s", i, m, m.Value)
				}
			case i%2 == 0:
				if m.Pool != "error" || m.Error.Message != strconv.FormatInt(i, 10) {
					t.Errorf("throwing task %d: %+v", i, m)
				}
			default:
				if m.Pool != "result" || string(m.Value) != strconv.FormatInt(i+1, 10) {
					t.Errorf("add task %d: %+v %s", i, m, m.Value)
				}
			}
		}
	})
}

// Cancel reaches the handler's signal or event; the worker still answers,
// AbortError or a result, exactly once; an unknown id is ignored.
func TestProtocolCancel(t *testing.T) {
	forEachLang(t, func(t *testing.T, l protoLang) {
		w := startProto(t, l)
		// Cancelled while it runs: a round trip after the task proves it started.
		w.send(taskMsg(1, op{"op": "wait-cancel"}))
		w.result(2, op{"op": "add", "a": 1, "b": 1})
		w.send(cancelTask(1))
		if m := w.recv(); m.Pool != "error" || *m.ID != 1 || m.Error.Name != "AbortError" {
			t.Errorf("cancelled task: %+v", m)
		}
		// Cancelled at once, before its handler may have run.
		w.send(taskMsg(3, op{"op": "wait-cancel"}))
		w.send(cancelTask(3))
		if m := w.recv(); m.Pool != "error" || *m.ID != 3 || m.Error.Name != "AbortError" {
			t.Errorf("task cancelled at once: %+v", m)
		}
		if l.name != "python-async" { // there, cancellation may cut the handler short before it looks
			w.send(taskMsg(4, op{"op": "finish-anyway"}))
			w.result(5, op{"op": "add", "a": 1, "b": 1})
			w.send(cancelTask(4))
			if m := w.recv(); m.Pool != "result" || *m.ID != 4 || string(m.Value) != `"finished anyway"` {
				t.Errorf("a handler that finishes once cancelled: %+v %s", m, m.Value)
			}
		}
		// Unknown ids, a second cancel, then nothing more but the next answer.
		w.send(cancelTask(999))
		w.send(cancelTask(1))
		if got := w.result(6, op{"op": "add", "a": 2, "b": 2}); got != "4" {
			t.Errorf("after cancels of unknown ids: %s", got)
		}
		w.quiet(200 * time.Millisecond)
	})
}

// Python's async handlers: a cancelled coroutine that catches the
// CancelledError returns its result; one that raises AbortError itself.
func TestProtocolPythonAsyncCancel(t *testing.T) {
	need(t, "python3")
	w := startReady(t, "testdata/proto.py", "async")
	w.send(taskMsg(1, op{"op": "finish-anyway"}))
	w.result(2, op{"op": "add", "a": 1, "b": 1})
	w.send(cancelTask(1))
	if m := w.recv(); m.Pool != "result" || *m.ID != 1 || string(m.Value) != `"finished anyway"` {
		t.Errorf("a coroutine that catches its cancellation: %+v %s", m, m.Value)
	}
}

// Messages that are not the pool's, of unknown kinds, or tasks that
// cannot be answered (no integer id, an id already running) are ignored.
func TestProtocolIgnoresForeignMessages(t *testing.T) {
	forEachLang(t, func(t *testing.T, l protoLang) {
		w := startProto(t, l)
		w.send(taskMsg(1, op{"op": "wait-cancel"}))
		for _, m := range []any{
			"a string", 42, nil, []int{1}, map[string]any{"hello": 1},
			map[string]any{"pool": "bogus", "id": 1}, map[string]any{"pool": 7},
			map[string]any{"pool": "task", "id": "seven", "value": op{"op": "add", "a": 1, "b": 1}},
			map[string]any{"pool": "task", "id": 1.5, "value": op{"op": "add", "a": 1, "b": 1}},
			map[string]any{"pool": "task", "value": op{"op": "add", "a": 1, "b": 1}},
			taskMsg(1, op{"op": "add", "a": 1, "b": 1}), // id 1 is running
		} {
			w.send(m)
		}
		if got := w.result(2, op{"op": "add", "a": 3, "b": 4}); got != "7" {
			t.Errorf("after foreign messages: %s", got)
		}
		w.send(cancelTask(1))
		if m := w.recv(); m.Pool != "error" || *m.ID != 1 || m.Error.Name != "AbortError" {
			t.Errorf("task 1 after a second task 1 was sent: %+v", m)
		}
		w.quiet(200 * time.Millisecond)
	})
}

// recycle(reason) sends one recycle message, whatever the number of calls.
func TestProtocolRecycle(t *testing.T) {
	forEachLang(t, func(t *testing.T, l protoLang) {
		w := startProto(t, l)
		w.send(taskMsg(1, op{"op": "recycle", "reason": "cache too big"}))
		if m := w.recv(); m.Pool != "recycle" || m.Reason == nil || *m.Reason != "cache too big" {
			t.Errorf("first message after recycle(): %+v", m)
		}
		if m := w.recv(); m.Pool != "result" || *m.ID != 1 {
			t.Errorf("the task's answer: %+v", m)
		}
		w.result(2, op{"op": "recycle", "reason": "again"})
		w.quiet(200 * time.Millisecond)
	})
}

// A handler that writes to stdout breaks nothing: the protocol is on the
// channel.
func TestProtocolHandlerPrints(t *testing.T) {
	forEachLang(t, func(t *testing.T, l protoLang) {
		w := startProto(t, l)
		for i := range 20 {
			if got := w.result(int64(i), op{"op": "print", "text": `{"pool":"result","id":99,"value":1}`}); got != `"printed"` {
				t.Fatalf("print: %s", got)
			}
		}
		w.c.Disconnect()
		if err := w.exit(protoWait); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(w.stdout.String(), `{"pool":"result","id":99,"value":1}`+"\n"); got != 20 {
			t.Errorf("stdout has %d of 20 lines: %q", got, w.stdout.String())
		}
	})
}

// Closing the channel ends the worker at once with status 0, and within
// the grace period when a handler ignores its cancellation and keeps the
// process busy.
func TestProtocolDisconnectExits(t *testing.T) {
	forEachLang(t, func(t *testing.T, l protoLang) {
		for _, busy := range []bool{false, true} {
			w := startProto(t, l)
			w.result(1, op{"op": "add", "a": 1, "b": 1})
			bound := 5 * time.Second
			if busy {
				w.send(taskMsg(2, op{"op": "linger"}))
				w.result(3, op{"op": "add", "a": 1, "b": 1})
				bound = 10 * time.Second // the grace is a second
			}
			start := time.Now()
			w.c.Disconnect()
			if err := w.exit(bound); err != nil || w.stderr.Len() > 0 {
				t.Errorf("busy %v: %v, stderr %q", busy, err, w.stderr.Bytes())
			}
			t.Logf("busy %v: exited %v after the disconnect", busy, time.Since(start))
		}
	})
}

// Without a channel serve fails loudly instead of waiting forever.
func TestProtocolNoChannel(t *testing.T) {
	for _, l := range scriptLangs {
		t.Run(l.name, func(t *testing.T) {
			need(t, l.needs)
			argv := []string{l.module}
			if l.name == "node" {
				argv = []string{"node", l.module}
			}
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "no IPC channel") {
				t.Errorf("without a channel: %v\n%s", err, out)
			}
		})
	}
}

// Bytes on the channel that are not a message are the protocol's failure:
// the worker says so on stderr and exits non-zero.
func TestProtocolMalformedInputExits(t *testing.T) {
	for _, l := range protoLangs {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			need(t, l.needs)
			fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			ours, theirs := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
			defer ours.Close()
			var stderr bytes.Buffer
			argv := append([]string{l.module}, l.args...)
			if l.name == "node" {
				argv = append([]string{"node"}, argv...)
			}
			c, err := childproc.Spawn(context.Background(), argv[0], argv[1:], &childproc.Options{
				Stdio: []any{childproc.Ignore, childproc.Ignore, &stderr, theirs},
				Env:   append(os.Environ(), "NODE_CHANNEL_FD=3"),
			})
			theirs.Close()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Kill(syscall.SIGKILL)
			line := make([]byte, 64)
			if n, err := ours.Read(line); err != nil || !strings.Contains(string(line[:n]), `"ready"`) {
				t.Fatalf("ready: %q %v", line[:n], err)
			}
			io.WriteString(ours, "this is not JSON\n")
			select {
			case <-c.Exited():
			case <-time.After(protoWait):
				t.Fatal("still running")
			}
			err = c.Wait()
			if c.ExitCode() <= 0 || stderr.Len() == 0 {
				t.Errorf("after malformed input: %v, stderr %q", err, stderr.String())
			}
		})
	}
}

// The fault workers do what their comment line says.

func TestFaultWorkersAtStart(t *testing.T) {
	forEach(t, scriptLangs, func(t *testing.T, l protoLang) {
		for _, c := range []struct {
			name   string
			status int
		}{
			{"exit_at_start", 3},
			{"throw_at_start", 1},
		} {
			w := startWorker(t, "testdata/"+c.name+l.ext())
			if m, err := w.recvRaw(protoWait); err == nil {
				t.Errorf("%s sent %s", c.name, m.Bytes())
			}
			w.exit(protoWait)
			if w.c.ExitCode() != c.status || !strings.Contains(w.stderr.String(), c.name+": ") {
				t.Errorf("%s: status %d, stderr %q", c.name, w.c.ExitCode(), w.stderr.String())
			}
		}
	})
}

func TestFaultWorkerAdd(t *testing.T) {
	for _, module := range []string{"add.js", "add.mjs", "add.py", "add_async.py", "crash.js", "crash.py", "hang.js", "hang.py", "leak.js", "leak.py", "bad.js", "bad.py"} {
		t.Run(module, func(t *testing.T) {
			t.Parallel()
			need(t, map[bool]string{true: "python3", false: "node"}[strings.HasSuffix(module, ".py")])
			w := startReady(t, "testdata/"+module)
			if got := w.result(1, op{"a": 20, "b": 22}); got != "42" {
				t.Errorf("add: %s", got)
			}
		})
	}
}

func TestFaultWorkerCrash(t *testing.T) {
	forEach(t, scriptLangs, func(t *testing.T, l protoLang) {
		w := startReady(t, "testdata/crash"+l.ext())
		w.send(taskMsg(1, op{"crash": true}))
		if m, err := w.recvRaw(protoWait); err == nil {
			t.Errorf("answered %s", m.Bytes())
		}
		w.exit(protoWait)
		if w.c.ExitCode() != 7 || !strings.Contains(w.stderr.String(), "crash: exiting on task with pid "+strconv.Itoa(w.c.Pid())) {
			t.Errorf("status %d, stderr %q", w.c.ExitCode(), w.stderr.String())
		}
	})
}

func TestFaultWorkerHang(t *testing.T) {
	forEach(t, scriptLangs, func(t *testing.T, l protoLang) {
		w := startReady(t, "testdata/hang"+l.ext(), "--ignore-term")
		w.send(taskMsg(1, op{"hang": true}))
		w.send(cancelTask(1))
		w.quiet(500 * time.Millisecond)
		w.c.Kill(syscall.SIGTERM)
		if got := w.result(2, op{"a": 1, "b": 2}); got != "3" { // SIGTERM was ignored
			t.Errorf("after SIGTERM: %s", got)
		}
		w.c.Kill(syscall.SIGKILL)
		w.exit(protoWait)
		if l.name == "node" {
			b := startReady(t, "testdata/hang.js")
			b.send(taskMsg(1, op{"hang": "busy"}))
			b.send(taskMsg(2, op{"a": 1, "b": 2}))
			b.quiet(500 * time.Millisecond) // the event loop is blocked
			b.c.Kill(syscall.SIGTERM)
			if b.exit(protoWait); b.c.SignalCode() != "SIGTERM" {
				t.Errorf("busy worker after SIGTERM: %q", b.c.SignalCode())
			}
		}
	})
}

func TestFaultWorkerLeak(t *testing.T) {
	const step = 32 << 20
	forEach(t, scriptLangs, func(t *testing.T, l protoLang) {
		w := startReady(t, "testdata/leak"+l.ext())
		var got []struct{ Kept, Rss int64 }
		for i := range 3 {
			var r struct{ Kept, Rss int64 }
			if err := json.Unmarshal([]byte(w.result(int64(i), op{"leak": step})), &r); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if got[2].Kept != 3*step || got[2].Rss-got[0].Rss < step*3/2 {
			t.Errorf("after three leaks of %d: %+v", step, got)
		}
	})
}

func TestFaultWorkerBad(t *testing.T) {
	forEach(t, scriptLangs, func(t *testing.T, l protoLang) {
		module := "testdata/bad" + l.ext()
		w := startReady(t, module)
		w.send(taskMsg(5, op{"bad": "unknown-id"}))
		if m := w.recv(); m.Pool != "result" || *m.ID != 1000005 {
			t.Errorf("unknown-id: %+v", m)
		}
		w.send(taskMsg(6, op{"bad": "duplicate"}))
		for _, want := range []string{`"first"`, `"second"`} {
			if m := w.recv(); m.Pool != "result" || *m.ID != 6 || string(m.Value) != want {
				t.Errorf("duplicate: %+v %s, want %s", m, m.Value, want)
			}
		}
		w.send(taskMsg(7, op{"bad": "no-id"}))
		if m := w.recv(); m.Pool != "result" || m.ID != nil {
			t.Errorf("no-id: %+v", m)
		}
		w.send(taskMsg(8, op{"bad": "foreign"}))
		for _, want := range []string{`{"hello":"not a pool message"}`, `{"pool":"bogus","id":8}`, `{"pool":"result","id":8,"value":"after foreign"}`} {
			if m, err := w.recvRaw(protoWait); err != nil || !jsonEqual(t, m.String(), want) {
				t.Errorf("foreign: %s %v, want %s", m.Bytes(), err, want)
			}
		}
		if got := w.result(9, op{"bad": "huge", "size": 3 << 20}); len(got) != 3<<20+2 {
			t.Errorf("huge: %d bytes", len(got))
		}
		w.send(taskMsg(10, op{"bad": "malformed"}))
		_, err := w.recvRaw(protoWait)
		if pe := (*ipc.ProtocolError)(nil); !errors.As(err, &pe) {
			t.Errorf("malformed: %v, want a *ipc.ProtocolError", err)
		}
	})
}

// BenchmarkWorkerRoundTrip: tasks {a, b} -> a + b through each helper,
// pipelined with 64 in flight, from one Go parent speaking the protocol on
// the channel (no pool): the worker side's throughput. The -raw cases
// answer without the helper (testdata/raw_echo.*), the floor. worker-µs/task
// is the CPU time the worker process spent per task, steadier than the
// rate on a loaded machine.
func BenchmarkWorkerRoundTrip(b *testing.B) {
	for _, c := range []struct{ name, module, needs string }{
		{"node", "testdata/add.js", "node"},
		{"node-raw", "testdata/raw_echo.js", "node"},
		{"python", "testdata/add.py", "python3"},
		{"python-async", "testdata/add_async.py", "python3"},
		{"python-raw", "testdata/raw_echo.py", "python3"},
	} {
		b.Run(c.name, func(b *testing.B) {
			need(b, c.needs)
			w := startReady(b, c.module)
			pipeline(b, w, 64)
			w.c.Disconnect()
			w.c.Wait()
		})
	}
}

// pipeline runs b.N tasks with window in flight and checks each answer.
func pipeline(b *testing.B, w *worker, window int) {
	slots := make(chan struct{}, window)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	n := b.N
	cpu0 := procCPU(b, w.c.Pid())
	b.ResetTimer()
	go func() {
		defer wg.Done()
		buf := make([]byte, 0, 64)
		for i := range n {
			slots <- struct{}{}
			buf = append(buf[:0], `{"pool":"task","id":`...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, `,"value":{"a":`...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, `,"b":1}}`...)
			if err := w.c.Send(json.RawMessage(buf)); err != nil {
				errc <- err
				return
			}
		}
	}()
	ctx := context.Background()
	var m struct {
		ID    int64 `json:"id"`
		Value int64 `json:"value"`
	}
	for range n {
		msg, err := w.c.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		<-slots
		if err := msg.Decode(&m); err != nil || m.Value != m.ID+1 {
			b.Fatalf("%s: %v", msg.Bytes(), err)
		}
	}
	b.StopTimer()
	cpu := procCPU(b, w.c.Pid()) - cpu0
	wg.Wait()
	select {
	case err := <-errc:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "worker-µs/task")
}

// procCPU returns the user and system time process pid has used.
func procCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's closing parenthesis; utime and
	// stime are the 14th and 15th of the whole line, in clock ticks
	// (100 a second on Linux).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
