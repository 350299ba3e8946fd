import { expect } from 'chai';
import { left } from 'fp-ts/Either';
import { lengthPrefixedDecoder, lengthPrefixedEncoder } from '../../../lib/codecs/lengthPrefixed';
import { DecodeError, FrameTooLong, IncompleteFrame } from '../../../lib/core/errors';
import { feedByteByByte } from './splits';

describe('lengthPrefixedDecoder', () => {
  it('fails a 4 GB header at once, before buffering any payload', () => {
    const decoder = lengthPrefixedDecoder({ headerBytes: 4 })();
    const { frames, error } = decoder.decode(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(frames).to.deep.equal([]);
    expect(error).to.be.instanceOf(FrameTooLong);
    expect(error?.message).to.equal('frame of 4294967295 bytes exceeds the 16777216-byte limit');
    expect(decoder.buffered).to.equal(0);
  });

  it('reads a little-endian header that counts itself', () => {
    const decoder = lengthPrefixedDecoder({ headerBytes: 2, endian: 'little', lengthIncludesHeader: true })();
    expect(decoder.decode(Buffer.from([5, 0, 0x61, 0x62, 0x63, 2, 0]))).to.deep.equal({
      frames: [Buffer.from('abc'), Buffer.alloc(0)],
    });
  });

  it('refuses a header that counts itself but is shorter than itself', () => {
    const { error } = lengthPrefixedDecoder({ headerBytes: 2, lengthIncludesHeader: true })().decode(Buffer.from([0, 1]));
    expect(error).to.be.instanceOf(DecodeError);
    expect(error?.message).to.equal('length 1 is less than the 2-byte header it includes');
  });

  it('fails input that ends inside a payload or a header', () => {
    const inPayload = lengthPrefixedDecoder({ headerBytes: 2 })();
    inPayload.decode(Buffer.from([0, 8, 1, 2, 3]));
    expect(inPayload.end().error).to.be.instanceOf(IncompleteFrame);
    expect(inPayload.end().error?.message).to.equal('input ended inside a frame: 3 of 8 bytes');

    const inHeader = lengthPrefixedDecoder({ headerBytes: 4 })();
    inHeader.decode(Buffer.from([0]));
    expect(inHeader.end().error?.message).to.equal('input ended inside a length header: 1 of 4 bytes');
  });

  // Copying the buffered payload per chunk would take minutes here (see the lines spec).
  it('takes a 1 MB payload fed one byte at a time in linear time', async function () {
    this.timeout(10_000);
    const payload = Buffer.alloc(1024 * 1024, 'x');
    const decoder = lengthPrefixedDecoder({ headerBytes: 4 })();
    const frames = await feedByteByByte(decoder, Buffer.concat([Buffer.from([0, 0x10, 0, 0]), payload]));
    expect(frames).to.deep.equal([payload]);
  });
});

describe('lengthPrefixedEncoder', () => {
  it('refuses a payload the header cannot express', () => {
    expect(lengthPrefixedEncoder({ headerBytes: 1 })(Buffer.alloc(256))).to.deep.equal(left(new FrameTooLong(256, 255)));
    expect(lengthPrefixedEncoder({ headerBytes: 1, lengthIncludesHeader: true })(Buffer.alloc(255))).to.deep.equal(
      left(new FrameTooLong(255, 254)),
    );
  });

  it('refuses a payload longer than maxLength', () => {
    const encoded = lengthPrefixedEncoder({ headerBytes: 4, maxLength: 3 })(Buffer.from('abcd'));
    expect(encoded).to.deep.equal(left(new FrameTooLong(4, 3)));
  });
});
