import { asyncScheduler, OperatorFunction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { Decoded, Decoder, DecoderFactory } from '../codecs/codec';
import { beginHolding, emitting, endHolding, sendHeld } from '../codecs/frameOrigin';
import { DEFAULTS } from '../core/defaults';
import { BufferBudgetExceeded, FrameTimeout } from '../core/errors';
import { flowOf } from '../core/flow';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { createOperatorSubscriber, operate } from './internal/operate';

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
  return operate((source, subscriber) => {
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
    // What a step adds after its frames: its error, or one of the budget's.
    const check = (decoded: Decoded<F>): unknown => {
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
      (chunk) => emit(subscriber, decoder, check, chunk),
      () => emit(subscriber, decoder, check, undefined),
    );
    source.subscribe(frames);
  });
}

/**
 * Emits the frames of one step, `chunk` or the end of input (undefined), then its error, or
 * completes after the end. While a frame cut from `chunk` is handed on, encoders may answer it
 * with a view of `chunk` (lib/codecs/frameOrigin.ts).
 */
function emit<F>(frames: Subscriber<F>, decoder: Decoder<F>, check: (decoded: Decoded<F>) => unknown, chunk: Buffer | undefined): void {
  const last = chunk === undefined;
  const decoded = last ? decoder.end() : decoder.decode(chunk);
  const error = check(decoded);
  const cutFrom = chunk === undefined ? undefined : decoder.cutFrom;
  const separators = decoder.separators;
  if (chunk !== undefined && cutFrom !== undefined && separators) {
    if (!emitFrom(frames, chunk, separators, decoded.frames, cutFrom)) return;
  } else {
    for (const frame of decoded.frames) {
      frames.next(frame);
      if (frames.closed) return;
    }
  }
  if (error !== undefined) frames.error(error);
  else if (last) frames.complete();
}

/**
 * Hands `frames` on, noting those from `cutFrom` on as cut from `chunk`; false once closed. A
 * decode nested downstream notes its own frames, and this one's note comes back after. Encoders
 * that held answers to them send them before this returns.
 */
function emitFrom<F>(subscriber: Subscriber<F>, chunk: Buffer, separators: { before: number; after: number }, frames: readonly F[], cutFrom: number): boolean {
  // An outer decode's frame, if this one runs inside its emission: put back after (locals, not a copy per read).
  const { frame, source, sourceOffset, sourceLength, before, after } = emitting;
  const outerHeld = beginHolding();
  // Set once: a decode nested downstream puts back what it changed before its frame's next() returns.
  emitting.source = chunk;
  emitting.sourceOffset = chunk.byteOffset;
  emitting.sourceLength = chunk.length;
  emitting.before = separators.before;
  emitting.after = separators.after;
  try {
    for (let i = 0; i < frames.length; i++) {
      emitting.frame = i >= cutFrom ? frames[i] : undefined;
      subscriber.next(frames[i]);
      if (subscriber.closed) return false;
    }
    return true;
  } finally {
    const answers = endHolding(outerHeld);
    emitting.frame = frame;
    emitting.source = source;
    emitting.sourceOffset = sourceOffset;
    emitting.sourceLength = sourceLength;
    emitting.before = before;
    emitting.after = after;
    // Encoders send what they held for this chunk's frames before anything else is emitted.
    sendHeld(answers);
  }
}
