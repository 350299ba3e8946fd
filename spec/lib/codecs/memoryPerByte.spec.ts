import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DecoderFactory } from '../../../lib/codecs/codec';
import { fixedSizeDecoder } from '../../../lib/codecs/fixedSize';
import { lengthPrefixedDecoder } from '../../../lib/codecs/lengthPrefixed';
import { linesDecoder } from '../../../lib/codecs/lines';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Bytes in ArrayBuffers once garbage is collected. V8 frees their memory on a thread of its own after
 * a collection, so the count is read again, a collection each time, until it stops falling (10 at most).
 */
async function collected(): Promise<number> {
  let bytes = Infinity;
  for (let round = 0; round < 10; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const now = process.memoryUsage().arrayBuffers;
    if (now >= bytes) return now;
    bytes = now;
  }
  return bytes;
}

const READ_BYTES = 64 * 1024;
const TRICKLED = 2000;

// A socket read of 1 byte is a view of its own 64 KiB allocation: a decoder that kept each read
// as it came would hold 64 KiB per byte of a frame trickled a byte at a time (125 MiB here).
describe('decoders hold memory in proportion to the bytes they buffer, however finely split', () => {
  const started: [string, DecoderFactory<Buffer>, Buffer][] = [
    ['linesDecoder', linesDecoder(), Buffer.alloc(0)],
    ['lengthPrefixedDecoder', lengthPrefixedDecoder({ headerBytes: 4 }), Buffer.from([0, 1, 0, 0])],
    ['fixedSizeDecoder', fixedSizeDecoder(64 * 1024), Buffer.alloc(0)],
  ];
  for (const [name, newDecoder, header] of started) {
    it(`${name}: ${TRICKLED} one-byte reads of a frame keep a few KiB alive, not their 64 KiB allocations`, async () => {
      const decoder = newDecoder();
      decoder.decode(header);
      const before = await collected();
      for (let i = 0; i < TRICKLED; i++) {
        const read = Buffer.allocUnsafeSlow(READ_BYTES).subarray(0, 1);
        read[0] = 0x61;
        expect(decoder.decode(read).frames).to.have.length(0);
      }
      const held = (await collected()) - before;
      expect(decoder.buffered).to.be.at.least(TRICKLED);
      expect(held).to.be.below(1024 * 1024, `${held} bytes held for ${TRICKLED} bytes buffered`);
    });
  }
});
