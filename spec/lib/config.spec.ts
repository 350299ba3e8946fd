import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decodeOrThrow, formatErrors, wholeNumber, wholeNumberFromString } from '../../lib/config';

function firstError<A>(codec: t.Type<A, unknown, unknown>, value: unknown): string {
  const result = codec.decode(value);
  if (E.isRight(result)) throw new Error(`decoded ${JSON.stringify(value)}`);
  return formatErrors(result.left);
}

describe('config', () => {
  describe('formatErrors', () => {
    const Shape = t.type({ a: t.number, list: t.array(t.type({ name: t.string })), either: t.union([t.string, t.number]) });

    it('names the path to the first bad value, and what was expected there', () => {
      expect(firstError(Shape, { a: 'x', list: [], either: 's' })).to.equal('.a: expected number, got "x"');
      expect(firstError(Shape, { a: 1, list: [{ name: 'ok' }, { name: 7 }], either: 1 })).to.equal('.list[1].name: expected string, got 7');
    });

    it('leaves union members out of the path', () => {
      expect(firstError(Shape, { a: 1, list: [], either: true })).to.equal('.either: expected string, got true');
    });

    it('says "nothing" for a missing value and shortens long ones', () => {
      expect(firstError(Shape, { list: [], either: 1 })).to.equal('.a: expected number, got nothing');
      expect(firstError(t.number, 'y'.repeat(100))).to.equal(`expected number, got "${'y'.repeat(56)}...`);
    });
  });

  describe('wholeNumberFromString', () => {
    const port = wholeNumberFromString(0, 65535);

    it('decodes whole numbers in range', () => {
      expect(port.decode('0')).to.deep.equal(E.right(0));
      expect(port.decode('65535')).to.deep.equal(E.right(65535));
    });

    it('refuses what is not a whole number in range, quoting what was given', () => {
      for (const bad of ['-1', '65536', 'abc', '1.5', '', ' 80', '0x50', '1e3']) {
        expect(firstError(port, bad), bad).to.equal(`expected a whole number from 0 to 65535, got ${JSON.stringify(bad)}`);
      }
    });
  });

  describe('decodeOrThrow', () => {
    it('returns the value, or throws a TypeError with the one line', () => {
      expect(decodeOrThrow(wholeNumber(1), 3, 'x: ')).to.equal(3);
      expect(() => decodeOrThrow(t.type({ n: wholeNumber(1) }), { n: 0 }, 'x: ')).to.throw(TypeError, 'x: .n: expected a whole number ≥ 1, got 0');
    });
  });
});
