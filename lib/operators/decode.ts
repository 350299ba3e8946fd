import { asyncScheduler, OperatorFunction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { Decoded, DecoderFactory, Separators } from '../codecs/codec';
import { DEFAULTS } from '../core/defaults';
import { BufferBudgetExceeded, FrameTimeout } from '../core/errors';
import { flowOf } from '../core/flow';
import { decodeOptions, FunctionArgument, NonEmptyString, strictOptions, wholeNumber } from '../core/options';
import { handOnInPlace, readInPlaceOf } from './internal/answerInPlace';
import { createOperatorSubscriber, operate } from './internal/operate';

export interface FrameOptions {
  /**
   * How long one frame may take to arrive once its first byte has; 0 = no limit. Default 2
   * minutes: a peer trickling a frame a byte at a time cannot hold the connection forever.
   */
  frameTimeoutMs?: number;
}

export const FrameOptions = strictOptions({}, { frameTimeoutMs: wholeNumber(0) });

export interface DecodeOptions extends FrameOptions {
  /** The name its frames and protocol errors are counted under in metrics (`rxwire_frames_decoded_total{codec}`); default `custom`. */
  codec?: string;
}

const DecodeOptions = strictOptions({}, { frameTimeoutMs: wholeNumber(0), codec: NonEmptyString });

/**
 * Runs a codec over a byte stream: each subscription gets a fresh decoder, every chunk goes into
 * it, and its frames come out. A frame that breaks the protocol (`FrameTooLong`, `IncompleteFrame`,
 * `DecodeError`, `FrameTimeout`) errors the stream after the good frames before it, which ends the
 * connection. What the decoder holds counts against the server's `maxBufferedBytes`; past it the
 * stream errors with `BufferBudgetExceeded`. Its frames and protocol errors are counted for the
 * server's metrics under `codec`.
 *
 * ```ts
 * const framing = { headerBytes: 2 } as const;
 * serve({ port: 9000 }, pipe(decode(lengthPrefixedDecoder(framing)), map(handle), encode(lengthPrefixedEncoder(framing))));
 * ```
 */
export function decode<F>(newDecoder: DecoderFactory<F>, options: DecodeOptions = {}, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<Buffer, F> {
  const { codec = 'custom', ...frame } = decodeOptions('decode', DecodeOptions, options);
  return decodeFrames(codec, newDecoder, undefined, frame, scheduler);
}

/**
 * `decode` for a decoder that cuts its frames from the chunks, `separators` apart (`lines()`,
 * `lengthPrefixed()`): encoders may then answer its frames with the bytes they came in
 * (lib/operators/internal/answerInPlace.ts).
 */
export function decodeFrames<F>(
  /** What its frames are counted under: `lines`, `resp`. */
  codec: string,
  newDecoder: DecoderFactory<F>,
  /** Given only for a decoder of Buffers. */
  separators: Separators | undefined,
  options: FrameOptions = {},
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<Buffer, F> {
  decodeOptions('decode: newDecoder', FunctionArgument, newDecoder);
  const { frameTimeoutMs = DEFAULTS.frameTimeoutMs } = decodeOptions('decode', FrameOptions, options);
  return operate((source, subscriber) => {
    const decoder = newDecoder();
    const flow = flowOf(subscriber, 'decode()');
    const tally = flow?.frameTally?.(codec);
    const read = separators && readInPlaceOf(subscriber);
    const holder = {};
    // The frame deadline is re-armed lazily: a step only notes when the current frame began,
    // and the one timer, when it fires early, waits for the rest.
    let frameBegan: number | undefined;
    let deadline: Subscription | undefined;
    const checkDeadline = () => {
      deadline = undefined;
      if (frameBegan === undefined) return;
      const left = frameBegan + frameTimeoutMs - scheduler.now();
      if (left > 0) deadline = scheduler.schedule(checkDeadline, left);
      else {
        if (tally) tally.protocolErrors++;
        subscriber.error(new FrameTimeout(frameTimeoutMs));
      }
    };
    // What a step adds after its frames: its error, or one of the budget's.
    const check = (decoded: Decoded<F>): unknown => {
      if (tally) {
        tally.decoded += decoded.frames.length;
        if (decoded.error) tally.protocolErrors++;
      }
      if (decoded.error) return decoded.error;
      const buffered = decoder.buffered;
      if (flow && !flow.reserve(holder, buffered)) return new BufferBudgetExceeded(buffered);
      if (frameTimeoutMs > 0) {
        if (buffered === 0) frameBegan = undefined;
        else if (frameBegan === undefined || decoded.frames.length > 0) frameBegan = scheduler.now();
        if (frameBegan !== undefined && !deadline) deadline = scheduler.schedule(checkDeadline, frameTimeoutMs);
      }
      return undefined;
    };
    subscriber.add(() => {
      deadline?.unsubscribe();
      flow?.reserve(holder, 0);
    });
    // Each frame is handed straight on, one call per frame. Subscribed under the subscriber, as
    // RxJS's own operators are: once it errors or unsubscribes, the source is unsubscribed too,
    // which stops even a synchronous one such as `from(iterable)` at once.
    const frames = createOperatorSubscriber<Buffer>(
      subscriber,
      (chunk) => {
        const decoded = decoder.decode(chunk);
        const error = check(decoded);
        // Frames cut from the chunk are handed on where encoders can answer them in place.
        if (read ? !handOnInPlace(read, subscriber as Subscriber<unknown> as Subscriber<Buffer>, chunk, decoded.frames as readonly unknown[] as Buffer[], separators!) : !handOn(subscriber, decoded.frames)) return;
        if (error !== undefined) subscriber.error(error);
      },
      () => {
        const decoded = decoder.end();
        const error = check(decoded);
        if (!handOn(subscriber, decoded.frames)) return;
        if (error !== undefined) subscriber.error(error);
        else subscriber.complete();
      },
    );
    source.subscribe(frames);
  });
}

/** Hands `frames` on, one call each; false once the subscriber is closed. */
function handOn<F>(subscriber: Subscriber<F>, frames: readonly F[]): boolean {
  for (const frame of frames) {
    subscriber.next(frame);
    if (subscriber.closed) return false;
  }
  return true;
}
