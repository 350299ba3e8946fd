import { expect } from 'chai';
import fc from 'fast-check';
import { from, of, Subject } from 'rxjs';
import { LengthPrefixedOptions } from '../../../lib/codecs/lengthPrefixed';
import { FrameTooLong, IncompleteFrame } from '../../../lib/errors';
import { encodeLengthPrefixed } from '../../../lib/operators/encodeLengthPrefixed';
import { lengthPrefixed } from '../../../lib/operators/lengthPrefixed';
import { collect, itDecodesAnySplit, itDecodesEverySplitOf } from '../codecs/splits';

describe('lengthPrefixed', () => {
  for (const headerBytes of [1, 2, 4] as const) {
    for (const endian of ['big', 'little'] as const) {
      for (const lengthIncludesHeader of [false, true]) {
        const options: LengthPrefixedOptions = { headerBytes, endian, lengthIncludesHeader };
        describe(JSON.stringify(options), () => {
          const longest = headerBytes === 1 ? 255 - (lengthIncludesHeader ? 1 : 0) : 600;
          itDecodesAnySplit({
            frames: fc.array(fc.uint8Array({ maxLength: longest }).map((bytes) => Buffer.from(bytes)), { maxLength: 8 }),
            encode: encodeLengthPrefixed(options),
            decode: lengthPrefixed(options),
          });
        });
      }
    }
  }

  describe('an example', () => {
    itDecodesEverySplitOf(['abc', '', 'de'].map((text) => Buffer.from(text)), {
      frames: fc.constant([]),
      encode: encodeLengthPrefixed({ headerBytes: 4, endian: 'little' }),
      decode: lengthPrefixed({ headerBytes: 4, endian: 'little' }),
    });
  });

  it('errors with FrameTooLong as soon as a 4 GB header arrives', () => {
    const input = new Subject<Buffer>();
    let error: unknown;
    input.pipe(lengthPrefixed({ headerBytes: 4 })).subscribe({ error: (err) => (error = err) });
    input.next(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(error).to.be.instanceOf(FrameTooLong);
    expect(input.observed).to.equal(false);
  });

  it('errors with IncompleteFrame when the input ends inside a frame', () => {
    const outcome = collect(of(Buffer.from([0, 1, 0x61, 0, 3, 0x62])).pipe(lengthPrefixed({ headerBytes: 2 })));
    expect(outcome.values).to.deep.equal([Buffer.from('a')]);
    expect(outcome.error).to.deep.equal(new IncompleteFrame(1, 3));
  });

  it('refuses options that make no sense when it is made, in one line', () => {
    const bad = (options: unknown) => () => lengthPrefixed(options as LengthPrefixedOptions);
    expect(bad({ headerBytes: 3 })).to.throw(RangeError, /^lengthPrefixed: headerBytes: expected 1, 2 or 4, got 3$/);
    expect(bad({ headerBytes: 2, maxLength: -1 })).to.throw(
      RangeError,
      /^lengthPrefixed: maxLength: expected a whole number ≥ 1, got -1$/,
    );
    expect(bad({ headerBytes: 2, endian: 'middle' })).to.throw(RangeError, /^lengthPrefixed: endian: /);
    expect(() => from([]).pipe(lengthPrefixed({} as LengthPrefixedOptions))).to.throw(RangeError, /headerBytes/);
  });
});
