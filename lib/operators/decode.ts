import { asyncScheduler, concat, defer, from, mergeMap, Observable, ObservableInput, OperatorFunction, SchedulerLike, Subscription, throwError } from 'rxjs';
import { Decoded, DecoderFactory } from '../codecs/codec';
import { DEFAULTS } from '../core/defaults';
import { BufferBudgetExceeded, FrameTimeout } from '../core/errors';
import { flowOf } from '../core/flow';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';

export interface FrameOptions {
  /**
   * How long one frame may take to arrive once its first byte has; 0 = no limit. Default 2
   * minutes: a peer trickling a frame a byte at a time cannot hold the connection forever.
   */
  frameTimeoutMs?: number;
}

export const FrameOptions = strictOptions({}, { frameTimeoutMs: wholeNumber(0) });

/**
 * Runs a codec over a byte stream: each subscription gets a fresh decoder, every chunk goes into
 * it, and its frames come out. A frame that breaks the protocol (`FrameTooLong`, `IncompleteFrame`,
 * `DecodeError`, `FrameTimeout`) errors the stream after the good frames before it, which ends the
 * connection. What the decoder holds counts against the server's `maxBufferedBytes`; past it the
 * stream errors with `BufferBudgetExceeded`.
 *
 * ```ts
 * const framing = { headerBytes: 2 } as const;
 * serve({ port: 9000 }, pipe(decode(lengthPrefixedDecoder(framing)), map(handle), encode(lengthPrefixedEncoder(framing))));
 * ```
 */
export function decode<F>(newDecoder: DecoderFactory<F>, options: FrameOptions = {}, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<Buffer, F> {
  const { frameTimeoutMs = DEFAULTS.frameTimeoutMs } = decodeOptions('decode', FrameOptions, options);
  return (source) =>
    new Observable<F>((subscriber) => {
      const decoder = newDecoder();
      const flow = flowOf(subscriber, 'decode()');
      const holder = {};
      // The frame deadline is re-armed lazily: a step only notes when the current frame began,
      // and the one timer, when it fires early, waits for the rest.
      let frameBegan: number | undefined;
      let deadline: Subscription | undefined;
      const checkDeadline = () => {
        deadline = undefined;
        if (frameBegan === undefined) return;
        const left = frameBegan + frameTimeoutMs - scheduler.now();
        if (left <= 0) subscriber.error(new FrameTimeout(frameTimeoutMs));
        else deadline = scheduler.schedule(checkDeadline, left);
      };
      // What a step hands on: its frames, then its error, or one of the budget's.
      const step = (decoded: Decoded<F>): ObservableInput<F> => {
        if (decoded.error) return concat(from(decoded.frames), throwError(() => decoded.error));
        const buffered = decoder.buffered;
        if (flow && !flow.reserve(holder, buffered)) return concat(from(decoded.frames), throwError(() => new BufferBudgetExceeded(buffered)));
        if (frameTimeoutMs > 0) {
          if (buffered === 0) frameBegan = undefined;
          else if (frameBegan === undefined || decoded.frames.length > 0) frameBegan = scheduler.now();
          if (frameBegan !== undefined && !deadline) deadline = scheduler.schedule(checkDeadline, frameTimeoutMs);
        }
        return decoded.frames;
      };
      // Built from RxJS operators: after an error they stop the source at once, even a
      // synchronous one such as `from(iterable)`, so no more input is read or buffered.
      const subscription = concat(
        source.pipe(mergeMap((chunk) => step(decoder.decode(chunk)))),
        defer(() => step(decoder.end())),
      ).subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        deadline?.unsubscribe();
        flow?.reserve(holder, 0);
      };
    });
}
