import { Observable, OperatorFunction, Subscriber, Subscription } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { ReplyTimeout, RxwireError, WriteTimeout } from '../../core/errors';
import { subscribeWithFlow } from '../../operators/internal/operate';
import { ConnectionInfo } from '../../core/handler';
import { decodeOptions } from '../../core/options';
import { AbortOptions, signalOf } from '../lifetime';
import { eachChunk } from '../../operators/eachChunk';
import { connect } from './client';
import { Connection } from './connection';
import { DialOptions } from './options';

/**
 * Connects, and resolves with the connection once it is made (TLS handshake included): a client
 * for request and response, where `connect()` is an Observable for pipelines. Rejects as
 * `connect()` errors (`connect ECONNREFUSED 127.0.0.1:50007`, after `retry` if given), or with the
 * `signal`'s reason when it is aborted first; aborted later, it closes the connection as `close()` does.
 *
 * ```ts
 * await using conn = await dial({ port: 50007 });
 * await conn.write('hello\n');
 * for await (const chunk of conn) console.log(chunk.toString());
 * ```
 */
export async function dial(options: DialOptions, lifetime?: AbortOptions): Promise<DialedConnection> {
  const {
    replyTimeoutMs = DEFAULTS.replyTimeoutMs,
    writeTimeoutMs = DEFAULTS.writeTimeoutMs,
    highWaterMark = DEFAULTS.highWaterMark,
    ...where
  } = decodeOptions('dial', DialOptions, options);
  const signal = signalOf('dial', lifetime);
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const attempt = new Subscription();
    // The signal ends the attempt (and its retries) while connecting; once made, the DialedConnection heeds it.
    attempt.add(
      connect(where, { signal }).subscribe({
        next: (conn) => resolve(new DialedConnection(conn, attempt, { replyTimeoutMs, writeTimeoutMs, highWaterMark, signal })),
        error: reject,
      }),
    );
  });
}

interface DialLimits {
  readonly replyTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly highWaterMark: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * A connection `dial()` made. Writes go to the socket at once, so none is lost to a reader that
 * has not subscribed yet, and the server's replies wait (in the kernel, reading paused) until one
 * does. One reader at a time: `replies`, `frames()`, `requester()` or `for await`.
 */
export class DialedConnection implements AsyncIterable<Buffer>, AsyncDisposable {
  readonly info: ConnectionInfo;
  /** What the server sends, as it is read; reading pauses while nobody subscribes. */
  readonly replies: Observable<Buffer>;
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;
  private output: Subscriber<Buffer> | undefined;
  /** Settles once our side has ended with everything written flushed, or the socket closed or failed. */
  private readonly sent: Promise<void>;
  private failure: unknown;
  private isClosed = false;
  /** `end()` or `close()` was called: writes are refused from then on. */
  private ended = false;

  constructor(
    private readonly connection: Connection,
    private readonly attempt: Subscription,
    private readonly limits: DialLimits,
  ) {
    this.info = connection.info;
    this.replies = connection.input;
    this.closed = new Promise((resolve) => connection.onClose(resolve));
    this.closed.then(() => {
      this.isClosed = true;
      limits.signal?.removeEventListener('abort', this.abort);
    });
    this.sent = new Promise<void>((resolve, reject) =>
      connection.serve(
        new Observable<Buffer>((out) => void (this.output = out)),
        (err) => {
          this.failure ??= err;
          reject(err);
        },
        resolve,
      ),
    );
    this.sent.catch(() => {}); // told to whoever writes, ends or reads next
    limits.signal?.addEventListener('abort', this.abort, { once: true });
  }

