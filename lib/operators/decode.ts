import { asyncScheduler, Observable, OperatorFunction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { Decoded, Decoder, DecoderFactory } from '../codecs/codec';
import { beginHolding, emitting, endHolding, sendHeld } from '../codecs/frameOrigin';
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
      const subscription = source.subscribe(new DecodingSubscriber(subscriber, decoder, check));
      return () => {
        subscription.unsubscribe();
        deadline?.unsubscribe();
        flow?.reserve(holder, 0);
      };
    });
}

/**
 * Hands each frame straight on, one call per frame (mergeMap made an inner Observable per chunk).
 * Subscribed under its destination, as RxJS's own operators are: once the destination errors or
 * unsubscribes, this is closed too, which stops even a synchronous source such as
 * `from(iterable)` at once, so no more input is read or buffered.
 */
class DecodingSubscriber<F> extends Subscriber<Buffer> {
  constructor(
    private readonly frames: Subscriber<F>,
    private readonly decoder: Decoder<F>,
    /** The error to end a step with after its frames, if any. */
    private readonly check: (decoded: Decoded<F>) => unknown,
  ) {
    // Subscriber's constructor adds itself to a Subscriber destination, and flowOf() walks through it.
    super(frames as Subscriber<unknown>);
  }

  protected _next(chunk: Buffer): void {
    this.emit(chunk);
  }

  protected _complete(): void {
    this.emit(undefined);
    this.unsubscribe();
  }

  /**
   * Emits the frames of one step, `chunk` or the end of input (undefined), then its error, or
   * completes after the end. While a frame cut from `chunk` is handed on, encoders may answer it
   * with a view of `chunk` (lib/codecs/frameOrigin.ts).
   */
  private emit(chunk: Buffer | undefined): void {
    const last = chunk === undefined;
    let decoded: Decoded<F>;
    let error: unknown;
    try {
      decoded = last ? this.decoder.end() : this.decoder.decode(chunk);
      error = this.check(decoded);
    } catch (err) {
      return this.frames.error(err);
    }
    const cutFrom = chunk === undefined ? undefined : this.decoder.cutFrom;
    const separators = this.decoder.separators;
    if (chunk !== undefined && cutFrom !== undefined && separators) {
      if (!this.emitFrom(chunk, separators, decoded.frames, cutFrom)) return;
    } else {
      for (const frame of decoded.frames) {
        this.frames.next(frame);
        if (this.closed) return;
      }
    }
    if (error !== undefined) this.frames.error(error);
    else if (last) this.frames.complete();
  }

  /**
   * Hands `frames` on, noting those from `cutFrom` on as cut from `chunk`; false once closed. A
   * decode nested downstream notes its own frames, and this one's note comes back after. Encoders
   * that held answers to them send them before this returns.
   */
  private emitFrom(chunk: Buffer, separators: { before: number; after: number }, frames: readonly F[], cutFrom: number): boolean {
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
        this.frames.next(frames[i]);
        if (this.closed) return false;
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
}
