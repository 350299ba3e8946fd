import { expect } from 'chai';
import { fixedSizeDecoder } from '../../../lib/codecs/fixedSize';
import { IncompleteFrame } from '../../../lib/core/errors';

describe('fixedSizeDecoder', () => {
  it('fails input that ends with a short frame', () => {
    const decoder = fixedSizeDecoder(4)();
    expect(decoder.decode(Buffer.from('abcdefg'))).to.deep.equal({ frames: [Buffer.from('abcd')] });
    const { error } = decoder.end();
    expect(error).to.be.instanceOf(IncompleteFrame);
    expect(error?.message).to.equal('input ended inside a frame: 3 of 4 bytes');
  });

  it('joins a frame split across chunks, and returns frames inside one chunk as views of it', () => {
    const decoder = fixedSizeDecoder(2)();
    expect(decoder.decode(Buffer.from('a')).frames).to.deep.equal([]);
    const chunk = Buffer.from('bcd');
    const { frames } = decoder.decode(chunk);
    expect(frames).to.deep.equal([Buffer.from('ab'), Buffer.from('cd')]);
    expect(frames[1].buffer).to.equal(chunk.buffer);
    expect(decoder.end()).to.deep.equal({ frames: [] });
  });
});