  /**
   * Writes `bytes` (a string as UTF-8) at once. Resolves once the bytes waiting to be sent are
   * below the socket's high-water mark again (at once, most often), so that `await` paces a
   * writer to the network; rejects when the connection has failed or ended, and with
   * `WriteTimeout` (closing the connection) when the server has read nothing for `writeTimeoutMs`.
   */
  write(bytes: Buffer | string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const output = this.output;
    if (this.ended) return Promise.reject(new Error(`connection #${this.info.id}: write after end() or close()`));
    if (!output || output.closed || this.isClosed) return Promise.reject(new Error(`connection #${this.info.id}: write after the connection closed`));
    output.next(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    return this.drained();
  }

  /**
   * Ends our side (a half-close) once what was written is flushed; the server's replies can still
   * be read. Rejects with `WriteTimeout` (closing the connection) when that takes `writeTimeoutMs`.
   */
  end(): Promise<void> {
    this.ended = true;
    this.output?.complete();
    // `sent` settles on a close too: one that a failure caused (a write's own deadline) is that failure.
    const flushed = this.sent.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
    return this.within(flushed, this.limits.writeTimeoutMs, () => this.writeTimeout());
  }

  /**
   * Closes gracefully, as a `connect()` connection's `close()` does: ends our side once what was
   * written is flushed, gives the server `graceMs` (default 5 s) to end its own, then destroys the
   * socket. Resolves once it has closed.
   */
  close(graceMs?: number): Promise<void> {
    this.ended = true;
    this.output?.complete();
    return this.connection.close(graceMs);
  }

  /** `await using conn = await dial(…)` closes it at the end of the block, as `close()` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The server's replies cut into frames by `decode` (`lines()`, `lengthPrefixed()`, `json()`), run
   * with this connection as their Flow, as in a server's pipeline.
   */
  frames<F>(decode: OperatorFunction<Buffer, F>): Observable<F> {
    return new Observable<F>((subscriber) => subscribeWithFlow(this.connection, this.connection.input.pipe(decode), subscriber));
  }

  /**
   * A function that writes a request and resolves with the next frame of the reply, `decode`
   * cutting them: the first reply to the first request, and so on, so requests may be pipelined.
   * Rejects with `ReplyTimeout` when a reply takes longer than `replyTimeoutMs` (the connection is
   * closed then: a late reply would answer the wrong request), and when the server closes, sends
   * a frame nobody asked for, or breaks the framing. At most `DEFAULTS.maxPendingRequests` wait at once.
   *
   * ```ts
   * const request = conn.requester(lines());
   * const reply = await request('PING\n'); // the next line: <Buffer 50 4f 4e 47>
   * ```
   */
  requester<F>(decode: OperatorFunction<Buffer, F>): (request: Buffer | string) => Promise<F> {
    const waiting: { resolve(frame: F): void; reject(err: unknown): void; timer: NodeJS.Timeout | undefined }[] = [];
    let failure: unknown;
    let frames: Subscription | undefined;
    const fail = (err: unknown) => {
      failure ??= err;
      for (const request of waiting.splice(0)) {
        clearTimeout(request.timer);
        request.reject(failure);
      }
      frames?.unsubscribe();
    };
    const start = () =>
      (frames ??= this.frames(decode).subscribe({
        next: (frame) => {
          const request = waiting.shift();
          if (request) {
            clearTimeout(request.timer);
            return request.resolve(frame);
          }
          fail(new Error(`connection #${this.info.id}: the server sent a reply with no request waiting for it`));
          void this.close();
        },
        error: fail,
        complete: () => fail(new Error(`connection #${this.info.id}: the server closed the connection before replying`)),
      }));
    return (request) => {
      if (failure !== undefined) return Promise.reject(failure);
      if (waiting.length >= DEFAULTS.maxPendingRequests) {
        return Promise.reject(new Error(`connection #${this.info.id}: ${DEFAULTS.maxPendingRequests} requests already wait for replies`));
      }
      start();
      return new Promise<F>((resolve, reject) => {
        const ms = this.limits.replyTimeoutMs;
        const timer = ms > 0 ? setTimeout(() => this.abandon(new ReplyTimeout(this.info.remote, ms), fail), ms) : undefined;
        waiting.push({ resolve, reject, timer });
        this.write(request).catch(fail);
      });
    };
  }

  /**
   * The server's replies, chunk by chunk: at most `highWaterMark` bytes are read ahead of the
   * loop (`eachChunk`). A step that waits longer than `replyTimeoutMs` fails with ReplyTimeout.
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const chunks = eachChunk(this.connection.input, { flow: this.connection, highWaterMark: this.limits.highWaterMark });
    const ms = this.limits.replyTimeoutMs;
    if (ms === 0) return chunks;
    return {
      next: () => this.within(chunks.next(), ms, () => new ReplyTimeout(this.info.remote, ms)),
      return: () => chunks.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** `waiting`, or the error `timeout` makes once it has waited `ms` (0 = for ever): the connection is then closed. */
  private within<T>(waiting: Promise<T>, ms: number, timeout: () => RxwireError): Promise<T> {
    if (ms === 0) return waiting;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => this.abandon(timeout(), reject), ms);
    });
    return Promise.race([waiting, timedOut]).finally(() => clearTimeout(timer));
  }

  private writeTimeout(): WriteTimeout {
    return new WriteTimeout(this.info.remote, this.limits.writeTimeoutMs, this.connection.pendingOutput);
  }

  /** Tells `fail` of `err` and closes the connection: a reply that came too late would be taken for the next one. */
  private abandon(err: unknown, fail: (err: unknown) => void): void {
    this.failure ??= err;
    fail(err);
    this.attempt.unsubscribe();
  }

  /**
   * Resolves once pending output is below the socket's high-water mark; rejects if the connection
   * fails or closes first, or after `writeTimeoutMs`.
   */
  private drained(): Promise<void> {
    const conn = this.connection;
    if (conn.pendingOutput < conn.outputHighWaterMark) return Promise.resolve();
    const draining = new Promise<void>((resolve, reject) => {
      const stopWatching = conn.onActivity((event) => {
        // A failed socket calls its pending writes back too: that is its end, not a drain.
        if (event !== 'flushed' || conn.socket.destroyed || conn.socket.errored || conn.pendingOutput >= conn.outputHighWaterMark) return;
        stop();
        resolve();
      });
      const stopWaiting = conn.onClose(() => {
        stop();
        reject(this.failure ?? new Error(`connection #${this.info.id}: closed before its output was sent`));
      });
      const stop = () => {
        stopWatching();
        stopWaiting();
      };
    });
    // Told by `within` on a timeout; the close that follows would reject it again, unheard.
    draining.catch(() => {});
    return this.within(draining, this.limits.writeTimeoutMs, () => this.writeTimeout());
  }

  private readonly abort = () => {
    this.failure ??= this.limits.signal?.reason;
    void this.close();
  };
}
