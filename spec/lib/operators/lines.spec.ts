import { expect } from 'chai';
import { encodeLines, FrameTooLong, InvalidOption, lines, linesDecoder } from 'rxwire';
import fc from 'fast-check';
import { from } from 'rxjs';
import { collect, itDecodesAnySplit, itDecodesEverySplitOf } from '../codecs/splits';

/** Lines made of a few bytes, so that delimiters and their parts turn up often. */
const linesOf = (alphabet: string, keep: (line: Buffer) => boolean = () => true) =>
  fc.array(
    fc.array(fc.constantFrom(...Buffer.from(alphabet)), { maxLength: 12 }).map((bytes) => Buffer.from(bytes)).filter(keep),
    { maxLength: 10 },
  );

/** A line ends at the first delimiter, so a line must not hold one, nor end with the start of one. */
const endsAtItsDelimiter = (delimiter: string) => (line: Buffer) =>
  Buffer.concat([line, Buffer.from(delimiter)]).indexOf(delimiter) === line.length;

describe('lines', () => {
  describe('with the default delimiter', () => {
    const framing = {
      frames: linesOf('ab\r\xff', (line) => line[line.length - 1] !== 0x0d),
      encode: encodeLines(),
      decode: lines(),
    };
    itDecodesAnySplit(framing);
    itDecodesEverySplitOf(['one', 'two\r', '', 'three'].map((text) => Buffer.from(text)), {
      ...framing,
      encode: encodeLines({ delimiter: '\r\n' }),
    }, linesDecoder());
  });

  describe('reading CRLF lines with the default delimiter', () => {
    itDecodesAnySplit({ frames: linesOf('ab\r'), encode: encodeLines({ delimiter: '\r\n' }), decode: lines() });
  });

  describe('with a multi-byte delimiter', () => {
    const framing = {
      frames: linesOf('abc', endsAtItsDelimiter('aab')),
      encode: encodeLines({ delimiter: 'aab' }),
      decode: lines({ delimiter: Buffer.from('aab') }),
    };
    itDecodesAnySplit(framing);
    itDecodesEverySplitOf(['ba', 'cab', '', 'c'].map((text) => Buffer.from(text)), framing, linesDecoder({ delimiter: Buffer.from('aab') }));
  });

  describe('keeping the delimiter', () => {
    itDecodesAnySplit({
      frames: linesOf('abc', endsAtItsDelimiter('aab')),
      encode: encodeLines({ delimiter: 'aab' }),
      decode: lines({ delimiter: 'aab', keepDelimiter: true }),
      expected: (line: Buffer) => Buffer.concat([line, Buffer.from('aab')]),
    });
  });

  it('errors with FrameTooLong on 100 MB with no newline, having read little more than the limit', () => {
    let read = 0;
    function* noNewline() {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      while (read < 100 * 1024 * 1024) {
        read += chunk.length;
        yield chunk;
      }
    }
    const outcome = collect(from(noNewline()).pipe(lines({ maxLength: 1024 * 1024 })));
    expect(outcome.error).to.be.instanceOf(FrameTooLong);
    expect(read).to.be.at.most(1024 * 1024 + 64 * 1024);
  });

  it('refuses options that make no sense when it is made, in one line', () => {
    expect(() => lines({ maxLength: 0 })).to.throw(InvalidOption, /^lines: maxLength: expected a whole number ≥ 1, got 0$/);
    expect(() => lines({ delimiter: '' })).to.throw(
      InvalidOption,
      /^lines: delimiter: expected a non-empty string or Buffer, got ""$/,
    );
  });
});
