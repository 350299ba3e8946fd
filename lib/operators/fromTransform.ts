import { OperatorFunction } from 'rxjs';
import { flowOf } from '../core/flow';
import { createOperatorSubscriber, operate } from './internal/operate';
import { decodeOptions, FunctionArgument } from '../core/options';

/**
 * Runs each connection's bytes through a Node Transform or Duplex (zlib, crypto, a parser from
 * npm), made anew by `factory` for every subscription: what the stream reads in is what this emits.
 * Backpressure crosses both ways, as Node's `pipeline` would have it: while the stream's writable
 * side is full (`write()` returned false) the connection's reads are held until `'drain'`; while
 * the connection's output waits past its high-water mark the stream's readable side is paused, so
 * a slow peer fills the stream's buffers and, through them, holds reads too. Outside a transport
 * (over `of(...)`) nothing can be held: the stream buffers what it is given.
 *
 * The input completing ends the stream's writable side; this completes when its readable side
 * ends, and errors with the stream's error. Unsubscribing destroys the stream.
 *
 * ```ts
 * serve({ port: 50007 }, pipe(fromTransform(() => zlib.createGunzip()), upper(), fromTransform(() => zlib.createGzip())));
 * ```
 *
 * `T` is what the stream's readable side gives: Buffers, or the objects of an object-mode parser.
 */
export function fromTransform<T = Buffer>(factory: () => NodeJS.ReadWriteStream): OperatorFunction<Buffer, T> {
  decodeOptions('fromTransform: factory', FunctionArgument, factory);
  return operate<Buffer, T>((source, subscriber) => {
    const stream = factory();
    if (!isReadWriteStream(stream)) {
      return subscriber.error(new TypeError(`fromTransform: the factory must return a Duplex or Transform stream, got ${typeof stream}`));
    }
    const flow = flowOf(subscriber, 'fromTransform()');
    const holder = {};
    let holdingReads = false;
    const holdReads = () => {
      if (holdingReads || !flow) return;
      holdingReads = true;
      flow.holdReads(holder);
    };
    const releaseReads = () => {
      if (!holdingReads) return;
      holdingReads = false;
      flow!.releaseReads(holder);
    };
    let ended = false;
    const listeners = {
      data: (chunk: T) => subscriber.next(chunk),
      end: () => {
        ended = true;
        subscriber.complete();
      },
      error: (err: Error) => subscriber.error(err),
      close: () => ended || subscriber.error(new Error('fromTransform: the stream closed before its readable side ended')),
      drain: releaseReads,
    };
    for (const [event, listener] of Object.entries(listeners)) stream.on(event, listener);

    // A slow peer: stop taking the stream's output until the connection has flushed down to half.
    let pausedForPeer = false;
    const stopWatching = flow?.onActivity((event) => {
      if (event === 'read') return;
      const pending = flow.pendingOutput;
      if (!pausedForPeer && pending > flow.outputHighWaterMark) {
        pausedForPeer = true;
        stream.pause();
      } else if (pausedForPeer && pending <= flow.outputHighWaterMark / 2) {
        pausedForPeer = false;
        stream.resume();
      }
    });

    const subscription = source.subscribe(
      createOperatorSubscriber(
        subscriber,
        (chunk: Buffer) => {
          if (!stream.write(chunk)) holdReads();
        },
        () => stream.end(),
      ),
    );
    return () => {
      subscription.unsubscribe();
      stopWatching?.();
      releaseReads();
      for (const [event, listener] of Object.entries(listeners)) stream.off(event, listener);
      // An error the stream reports while being destroyed (zlib's, say) must not crash the process.
      stream.on('error', () => {});
      (stream as { destroy?(): void }).destroy?.();
    };
  });
}

/**
 * Checked by shape, not `instanceof Duplex`: many parsers on npm are built on the readable-stream
 * package, whose classes are not Node's own.
 */
function isReadWriteStream(value: unknown): value is NodeJS.ReadWriteStream {
  return typeof value === 'object' && value !== null && STREAM_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

const STREAM_METHODS = ['write', 'end', 'on', 'off', 'pause', 'resume'] as const;
