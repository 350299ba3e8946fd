import { expect } from 'chai';
import fc from 'fast-check';
import { from, Observable, OperatorFunction, toArray } from 'rxjs';
import { everySplit } from 'rxwire/testing';
import { Decoder, DecoderFactory } from '../../../lib/codecs/codec';

export interface Outcome<T> {
  values: T[];
  error?: unknown;
  completed: boolean;
}

/** Subscribes to an Observable that finishes synchronously (over `of`/`from`) and reports what it did. */
export function collect<T>(source: Observable<T>): Outcome<T> {
  const outcome: Outcome<T> = { values: [], completed: false };
  source
    .subscribe({
      next: (value) => outcome.values.push(value),
      error: (error) => (outcome.error = error),
      complete: () => (outcome.completed = true),
    })
    .unsubscribe();
  return outcome;
}

/** `bytes` cut at `cuts`, offsets in any order; a repeated offset makes an empty chunk. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  return offsets.slice(1).map((end, i) => bytes.subarray(offsets[i], end));
}

/** A framing under test: the frames it can carry, and the operators that write and read them. */
export interface Framing<F> {
  frames: fc.Arbitrary<F[]>;
  encode: OperatorFunction<F, Buffer>;
  decode: OperatorFunction<Buffer, unknown>;
  /** What decoding gives back for a frame; default the frame itself. */
  expected?: (frame: F) => unknown;
}

function expectRoundTrip<F>(framing: Framing<F>, frames: F[], split: (bytes: Buffer) => Buffer[]): void {
  const encoded = collect(from(frames).pipe(framing.encode, toArray()));
  expect(encoded.error).to.equal(undefined);
  const chunks = split(Buffer.concat(encoded.values[0] ?? []));
  const decoded = collect(from(chunks).pipe(framing.decode));
  expect(decoded.error).to.equal(undefined);
  expect(decoded.completed).to.equal(true);
  expect(decoded.values).to.deep.equal(frames.map(framing.expected ?? ((frame) => frame)));
}

/** Every byte its own chunk, or cuts at random offsets (taken modulo the length, repeats giving empty chunks). */
const chunking = fc.oneof(fc.constant('every byte' as const), fc.array(fc.nat(), { maxLength: 20 }));

/** Property: any frames, encoded and then split into chunks anywhere, decode to the same frames. */
export function itDecodesAnySplit<F>(framing: Framing<F>): void {
  it('decodes the frames it encoded, however the bytes are split into chunks', () => {
    fc.assert(
      fc.property(framing.frames, chunking, (frames, cuts) =>
        expectRoundTrip(framing, frames, (bytes) =>
          cuts === 'every byte'
            ? splitAt(bytes, Array.from(bytes.keys()))
            : splitAt(bytes, cuts.map((cut) => cut % (bytes.length + 1))),
        ),
      ),
    );
  });
}

/**
 * One example: it decodes to its frames, and `decoder` (the codec under `framing.decode`) gives
 * the same frames however its bytes are split, with rxwire/testing's `everySplit`.
 */
export function itDecodesEverySplitOf<F>(frames: F[], framing: Framing<F>, decoder: DecoderFactory<unknown>): void {
  it('decodes an example to the same frames however it is split', () => {
    expectRoundTrip(framing, frames, (bytes) => [bytes]);
    const encoded = collect(from(frames).pipe(framing.encode)).values;
    everySplit(decoder, Buffer.concat(encoded), { seed: 1 });
  });
}

/**
 * Feeds `bytes` to a decoder one byte per chunk and returns its frames. It yields to the event
 * loop now and then, so that mocha's timeout can stop a decoder whose cost has gone quadratic.
 */
export async function feedByteByByte<F>(decoder: Decoder<F>, bytes: Buffer): Promise<F[]> {
  const frames: F[] = [];
  for (let i = 0; i < bytes.length; i++) {
    frames.push(...decoder.decode(bytes.subarray(i, i + 1)).frames);
    if (i % 4096 === 0) await new Promise(setImmediate);
  }
  return frames;
}
