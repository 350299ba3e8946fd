import { expect } from 'chai';
import fc from 'fast-check';
import { left, right } from 'fp-ts/Either';
import * as t from 'io-ts';
import { from, pipe } from 'rxjs';
import { DecodeError, encodeJson, encodeLines, json, lines, linesDecoder } from 'rxwire';
import { collect, itDecodesAnySplit, itDecodesEverySplitOf } from '../codecs/splits';

const Message = t.type({ name: t.string, tags: t.array(t.string), n: t.number });
type Message = t.TypeOf<typeof Message>;

describe('json', () => {
  describe('over lines', () => {
    const framing = {
      frames: fc.array(fc.record({ name: fc.string({ unit: 'grapheme' }), tags: fc.array(fc.string()), n: fc.integer() })),
      encode: pipe(encodeJson<Message>(), encodeLines()),
      decode: pipe(lines(), json(Message)),
      expected: right,
    };
    itDecodesAnySplit(framing);
    itDecodesEverySplitOf([{ name: 'é€😀', tags: ['a\nb'], n: -1 }], framing, linesDecoder());
  });

  it('gives Left(DecodeError) with one line for a bad frame, and goes on with the next', () => {
    const input = ['{"a":1}', 'not json', '{"a":"x"}', '{"a":2}'].map((text) => Buffer.from(text));
    const outcome = collect(from(input).pipe(json(t.type({ a: t.number }))));
    expect(outcome.values).to.deep.equal([
      right({ a: 1 }),
      left(new DecodeError(`not JSON: Unexpected token 'o', "not json" is not valid JSON`)),
      left(new DecodeError('.a: expected number, got "x"')),
      right({ a: 2 }),
    ]);
    expect(outcome.completed).to.equal(true);
  });
});
