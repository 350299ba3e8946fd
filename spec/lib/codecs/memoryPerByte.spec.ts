import { expect } from 'chai';
import { Decoder, DecoderFactory } from '../../../lib/codecs/codec';
import { fixedSizeDecoder } from '../../../lib/codecs/fixedSize';
import { lengthPrefixedDecoder } from '../../../lib/codecs/lengthPrefixed';
import { linesDecoder } from '../../../lib/codecs/lines';
import { collected } from '../../support/memory';

const TRICKLED = 100_000;
const BYTE = 0x61;

// node:net hands each read over as a Buffer of its own, sized to what was read. A decoder that kept
// each 1-byte read as it came would hold some 250 bytes per byte of a frame trickled a byte at a
// time (25 MB here); one that kept 1-byte views of larger allocations, 64 KiB per byte.
const reads: [string, () => Buffer][] = [
  ['1-byte reads of their own (as node:net reads)', () => Buffer.allocUnsafeSlow(1).fill(BYTE)],
  ['1-byte views of 64 KiB allocations', () => Buffer.allocUnsafeSlow(64 * 1024).fill(BYTE, 0, 1).subarray(0, 1)],
];

describe('decoders hold memory in proportion to the bytes they buffer, however finely split', () => {
  const started: [string, DecoderFactory<Buffer>, Buffer][] = [
    ['linesDecoder', linesDecoder({ maxLength: 1024 * 1024 }), Buffer.alloc(0)],
    ['lengthPrefixedDecoder', lengthPrefixedDecoder({ headerBytes: 4 }), Buffer.from([0, 2, 0, 0])],
    ['fixedSizeDecoder', fixedSizeDecoder(1024 * 1024), Buffer.alloc(0)],
  ];
  for (const [name, newDecoder, header] of started) {
    for (const [kind, read] of reads) {
      it(`${name}: ${TRICKLED} ${kind} of a frame keep at most 4 bytes per byte alive`, async () => {
        const trickle = (decoder: Decoder<Buffer>) => {
          let frames = decoder.decode(header).frames.length;
          for (let i = 0; i < TRICKLED; i++) frames += decoder.decode(read()).frames.length;
          expect(frames).to.equal(0);
        };
        // Once first, so that the code it compiles is not counted.
        trickle(newDecoder());
        const decoder = newDecoder();
        const before = await collected();
        trickle(decoder);
        const held = (await collected()) - before;
        expect(decoder.buffered).to.be.at.least(TRICKLED);
        expect(held).to.be.below(4 * TRICKLED, `${held} bytes held for ${TRICKLED} bytes buffered`);
      });
    }
  }

  it('linesDecoder: a partial line of 5 bytes costs under 1 KiB, and nothing once the line is complete', async () => {
    const DECODERS = 5000;
    const newDecoder = linesDecoder();
    newDecoder().decode(Buffer.alloc(5, 'a'));
    const decoders = Array.from({ length: DECODERS }, () => newDecoder());
    const before = await collected();
    for (const decoder of decoders) decoder.decode(Buffer.allocUnsafeSlow(5).fill(BYTE));
    const holding = ((await collected()) - before) / DECODERS;
    for (const decoder of decoders) expect(decoder.decode(Buffer.from('\n')).frames).to.have.length(1);
    const empty = ((await collected()) - before) / DECODERS;
    expect(holding).to.be.below(1024, `${holding | 0} bytes per decoder holding 5`);
    expect(empty).to.be.below(256, `${empty | 0} bytes per decoder holding nothing`);
  });
});
