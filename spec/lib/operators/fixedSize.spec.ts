import { expect } from 'chai';
import { fixedSize, fixedSizeDecoder, IncompleteFrame, InvalidOption } from 'rxwire';
import fc from 'fast-check';
import { identity, of } from 'rxjs';
import { collect, itDecodesAnySplit, itDecodesEverySplitOf } from '../codecs/splits';

describe('fixedSize', () => {
  for (const size of [1, 3, 8]) {
    describe(`of ${size} bytes`, () => {
      itDecodesAnySplit({
        frames: fc.array(fc.uint8Array({ minLength: size, maxLength: size }).map((bytes) => Buffer.from(bytes))),
        encode: identity,
        decode: fixedSize(size),
      });
    });
  }

  describe('an example', () => {
    itDecodesEverySplitOf(['abc', 'def', 'ghi'].map((text) => Buffer.from(text)), {
      frames: fc.constant([]),
      encode: identity,
      decode: fixedSize(3),
    }, fixedSizeDecoder(3));
  });

  it('errors with IncompleteFrame for a short frame at the end of input', () => {
    const outcome = collect(of(Buffer.from('abcdefgh')).pipe(fixedSize(3)));
    expect(outcome.values.map(String)).to.deep.equal(['abc', 'def']);
    expect(outcome.error).to.deep.equal(new IncompleteFrame(2, 3));
  });

  it('refuses a size that is not a whole number ≥ 1 when it is made', () => {
    for (const size of [0, -1, 1.5, NaN]) {
      expect(() => fixedSize(size)).to.throw(InvalidOption, /^fixedSize: size: expected a whole number ≥ 1, got /);
    }
  });
});
