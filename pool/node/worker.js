'use strict';
// The worker side of childproc's pool protocol, for Node.js (written for 18
// or later, tested with 20).
// No dependencies: copy this file next to your worker, or require it from
// the childproc checkout.
//
//   const { serve } = require('./worker.js');   // from .mjs: import { serve } from './worker.js'
//   serve(async (req, { signal, id }) => req.a + req.b);
//
// serve(handler) answers the pool's tasks on the IPC channel that a pool
// (or any childproc.Fork parent) opened for this process. For each task it
// calls handler(value, { signal, id }) and sends back what it returns (or
// what its promise resolves to); undefined becomes null. A handler that
// throws or rejects fails only its own task: the parent gets the error's
// message, name and stack. A result that JSON cannot encode (a BigInt, a
// cycle) fails its task with a TypeError; what JSON.stringify turns into
// null or drops (NaN, Infinity, functions) is sent that way. Several tasks may run at once
// (the pool decides how many): each gets its own AbortSignal, aborted when
// the caller gives up; the handler decides what to do with it, and its
// outcome, a result or an AbortError, is still sent.
//
// Call serve once the module is ready to work (after any await of its
// set-up): the pool sends tasks only after the "ready" message, which
// serve sends as soon as the module's synchronous code has run.
//
// When the parent closes the channel, every running task's signal is
// aborted and the process ends as soon as nothing else keeps Node busy;
// if something does (a timer, a server, a handler that ignores its
// signal), it exits with status 0 after EXIT_GRACE_MS.
//
// The protocol is on the channel, not on stdout: the worker may print.
//
// recycle(reason) asks the pool to replace this worker once its running
// tasks are done (a cache grown too big, a leak noticed).
//
// The protocol (JSON messages on Node's IPC channel; anything else on
// the channel is ignored):
//   parent → worker  {"pool":"task","id":7,"value":…}   {"pool":"cancel","id":7}
//   worker → parent  {"pool":"ready","protocol":1}      {"pool":"result","id":7,"value":…}
//                    {"pool":"error","id":7,"error":{"message":…,"name":…,"stack":…}}
//                    {"pool":"recycle","reason":…}

const { isNativeError } = require('node:util').types;

const PROTOCOL = 1;
const EXIT_GRACE_MS = 1000;
// Write errors (the parent has gone) are dropped instead of becoming an
// 'error' event on process, which would crash the worker; the channel's
// end follows.
const SEND_OPTIONS = { swallowErrors: true };

// running maps a task's id to its Task while its handler runs.
const running = new Map();
let handler = null;
let recycleSent = false;

// A Task is the second argument of the handler: its id and its signal.
// The AbortController is made only when the handler asks for the signal.
class Task {
  #controller = null;
  #cancelled = false;

  constructor(id) {
    this.id = id;
  }

  get signal() {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  // cancel aborts the task's signal (a static method, so that the
  // handler's second argument holds only id and signal).
  static cancel(task) {
    if (task.#cancelled) return;
    task.#cancelled = true;
    if (task.#controller !== null) task.#controller.abort();
  }
}

/**
 * Serves the pool protocol with handler until the parent closes the
 * channel. handler(value, { signal, id }) returns the task's result or a
 * promise of it.
 * @param {(value: any, task: { signal: AbortSignal, id: number }) => any} fn
 */
function serve(fn) {
  if (typeof fn !== 'function') throw new TypeError('serve: the handler must be a function');
  if (handler !== null) throw new Error('serve: called twice');
  if (typeof process.send !== 'function') {
    throw new Error('serve: this process has no IPC channel (NODE_CHANNEL_FD); start it from a childproc pool or fork()');
  }
  handler = fn;
  process.on('message', onMessage);
  process.on('disconnect', onDisconnect);
  setImmediate(send, { pool: 'ready', protocol: PROTOCOL });
}

/**
 * Asks the pool to replace this worker once its running tasks are done.
 * Only the first call sends anything.
 * @param {string} [reason]
 */
function recycle(reason) {
  if (recycleSent) return;
  recycleSent = true;
  send({ pool: 'recycle', reason: reason === undefined ? '' : String(reason) });
}

function onMessage(m) {
  if (m === null || typeof m !== 'object') return;
  switch (m.pool) {
    case 'task':
      startTask(m.id, m.value === undefined ? null : m.value);
      break;
    case 'cancel': {
      const task = running.get(m.id);
      if (task !== undefined) Task.cancel(task);
      break;
    }
  }
}

// startTask runs the handler on value. A task without an integer id, or
// with the id of one still running, cannot be answered and is dropped.
function startTask(id, value) {
  if (!Number.isInteger(id) || running.has(id)) {
    process.emitWarning(`childproc pool: dropped a task with id ${JSON.stringify(id)} (not an integer, or already running)`);
    return;
  }
  const task = new Task(id);
  running.set(id, task);
  let out;
  try {
    out = handler(value, task);
  } catch (err) {
    fail(task, err);
    return;
  }
  if (out !== null && (typeof out === 'object' || typeof out === 'function') && typeof out.then === 'function') {
    settle(task, out);
  } else {
    succeed(task, out);
  }
}

async function settle(task, promise) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    fail(task, err);
    return;
  }
  succeed(task, value);
}

function succeed(task, value) {
  running.delete(task.id);
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') value = null;
  try {
    send({ pool: 'result', id: task.id, value });
  } catch (err) { // JSON.stringify's: a BigInt, a cycle, a toJSON that throws
    send(errorMessage(task.id, err));
  }
}

function fail(task, err) {
  running.delete(task.id);
  send(errorMessage(task.id, err));
}

function send(msg) {
  if (process.connected) process.send(msg, undefined, SEND_OPTIONS);
}

// errorMessage describes what a handler threw. An Error's name is its own
// name property unless that is the inherited "Error", then its class's
// name (class MyError extends Error {} is "MyError"); anything else thrown
// is named by its typeof.
function errorMessage(id, err) {
  let message, name, stack;
  try {
    if (isNativeError(err) || err instanceof Error) {
      message = String(err.message);
      name = typeof err.name === 'string' && err.name !== 'Error' ? err.name : className(err);
      stack = typeof err.stack === 'string' ? err.stack : '';
    } else {
      message = String(err);
      name = typeof err;
      stack = '';
    }
  } catch (e) { // a getter or a toString that throws
    message = 'the thrown value could not be described: ' + describeFailure(e);
    name = typeof err;
    stack = '';
  }
  return { pool: 'error', id, error: { message, name, stack } };
}

function className(err) {
  const ctor = err.constructor;
  return typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : 'Error';
}

function describeFailure(e) {
  try {
    return String(e && e.message);
  } catch {
    return 'unknown';
  }
}

// onDisconnect aborts every running task (nobody can receive its result)
// and bounds how long anything else may keep the process alive.
function onDisconnect() {
  for (const task of running.values()) Task.cancel(task);
  setTimeout(exitNow, EXIT_GRACE_MS).unref();
}

function exitNow() {
  process.exit(0);
}

module.exports = { serve, recycle };
