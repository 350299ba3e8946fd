import { expect } from 'chai';
import { isRight, left } from 'fp-ts/Either';
import { linesDecoder, linesEncoder } from '../../../lib/codecs/lines';
import { FrameTooLong } from '../../../lib/core/errors';
import { feedByteByByte } from './splits';

const KiB = 1024;

function* repeat(chunk: Buffer, totalBytes: number): Generator<Buffer> {
  for (let sent = 0; sent < totalBytes; sent += chunk.length) yield chunk;
}

describe('linesDecoder', () => {
  it('fails a 100 MB line with no delimiter once it passes maxLength, holding no more than the limit', () => {
    const maxLength = 64 * KiB;
    const decoder = linesDecoder({ maxLength })();
    let consumed = 0;
    let mostBuffered = 0;
    let error: unknown;
    for (const chunk of repeat(Buffer.alloc(64 * KiB, 'a'), 100 * KiB * KiB)) {
      consumed += chunk.length;
      const decoded = decoder.decode(chunk);
      mostBuffered = Math.max(mostBuffered, decoder.buffered);
      if ((error = decoded.error)) break;
    }
    expect(error).to.be.instanceOf(FrameTooLong);
    expect((error as FrameTooLong).message).to.equal('frame of at least 65537 bytes exceeds the 65536-byte limit');
    expect(consumed).to.equal(2 * 64 * KiB);
    expect(mostBuffered).to.be.at.most(maxLength + 1);
  });

  it('holds a line of exactly maxLength, and a CR after it, until its newline comes', () => {
    const decoder = linesDecoder({ maxLength: 4 })();
    expect(decoder.decode(Buffer.from('abcd\r'))).to.deep.equal({ frames: [] });
    expect(decoder.decode(Buffer.from('\n'))).to.deep.equal({ frames: [Buffer.from('abcd')] });
  });

  it('tells a whole line over the limit as one cut short: at least a byte past the limit, however it was split', () => {
    const decoded = linesDecoder({ maxLength: 4 })().decode(Buffer.from('ok\nabcdefgh\nlost\n'));
    expect(decoded.frames).to.deep.equal([Buffer.from('ok')]);
    expect(decoded.error?.message).to.equal('frame of at least 5 bytes exceeds the 4-byte limit');
  });

  it('finds a multi-byte delimiter split across three chunks', () => {
    const decoder = linesDecoder({ delimiter: '<=>' })();
    expect(decoder.decode(Buffer.from('one<')).frames).to.deep.equal([]);
    expect(decoder.decode(Buffer.from('=')).frames).to.deep.equal([]);
    expect(decoder.decode(Buffer.from('>two<=>')).frames).to.deep.equal([Buffer.from('one'), Buffer.from('two')]);
  });

  it('emits a last line with no delimiter at the end of input, but no empty one', () => {
    const decoder = linesDecoder()();
    decoder.decode(Buffer.from('a\nb\r'));
    expect(decoder.end()).to.deep.equal({ frames: [Buffer.from('b')] });
    expect(decoder.end()).to.deep.equal({ frames: [] });
  });

  it('fails a last line over the limit at the end of input', () => {
    const decoder = linesDecoder({ maxLength: 2, delimiter: '\r\n' })();
    decoder.decode(Buffer.from('ab\r'));
    expect(decoder.end().error?.message).to.equal('frame of at least 3 bytes exceeds the 2-byte limit');
    // Told to skip, it is a last Left instead, as a longer one would have been.
    const skipping = linesDecoder({ maxLength: 2, delimiter: '\r\n', onError: 'skip' })();
    skipping.decode(Buffer.from('ok\r\nab\r'));
    expect(skipping.end()).to.deep.equal({ frames: [left(FrameTooLong.pastLimit(2))] });
  });

  it('returns lines inside one chunk as views of it, without copying', () => {
    const chunk = Buffer.from('first\nsecond\n');
    const { frames } = linesDecoder()().decode(chunk);
    expect(frames.map(String)).to.deep.equal(['first', 'second']);
    for (const frame of frames) expect(frame.buffer).to.equal(chunk.buffer);
  });

  // A decoder that copied or rescanned the buffered line per chunk would do ~5·10¹¹ byte operations
  // here and run for minutes; a linear one takes well under a second.
  for (const delimiter of ['\n', '\r\n\r\n']) {
    it(`takes a 1 MB line fed one byte at a time, ended by ${JSON.stringify(delimiter)}, in linear time`, async function () {
      this.timeout(10_000);
      const decoder = linesDecoder({ maxLength: 2 * KiB * KiB, delimiter })();
      const line = Buffer.alloc(KiB * KiB, 'x');
      expect(await feedByteByByte(decoder, Buffer.concat([line, Buffer.from(delimiter)]))).to.deep.equal([line]);
    });
  }
});

describe('linesEncoder', () => {
  it('writes a string as UTF-8 and the delimiter after it, in one Buffer', () => {
    const encoded = linesEncoder({ delimiter: '\r\n' })('héllo');
    expect(isRight(encoded) && encoded.right).to.deep.equal(Buffer.from('héllo\r\n'));
  });
});
