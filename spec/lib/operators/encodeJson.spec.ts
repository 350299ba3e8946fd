import { expect } from 'chai';
import * as t from 'io-ts';
import { of } from 'rxjs';
import { encodeJson } from 'rxwire';
import { collect } from '../codecs/splits';

describe('encodeJson', () => {
  it('writes each value as JSON with no delimiter, through the codec when given', () => {
    expect(collect(of({ a: 1 }, 'x').pipe(encodeJson())).values.map(String)).to.deep.equal(['{"a":1}', '"x"']);
    const Flag = new t.Type<boolean, 0 | 1>('Flag', t.boolean.is, t.failure, (b) => (b ? 1 : 0));
    expect(collect(of(true).pipe(encodeJson(Flag))).values.map(String)).to.deep.equal(['1']);
  });

  it('errors the stream with a value JSON cannot hold', () => {
    expect(collect(of(1n).pipe(encodeJson())).error).to.be.instanceOf(TypeError);
  });
});
