import { OperatorFunction } from 'rxjs';
import { FrameEncoder } from '../codecs/codec';
import { joinsWrites } from '../core/flow';
import { answerStart, HeldAnswer, holdUntilHandedOn, readInPlaceOf } from './internal/answerInPlace';
import { createOperatorSubscriber, operate } from './internal/operate';

/**
 * Runs a `FrameEncoder` over a stream of frames: one Buffer out per frame, or, when its output
 * goes straight to a byte stream (a stream socket, where write boundaries mean nothing), one per
 * run of frames answered in place that lie end to end in their read: a view of it, sent once the
 * decoder has handed on the read's last frame. A frame that cannot be sent errors the stream.
 */
export function encodeFrames<F>(encoder: FrameEncoder<F>): OperatorFunction<F, Buffer> {
  const { framing } = encoder;
  return operate((source, output) => {
    const joins = joinsWrites(output);
    const read = readInPlaceOf(output);
    // The read the held run of answers lies in, and where in it.
    let heldSource: Buffer | undefined;
    let heldStart = 0;
    let heldEnd = 0;
    const held: HeldAnswer = {
      sendHeld() {
        const source = heldSource;
        heldSource = undefined;
        if (source === undefined || output.closed) return;
        // A read answered whole (one message per read) goes out as it is, with no view of it.
        output.next(heldStart === 0 && heldEnd === source.length ? source : source.subarray(heldStart, heldEnd));
      },
    };
    const hold = (source: Buffer, start: number, end: number) => {
      if (source === heldSource && start === heldEnd) {
        heldEnd = end;
        return;
      }
      held.sendHeld();
      heldSource = source;
      heldStart = start;
      heldEnd = end;
      holdUntilHandedOn(read, held);
    };
    const encoding = createOperatorSubscriber<F>(
      output,
      (frame) => {
        const start = answerStart(read, frame, framing);
        if (start >= 0) {
          const end = start + (frame as Buffer).length + framing.bytes;
          return joins ? hold(read.source!, start, end) : output.next(read.source!.subarray(start, end));
        }
        // What it cannot encode (a number given to encodeLines()), or a throw, errors the stream, after what it holds.
        const encoded = encoder.encode(frame);
        if (!Buffer.isBuffer(encoded)) throw encoded;
        held.sendHeld();
        output.next(encoded);
      },
      () => {
        held.sendHeld();
        output.complete();
      },
      (err) => {
        held.sendHeld();
        output.error(err);
      },
    );
    source.subscribe(encoding);
  });
}
