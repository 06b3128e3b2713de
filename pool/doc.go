// Package pool runs tasks on a pool of worker processes: CPU-heavy or
// crash-prone work that should use every core, run isolated, and never
// take the caller down when it crashes, hangs or leaks.
//
//	var square = pool.Register("square", func(ctx context.Context, n int) (int, error) {
//		return n * n, nil
//	})
//
//	func main() {
//		childproc.RunEntry() // a forked worker runs here and never returns
//		p, err := pool.New(square, nil)
//		...
//		n, err := p.Do(ctx, 7)
//	}
//
// A worker is a process with an IPC channel that serves the pool
// protocol (below): a Go function of the running binary (Register, run
// in forked copies of it), a Node or Python script (Script, with the
// worker side shipped in this repository), or anything a Worker's
// Start can start. Requests and responses cross the process boundary
// as JSON, through encoding/json.
//
// # What the pool guarantees
//
// Each Do returns exactly once: with the response, with the task's own
// error (*TaskError), or with the reason it could not run. A worker
// that dies or breaks the protocol fails only the tasks it was running
// (a *WorkerError that carries its exit and the tail of its stderr),
// and is replaced; Options.Retries runs those tasks again elsewhere.
// A task that runs past Options.TaskTimeout fails with ErrTimeout and
// its worker is stopped (Child.KillSignal, then SIGKILL) and replaced;
// the timeout runs from the moment the task reaches a worker. Workers
// are recycled after MaxTasks tasks, after MaxAge, and past MaxMemory
// bytes of resident memory, always between tasks and with the
// replacement started first; IdleTimeout stops idle workers down to
// MinSize. Workers that keep failing to start put the pool in a crash
// loop: starts go on with back-off, and tasks fail with ErrCrashLoop
// until one succeeds. Workers are children of this process and die with
// it, however it ends (see childproc.Options.SurviveParent). Close and
// Shutdown leave no process, file descriptor or goroutine behind.
//
// # Scheduling
//
// Each worker runs up to Options.Concurrency tasks at once; a task goes
// to the ready worker running the fewest. Tasks that find no free
// worker wait in a FIFO queue of Options.MaxQueue tasks; past that, Do
// waits for room (FIFO too), bounded by its context, or fails at once
// with ErrQueueFull when Options.FailWhenFull is set.
//
// # The protocol
//
// Pool and worker exchange JSON objects over Node's IPC channel (the
// "json" serialization: one JSON text per line, on the socket whose fd
// is in NODE_CHANNEL_FD; process.send and process.on('message') in
// Node). Each pool message has a string field "pool" naming its kind;
// any other message, and any kind not listed here, is ignored by both
// sides.
//
//	worker → pool  {"pool":"ready","protocol":1}          it takes tasks from now on
//	pool → worker  {"pool":"task","id":7,"value":V}       run the task V; ids are integers below 2^53
//	worker → pool  {"pool":"result","id":7,"value":R}     task 7 returned R
//	worker → pool  {"pool":"error","id":7,"error":{"message":M,"name":N,"stack":S}}  task 7 failed
//	pool → worker  {"pool":"cancel","id":7}               task 7's caller gave up: abort it, still answer
//	worker → pool  {"pool":"recycle","reason":T}          replace me once my tasks are done
//
// Several tasks may be in flight on one worker (up to Concurrency), and
// their answers may come in any order; a task's cancel always comes
// after the task. The pool stops a worker on
// purpose by closing the channel: the worker exits then. A worker that
// answers a task it was not given, or twice, or sends a pool message of
// the wrong form, breaks the protocol: its tasks fail with a
// *WorkerError wrapping ErrProtocol and it is replaced.
package pool
