import { expect } from 'chai';
import fc from 'fast-check';
import { upperBytes, upperInPlace } from 'rxwire';

/** Python's bytes.upper(), byte by byte: only a–z change. */
const pythonUpper = (byte: number) => (byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte);

describe('asciiUpper (upperBytes, upperInPlace)', () => {
  it('uppercases exactly a–z and leaves the other 230 byte values alone', () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect([...upperBytes(every)]).to.deep.equal([...every].map(pythonUpper));
  });

  it('uppercases every byte value at every offset and length, word by word or not, as bytes.upper() would', () => {
    // Views at every alignment of one ArrayBuffer, from empty to past the word-at-a-time threshold.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(7), fc.nat(7), (bytes, before, after) => {
        const whole = Buffer.alloc(before + bytes.length + after, 0x61);
        whole.set(bytes, before);
        const view = whole.subarray(before, before + bytes.length);
        const expected = [...bytes].map(pythonUpper);
        expect([...upperBytes(view)]).to.deep.equal(expected);
        expect(upperInPlace(view)).to.equal(view);
        expect([...view]).to.deep.equal(expected);
        // Not a byte outside the view changes.
        expect([...whole.subarray(0, before), ...whole.subarray(before + bytes.length)]).to.deep.equal(Array(before + after).fill(0x61));
      }),
      { numRuns: 500 },
    );
  });

  it('uppercases the frames of one buffer in turn, short and long, in any order', () => {
    // Views side by side in one ArrayBuffer, as a decoder cuts a read's frames, in random order.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(511), fc.nat(120)), { maxLength: 40 }), (cuts) => {
        const whole = Buffer.alloc(640, 0x61);
        for (const [start, length] of cuts) upperInPlace(whole.subarray(start, start + length));
        const touched = new Set(cuts.flatMap(([start, length]) => Array.from({ length: Math.min(length, 640 - start) }, (_, i) => start + i)));
        expect([...whole].map((byte, i) => (touched.has(i) ? byte === 0x41 : byte === 0x61)).every(Boolean)).to.equal(true);
      }),
      { numRuns: 200 },
    );
    // A short frame of a buffer, then the whole buffer.
    const later = Buffer.alloc(200, 0x62);
    upperInPlace(later.subarray(1, 40));
    upperInPlace(later);
    expect(later.toString()).to.equal('B'.repeat(200));
  });

  it('uppercases a view of a resizable ArrayBuffer after it has grown', () => {
    // Resizable ArrayBuffers (Node 20) are past the TypeScript lib this project targets.
    const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(length: number): void };
    const buffer = new Resizable(128, { maxByteLength: 512 });
    upperInPlace(Buffer.from(buffer, 0, 128).fill(0x61));
    buffer.resize(512);
    const grown = Buffer.from(buffer, 128, 384).fill(0x61);
    upperInPlace(grown);
    expect(grown.toString()).to.equal('A'.repeat(384));
  });

  it('uppercases all 256 byte values in each of the four lanes of a word', () => {
    for (let lane = 0; lane < 4; lane++) {
      const every = Buffer.alloc(256 * 4, 0x7a);
      for (let byte = 0; byte < 256; byte++) every[byte * 4 + lane] = byte;
      const expected = [...every].map(pythonUpper);
      expect([...upperInPlace(every)]).to.deep.equal(expected);
    }
  });
});
