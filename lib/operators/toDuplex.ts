import { Duplex } from 'node:stream';
import { Observable, Subscriber, Subscription } from 'rxjs';
import { Flow, flowOf } from '../core/flow';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';

/**
 * What `toDuplex` makes a stream of: a connection (`Connection` is one), or any input Observable
 * with a sink for output in the shape of `Connection.send`. Reads are held through `holdReads` when
 * given; `destroy` is called when the stream is destroyed before both its sides ended.
 */
export interface DuplexSource {
  readonly input: Observable<Buffer>;
  send(output: Observable<Buffer>): Observable<never>;
  holdReads?(holder: object): void;
  releaseReads?(holder: object): void;
  destroy?(): void;
}

export interface ToDuplexOptions {
  /** Bytes the readable side buffers before reads are held. Default Node's, 16 KiB. */
  readableHighWaterMark?: number;
  /** Bytes the writable side buffers before `write()` returns false. Default Node's, 16 KiB. */
  writableHighWaterMark?: number;
  /**
   * For a source that cannot hold its reads (no `holdReads`): bytes the readable side may buffer
   * unread before the stream is destroyed with an error. Default 16 MiB.
   */
  maxBufferedBytes?: number;
}

const ToDuplexOptions = strictOptions(
  {},
  { readableHighWaterMark: wholeNumber(1), writableHighWaterMark: wholeNumber(1), maxBufferedBytes: wholeNumber(1) },
);

const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;

/**
 * A connection as a Node Duplex, for libraries that want a stream (`stream.pipeline`, parsers,
 * HTTP/2 over a socket of your own). Reading takes what the peer sends: while the stream's reader
 * falls behind by its `readableHighWaterMark`, the connection's reads are held. Writing sends: a
 * write's callback waits while the connection's output is past its high-water mark, so `write()`
 * returns false and `'drain'` comes as on a socket. `end()` ends our side once flushed; the peer
 * ending ends the readable side; an error either way destroys the stream with it, and
 * `destroy()` destroys the connection.
 *
 * ```ts
 * connect({ port: 50007 }).pipe(mergeMap((conn) => from(pipeline(Readable.from(['hi']), toDuplex(conn), process.stdout))))
 * ```
 */
export function toDuplex(source: DuplexSource, options: ToDuplexOptions = {}): Duplex {
  const opts = decodeOptions('toDuplex', ToDuplexOptions, options);
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  const holder = {};
  let holding = false;
  let input: Subscription | undefined;
  let writer: Subscriber<Buffer> | undefined;
  let flow: Flow | undefined;
  let waitingWrite: (() => void) | undefined;
  let finalDone: ((err?: Error | null) => void) | undefined;
  let sent = false;
  let sending: Subscription | undefined;

  const release = () => {
    if (!holding) return;
    holding = false;
    source.releaseReads?.(holder);
  };
  const duplex: Duplex = new Duplex({
    readableHighWaterMark: opts.readableHighWaterMark,
    writableHighWaterMark: opts.writableHighWaterMark,
    read() {
      release();
      input ??= source.input.subscribe({
        next: (chunk) => {
          if (duplex.push(chunk)) return;
          if (source.holdReads) {
            if (!holding) source.holdReads(holder);
            holding = true;
          } else if (duplex.readableLength > maxBuffered) {
            duplex.destroy(new Error(`toDuplex: ${duplex.readableLength} bytes read and not taken, past maxBufferedBytes (${maxBuffered})`));
          }
        },
        error: (err: Error) => duplex.destroy(err),
        complete: () => duplex.push(null),
      });
    },
    write(chunk: Buffer, _encoding, callback) {
      if (!writer || writer.closed) return callback(new Error('toDuplex: write after the connection closed'));
      writer.next(chunk);
      if (flow && flow.pendingOutput > flow.outputHighWaterMark) waitingWrite = () => callback();
      else callback();
    },
    final(callback) {
      // Called back once: by the send completing, now (when complete() completes it at once) or later.
      if (sent) return callback();
      finalDone = callback;
      writer?.complete();
    },
    destroy(err, callback) {
      input?.unsubscribe();
      sending?.unsubscribe();
      stopWatching?.();
      release();
      if (err || !(duplex.readableEnded && duplex.writableFinished)) source.destroy?.();
      callback(err);
    },
  });

  let stopWatching: (() => void) | undefined;
  const output = new Observable<Buffer>((subscriber) => {
    writer = subscriber;
    flow = flowOf(subscriber, 'toDuplex()');
    stopWatching = flow?.onActivity((event) => {
      if (event !== 'flushed' || !waitingWrite || flow!.pendingOutput > flow!.outputHighWaterMark) return;
      const done = waitingWrite;
      waitingWrite = undefined;
      done();
    });
  });
  sending = source.send(output).subscribe({
    error: (err: Error) => duplex.destroy(err),
    complete: () => {
      sent = true;
      const done = finalDone;
      finalDone = undefined;
      done?.();
    },
  });
  if (duplex.destroyed) sending.unsubscribe();
  return duplex;
}
