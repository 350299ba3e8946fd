import { expect } from 'chai';
import { encodeLines, InvalidOption } from 'rxwire';
import { of } from 'rxjs';
import { collect } from '../codecs/splits';

describe('encodeLines', () => {
  it('ends each string or Buffer with the delimiter, one Buffer out per line', () => {
    const outcome = collect(of('héllo', Buffer.from('bytes'), '').pipe(encodeLines()));
    expect(outcome.values).to.deep.equal([Buffer.from('héllo\n'), Buffer.from('bytes\n'), Buffer.from('\n')]);
  });

  it('uses the delimiter it is given', () => {
    expect(collect(of('a').pipe(encodeLines({ delimiter: Buffer.from([0]) }))).values).to.deep.equal([Buffer.from('a\0')]);
  });

  it('refuses an empty delimiter when it is made', () => {
    expect(() => encodeLines({ delimiter: Buffer.alloc(0) })).to.throw(InvalidOption, /^encodeLines: delimiter: /);
  });
});
