// Package cluster spreads the tasks of a pool over many processes and
// machines through a NATS JetStream server: the submitter's Pool has
// the local pool's Do, Map, Shutdown, Close and Stats, and each worker
// process runs the tasks with Serve, on a local *pool.Pool of its own.
// With no NATS server at hand, StartServer runs one inside the process.
//
//	// The submitter.
//	srv, err := cluster.StartServer(nil) // or nc, err := cluster.Connect("nats://host:4222", nats.UserCredentials(file))
//	nc, err := srv.Connect()
//	p, err := cluster.New[int, int](nc, "square", nil)
//	n, err := p.Do(ctx, 7)
//
//	// Each worker process, on any machine that reaches the server.
//	local, err := pool.New(square, nil)
//	nc, err := cluster.ConnectLocal("") // the embedded server of this machine's user
//	err = cluster.Serve(ctx, nc, "square", local, nil)
//
// This package is the only one of the module that imports NATS: the
// core package, ipc and pool do not, and a program that does not
// import cluster never compiles (nor, with module graph pruning,
// downloads) nats.go or nats-server.
//
// # Streams and subjects
//
// A pool named N (letters, digits, '-' and '_') lives in two streams,
// made by the first New or Serve that finds them missing:
//
//	CHILDPROC_N_TASKS    subjects childproc.N.task.B.I     work-queue retention: a task stays until a worker acks it
//	CHILDPROC_N_RESULTS  subjects childproc.N.result.B.I   one message kept per subject, for Options.ResultTTL
//	                              childproc.N.failed.B.I   the last failure of a task that will run again
//	                              childproc.N.dead.B.I     dead letters: the task and its last error
//
// and, not stored, childproc.N.cancel.B.I: a Pool gave up a task of its
// own batch, whose handler is cancelled on the worker that runs it
// (the task is then terminated; see Stopping). B is the task's batch and I its index
// in the batch. A task's id is "B.I"; its subject is also its
// Nats-Msg-Id, so that a publish repeated after a lost acknowledgement
// (a reconnect, a restarted submitter) is stored once. Every worker of N pulls from one durable consumer,
// CHILDPROC_N, whose MaxAckPending (Options.MaxAckPending) bounds the
// tasks running on all the workers together.
//
// The results of Do and Map (a Pool's own batch) go straight to their
// submitter: the task's header Childproc-Reply names the Pool's inbox,
// the worker sends the result there as a request, and the Pool confirms
// it; only a result that is not confirmed within 2 seconds (the
// submitter is away or reconnecting) is stored in the results stream,
// where the Pool finds it. The results of a durable batch are always
// stored.
//
// A task's message is its request as JSON, with the header
// Childproc-Task ("1", the protocol's version) and the headers
// Childproc-Max-Deliver and Childproc-Retries carrying the
// submitter's Options. A result's message is the response as JSON, or
// with the header Childproc-Error ("task", "worker", "timeout",
// "dead" or "bad") an error as JSON: {"message","name","stack","pid",
// "stderr","deliveries"}. A message on the task subjects without the
// Childproc-Task header, or whose subject or body is not a task's, is
// terminated (a JetStream Term, with the reason) and never reaches a
// handler; one that is ours but cannot be decoded is also answered
// with an error, so that its Do returns.
//
// # Delivery
//
// JetStream delivers each task at least once; the Pool makes it exactly
// once as its caller sees it: a Do returns once, and Map yields one
// result for each request, whatever number of results arrive for a
// task (the later ones are dropped and counted in Stats.Duplicates).
//
// A worker signals a running task as in progress every AckWait/3, so
// that a task may run for as long as it needs, yet one whose worker
// died, froze or lost the network is delivered again, to any worker,
// about Options.AckWait after the worker's last sign of life. A worker
// acks a task only once its result is handed over: confirmed by the
// submitter, or stored by the server. A delivery that fails for the worker's sake (its
// local worker process died under the task, *pool.WorkerError, or ran
// past the local pool's TaskTimeout) records its error and is delivered
// again; the delivery after Options.MaxDeliver of them is not run: it
// becomes a dead letter, whose result is a *DeadLetterError carrying
// the last error, and the other tasks are unaffected. A task's own
// error (*pool.TaskError, its handler returned or threw) is its result
// and is not run again, unless Options.TaskRetries asks for that.
//
// # Stopping
//
// A Pool that gives tasks of its own batch up (Close, a Map stopped
// early or whose ctx ended, a Do whose ctx ended) withdraws them in
// this order: it submits no more, waits for the server to have stored
// the tasks it published, removes every one of them from the queue,
// and only then sends their cancellations. So no worker slot that a
// cancelled task frees takes one of the others: none of the tasks still
// queued at the stop starts. A task that a worker had already fetched
// is either cancelled while it runs, or not run at all: a worker
// remembers for a minute the cancellations of tasks that do not run
// there, and terminates without running a task whose cancellation came
// before it (one that was on its way to the worker at the stop); it
// remembers at most 32768 of them, forgetting the oldest first, so that
// a flood of cancellations holds a few MiB of it at most.
// Durable batches are not withdrawn: their tasks go on.
//
// The cancel subjects are not authenticated: any client that may
// publish to childproc.N.cancel.> cancels the tasks it names, of any
// batch, durable ones too (a durable task cancelled so is terminated
// without a result, and its MapBatch waits for it until its ctx ends;
// a later MapBatch of the same batch submits it again). Give such
// clients permissions on those subjects only to the submitters.
//
// # Duplicate executions
//
// A task runs more than once when its worker ran it but the ack did not
// reach the server in time: the worker was killed, frozen or cut off
// after its handler returned, or the network stalled for longer than
// AckWait. Then another worker runs the task again, and both results
// may be published; the caller sees one of them (the first to arrive).
// A redelivered task whose result is already stored (a durable batch's,
// or one its submitter did not confirm) is acked without running again. A handler whose effects must happen once
// makes itself idempotent with the task's id, which is stable across
// deliveries and across a restarted submitter's batch: ServeFunc's
// handlers read it with TaskID; the requests given to Serve's local
// pool (which runs them in other processes) carry an id of their own,
// such as the index of a job. Typical idempotent handlers write their
// output to a file named after the id through a rename, or record the
// id in the same transaction as their effect.
//
// # Durable batches
//
// MapBatch names its batch: the tasks and their results stay in
// JetStream under that name, so a submitter that crashed can run the
// same MapBatch again (same name, same requests in the same order) and
// collect, in order, the results that are stored, while only the tasks
// that were never submitted are submitted (those still queued or
// running keep their place). Batch tells which indexes of a batch have
// a result and which are queued; DeleteBatch removes a batch. Do and
// Map use a batch of their Pool's own, whose results are purged when
// the Pool closes.
//
// # The embedded server
//
// StartServer runs nats-server in the process, with JetStream's file
// store in a directory (DefaultDir: os.UserCacheDir()/childproc/cluster,
// so ~/.cache/childproc/cluster on Linux), listening on 127.0.0.1 at a
// random port unless told otherwise. Clients must give a token: one is
// generated the first time and kept in the file "token" of that
// directory, readable by its owner only (mode 0600, in a directory of
// mode 0700); the file "url" there holds the running server's address.
// ConnectLocal reads both, so that other processes of the same user on
// the same machine join the server, and nobody else can. A client
// without the token, or with a wrong one, is refused.
//
// # Connections
//
// New and Serve take a *nats.Conn, made by Connect (any NATS server or
// cluster, with nats.go's options: credentials, TLS, ...), ConnectLocal
// or Server.Connect; those three make it reconnect for ever, so a
// restarted server is found again by itself: submitters publish again
// what was not acknowledged, and workers go on pulling.
package cluster
