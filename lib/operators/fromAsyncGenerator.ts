import { Observable } from 'rxjs';
import { Flow, flowOf } from '../core/flow';
import { ConnectionInfo, Handler } from '../core/handler';
import { eachChunk } from './eachChunk';
import { decodeOptions, FunctionArgument } from '../core/options';

/** A handler written as an async generator: it pulls the connection's chunks and yields its replies. */
export type AsyncGeneratorHandler = (input: AsyncIterable<Buffer>, conn: ConnectionInfo) => AsyncIterable<Buffer>;

/**
 * A Handler from an `async function*` that takes the connection's chunks as an AsyncIterable and
 * yields what to send. The generator pulls: a chunk is read from the socket only once the
 * generator asks for it (reads are held while it is 64 KiB behind), and it is asked for its next
 * value only while the connection's output is under its high-water mark, so a slow peer pauses
 * the generator. What it throws ends its own connection (`#3 handler error: …`); when the
 * connection closes first, the generator is returned, so its `finally` blocks run.
 *
 * ```ts
 * serve({ port: 50007 }, fromAsyncGenerator(async function* (input) {
 *   for await (const chunk of input) yield upperBytes(chunk);
 * }));
 * ```
 */
export function fromAsyncGenerator(generator: AsyncGeneratorHandler): Handler {
  decodeOptions('fromAsyncGenerator: generator', FunctionArgument, generator);
  return (input, conn) =>
    new Observable<Buffer>((subscriber) => {
      const flow = flowOf(subscriber, 'fromAsyncGenerator()');
      const chunks = eachChunk(input, { flow });
      const iterator = generator(chunks, conn)[Symbol.asyncIterator]();
      let stopped = false;
      let stopWaiting: (() => void) | undefined;
      const outputRoom = (): Promise<void> | undefined => {
        if (!flow || flow.pendingOutput <= flow.outputHighWaterMark) return undefined;
        return new Promise<void>((resolve) => (stopWaiting = whenFlushed(flow, resolve)));
      };
      const run = async () => {
        while (!stopped) {
          await outputRoom();
          if (stopped) return;
          const step = await iterator.next();
          if (stopped) return;
          if (step.done) return subscriber.complete();
          subscriber.next(step.value);
        }
      };
      run().catch((err: unknown) => subscriber.error(err));
      return () => {
        stopped = true;
        stopWaiting?.();
        // Ending the input lets a generator waiting on it go on to its end; a throw there is nobody's now.
        void chunks.return?.();
        iterator.return?.().catch(() => {});
      };
    });
}

/** Calls `resolve` once the connection's output has been flushed down to its high-water mark; returns what stops waiting. */
function whenFlushed(flow: Flow, resolve: () => void): () => void {
  const stop = flow.onActivity((event) => {
    if (event !== 'flushed' || flow.pendingOutput > flow.outputHighWaterMark) return;
    stop();
    resolve();
  });
  return stop;
}
