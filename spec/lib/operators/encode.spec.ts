import { expect } from 'chai';
import { left, right } from 'fp-ts/Either';
import { of } from 'rxjs';
import { encode, Encoder, FrameTooLong } from 'rxwire';
import { collect } from '../codecs/splits';

describe('encode', () => {
  const upToThree: Encoder<string> = (text) =>
    text.length > 3 ? left(new FrameTooLong(text.length, 3)) : right(Buffer.from(text));

  it('emits one Buffer per frame, then errors with the first frame it cannot encode', () => {
    const outcome = collect(of('ab', 'cde', 'fghi', 'j').pipe(encode(upToThree)));
    expect(outcome.values.map(String)).to.deep.equal(['ab', 'cde']);
    expect(outcome.error).to.deep.equal(new FrameTooLong(4, 3));
  });
});
