import { Observable, OperatorFunction, Subscriber } from 'rxjs';
import { FrameEncoder } from '../codecs/codec';
import { emitting, HeldAnswer, holdUntilHandedOn } from '../codecs/frameOrigin';
import { joinsWrites } from '../core/flow';

/**
 * Runs a `FrameEncoder` over a stream of frames: one Buffer out per frame, or, when its output
 * goes straight to a byte stream (a stream socket, where write boundaries mean nothing), one per
 * run of frames answered in place that lie end to end in their read: a view of it, sent once the
 * decoder has handed on the read's last frame. A frame that cannot be sent errors the stream.
 */
export function encodeFrames<F>(encoder: FrameEncoder<F>): OperatorFunction<F, Buffer> {
  return (source) => new Observable<Buffer>((subscriber) => source.subscribe(new EncodingSubscriber(subscriber, encoder)));
}

/** Subscribed under its destination, as RxJS's own operators are (see decode.ts). */
class EncodingSubscriber<F> extends Subscriber<F> implements HeldAnswer {
  private readonly joins: boolean;
  /** The read the held run of answers lies in, and where in it. */
  private heldSource: Buffer | undefined;
  private heldStart = 0;
  private heldEnd = 0;

  constructor(
    private readonly output: Subscriber<Buffer>,
    private readonly encoder: FrameEncoder<F>,
  ) {
    super(output as Subscriber<unknown>);
    this.joins = joinsWrites(output);
  }

  protected _next(frame: F): void {
    let bytes: Buffer | undefined;
    let failure: unknown;
    // A throw is the stream's error, as map() makes it (a number given to encodeLines()).
    try {
      const start = this.encoder.answerInPlace(frame);
      if (start >= 0) {
        const end = start + (frame as Buffer).length + this.encoder.framingBytes;
        return this.joins ? this.hold(start, end) : this.output.next(emitting.source!.subarray(start, end));
      }
      const encoded = this.encoder.encode(frame);
      if (Buffer.isBuffer(encoded)) bytes = encoded;
      else failure = encoded;
    } catch (err) {
      failure = err;
    }
    this.sendHeld();
    if (bytes) this.output.next(bytes);
    else this.error(failure);
  }

  protected _error(err: unknown): void {
    this.sendHeld();
    super._error(err);
  }

  protected _complete(): void {
    this.sendHeld();
    super._complete();
  }

  private hold(start: number, end: number): void {
    const source = emitting.source!;
    if (source === this.heldSource && start === this.heldEnd) {
      this.heldEnd = end;
      return;
    }
    this.sendHeld();
    this.heldSource = source;
    this.heldStart = start;
    this.heldEnd = end;
    holdUntilHandedOn(this);
  }

  sendHeld(): void {
    const source = this.heldSource;
    this.heldSource = undefined;
    if (source === undefined || this.closed) return;
    // A read answered whole (one message per read) goes out as it is, with no view of it.
    this.output.next(this.heldStart === 0 && this.heldEnd === source.length ? source : source.subarray(this.heldStart, this.heldEnd));
  }
}
