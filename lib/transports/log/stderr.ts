import { write, writeSync } from 'node:fs';

// Past this many bytes waiting, lines are dropped and counted rather than held: a stalled stderr
// must not grow the server without bound.
const MAX_PENDING_BYTES = 1 << 20;
const STDERR = 2;
// Lines wait this long, or until this many bytes wait, to go out together: a write handed to the
// thread pool costs far more than the lines in it.
const FLUSH_DELAY_MS = 20;
const FLUSH_AT_BYTES = 16 * 1024;
// A non-blocking stderr that is full (EAGAIN) is tried again after this long; at exit, this many times at most.
const RETRY_MS = 10;
const EXIT_ATTEMPTS = 1000;
// At exit, how long a write in the thread pool is given to land before the rest is written.
const IN_FLIGHT_GRACE_MS = 20;

let pending: string[] = [];
let pendingBytes = 0;
let dropped = 0;
let timer: NodeJS.Timeout | undefined;
let writing = false;
let exitHooked = false;
let whenIdle: (() => void)[] = [];
// Bytes a full stderr (EAGAIN) sent back, waiting for their retry.
let waitingRetry: Buffer | undefined;
const EXIT_PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes log lines to stderr without blocking the event loop: lines go out together, up to 20 ms
 * or 16 KiB later, written on libuv's thread pool, one write at a time. (`process.stderr.write`
 * on a pipe or a file is a synchronous `write(2)` per line.) What is still pending when the
 * process exits is written then.
 */
export function logToStderr(line: string): void {
  if (pendingBytes > MAX_PENDING_BYTES) {
    dropped++;
    return;
  }
  pending.push(line);
  pendingBytes += line.length + 1;
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', flushSync);
  }
  schedule();
}

function schedule(): void {
  if (writing) return;
  if (pendingBytes >= FLUSH_AT_BYTES) flush();
  // Unref'd: pending log lines never keep a process alive; the exit hook writes them.
  else timer ??= setTimeout(flush, FLUSH_DELAY_MS).unref();
}

function takePending(): Buffer {
  if (dropped > 0) pending.push(`(${dropped} log lines dropped: stderr was not keeping up)`);
  const text = Buffer.from(`${pending.join('\n')}\n`);
  pending = [];
  pendingBytes = 0;
  dropped = 0;
  return text;
}

function flush(): void {
  clearTimeout(timer);
  timer = undefined;
  if (pending.length === 0) return;
  writing = true;
  writeOut(takePending());
}

function writeOut(bytes: Buffer): void {
  write(STDERR, bytes, 0, bytes.length, null, (err, written) => {
    if (err?.code === 'EAGAIN') {
      // Out of the thread pool until the retry: an exit meanwhile writes them first, in order.
      waitingRetry = bytes;
      return void setTimeout(() => {
        waitingRetry = undefined;
        writeOut(bytes);
      }, RETRY_MS);
    }
    // Any other failure (stderr closed: EPIPE, EBADF) loses these lines and nothing else.
    if (!err && written < bytes.length) return writeOut(bytes.subarray(written));
    writing = false;
    if (pending.length > 0) schedule();
    else settleWaiters();
  });
}

/**
 * Resolves once every line logged so far has been handed to stderr, or after `ms` (a stalled
 * stderr must not hold up an exit): a program about to exit waits for it, since a line still
 * on its way through the thread pool when the process exits would be lost.
 */
export function logWritten(ms = 1000): Promise<void> {
  if (!writing && pending.length === 0) return Promise.resolve();
  if (!writing) flush();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    whenIdle.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function settleWaiters(): void {
  const waiters = whenIdle;
  whenIdle = [];
  for (const settle of waiters) settle();
}

function flushSync(): void {
  if (pending.length === 0 && !waitingRetry) return;
  // A write still in the thread pool cannot be awaited here, nor seen to finish: it is given a
  // moment to land first, so that the lines after it do not overtake it.
  if (writing && !waitingRetry) Atomics.wait(EXIT_PAUSE, 0, 0, IN_FLIGHT_GRACE_MS);
  let bytes = waitingRetry ? Buffer.concat([waitingRetry, pending.length > 0 ? takePending() : Buffer.alloc(0)]) : takePending();
  waitingRetry = undefined;
  for (let attempt = 0; bytes.length > 0 && attempt < EXIT_ATTEMPTS; attempt++) {
    try {
      bytes = bytes.subarray(writeSync(STDERR, bytes));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      // A full pipe: give its reader a millisecond before the next try (a second in all at most).
      Atomics.wait(EXIT_PAUSE, 0, 0, 1);
    }
  }
}
