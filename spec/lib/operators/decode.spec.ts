import { expect } from 'chai';
import { from, of, take } from 'rxjs';
import { decode, fixedSizeDecoder, FrameTooLong, IncompleteFrame, linesDecoder } from 'rxwire';
import { collect } from '../codecs/splits';

const chunks = (...texts: string[]) => texts.map((text) => Buffer.from(text));

describe('decode', () => {
  it('emits the good frames before a broken one, then errors with its typed error', () => {
    const outcome = collect(from(chunks('ok\nfine\ntoo long\nnever\n')).pipe(decode(linesDecoder({ maxLength: 4 }))));
    expect(outcome.values.map(String)).to.deep.equal(['ok', 'fine']);
    expect(outcome.error).to.be.instanceOf(FrameTooLong);
  });

  it('stops reading a synchronous source once a frame breaks the protocol', () => {
    let read = 0;
    function* endless() {
      for (;;) {
        read++;
        yield Buffer.alloc(1024, 'a');
      }
    }
    const outcome = collect(from(endless()).pipe(decode(linesDecoder({ maxLength: 4096 }))));
    expect(outcome.error).to.be.instanceOf(FrameTooLong);
    expect(read).to.equal(5);
  });

  it('emits what is left at the end of input, or errors for a cut frame', () => {
    expect(collect(of(...chunks('a\nb')).pipe(decode(linesDecoder()))).values.map(String)).to.deep.equal(['a', 'b']);
    const cut = collect(of(...chunks('abcdef')).pipe(decode(fixedSizeDecoder(4))));
    expect(cut.values.map(String)).to.deep.equal(['abcd']);
    expect(cut.error).to.be.instanceOf(IncompleteFrame);
  });

  it('gives each subscription a decoder of its own', () => {
    const framed = of(...chunks('abc')).pipe(decode(fixedSizeDecoder(2)));
    for (let i = 0; i < 2; i++) expect(collect(framed).values.map(String)).to.deep.equal(['ab']);
  });

  it('stops emitting the frames of a chunk when the subscriber has had enough', () => {
    const outcome = collect(of(Buffer.from('abcdefgh')).pipe(decode(fixedSizeDecoder(1)), take(2)));
    expect(outcome.values.map(String)).to.deep.equal(['a', 'b']);
    expect(outcome.completed).to.equal(true);
  });
});
