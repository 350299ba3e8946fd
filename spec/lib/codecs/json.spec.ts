import { expect } from 'chai';
import { left, right } from 'fp-ts/Either';
import * as t from 'io-ts';
import { jsonFrameDecoder, jsonFrameEncoder } from '../../../lib/codecs/json';
import { DecodeError } from '../../../lib/core/errors';

const Order = t.type({ id: t.number, items: t.array(t.type({ sku: t.string, qty: t.number })) });
const decodeOrder = jsonFrameDecoder(Order);

describe('jsonFrameDecoder', () => {
  it('gives the value when the frame is JSON of the right shape', () => {
    expect(decodeOrder(Buffer.from('{"id":1,"items":[]}'))).to.deep.equal(right({ id: 1, items: [] }));
  });

  it('names the path of the first mismatch in one line', () => {
    const decoded = decodeOrder(Buffer.from('{"id":1,"items":[{"sku":"a","qty":1},{"sku":"b","qty":"two"}]}'));
    expect(decoded).to.deep.equal(left(new DecodeError('.items[1].qty: expected number, got "two"')));
  });

  it('says what is wrong with text that is not JSON, in one line', () => {
    expect(decodeOrder(Buffer.from('{"id":'))).to.deep.equal(left(new DecodeError('not JSON: Unexpected end of JSON input')));
    const decoded = decodeOrder(Buffer.from('hel\nlo'));
    expect(decoded._tag === 'Left' && decoded.left.message).to.equal(
      `not JSON: Unexpected token 'h', "hel lo" is not valid JSON`,
    );
  });

  it('keeps the start of a bad frame for logs', () => {
    const decoded = decodeOrder(Buffer.from(`[${'1,'.repeat(100)}1]`));
    expect(decoded._tag === 'Left' && decoded.left.excerpt).to.equal(`[${'1,'.repeat(38)}...`);
  });
});

describe('jsonFrameEncoder', () => {
  it('writes the value as JSON, through the codec when given', () => {
    const Cents = new t.Type<number, string>('Cents', t.number.is, t.failure, (n) => (n / 100).toFixed(2));
    expect(jsonFrameEncoder()({ a: [1, 'x'] })).to.deep.equal(Buffer.from('{"a":[1,"x"]}'));
    expect(jsonFrameEncoder(t.type({ price: Cents }))({ price: 1250 })).to.deep.equal(Buffer.from('{"price":"12.50"}'));
  });
});
