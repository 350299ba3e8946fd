import { expect } from 'chai';
import { DecoderFactory, encodeLines, FrameTooLong, InvalidOption, lines, linesDecoder } from 'rxwire';
import fc from 'fast-check';
import { Either, isLeft, Left, Right } from 'fp-ts/Either';
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

  // A handler's answers must not depend on how TCP cut its input (`everySplit`): nor may the
  // error of a line past the limit, which a decoder sees whole in one read and cut short in another.
  describe('past maxLength', () => {
    const cutsOf = (bytes: Buffer) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: 8 });
    const decodeSplit = (newDecoder: DecoderFactory<unknown>, bytes: Buffer, cuts: number[]) => {
      const offsets = [0, ...cuts.filter((cut) => cut < bytes.length).sort((a, b) => a - b), bytes.length];
      const decoder = newDecoder();
      const frames: string[] = [];
      for (const chunk of [...offsets.slice(1).map((end, i) => bytes.subarray(offsets[i], end)), undefined]) {
        const step = chunk ? decoder.decode(chunk) : decoder.end();
        frames.push(...step.frames.map(show));
        if (step.error) return { frames, error: (step.error as Error).message };
      }
      return { frames, error: undefined };
    };
    const show = (frame: unknown): string =>
      Buffer.isBuffer(frame) ? frame.toString() : isLeft(frame as Either<Error, Buffer>) ? `skipped: ${(frame as Left<Error>).left.message}` : show((frame as Right<Buffer>).right);

    // Lines of a few letters and CRs (a CR before the newline is dropped, so its slack is tried),
    // and with a two-byte delimiter that a read may cut in two; the last line unterminated or not.
    const framings = [
      { name: 'newline lines, CRs among the bytes', alphabet: /^[ab\r]{0,9}$/, delimiter: '\n', options: {} },
      { name: 'lines ended by "xy"', alphabet: /^[abx]{0,9}$/, delimiter: 'xy', options: { delimiter: 'xy' } },
    ];
    for (const { name, alphabet, delimiter, options } of framings) {
      const input = fc
        .tuple(fc.array(fc.stringMatching(alphabet), { minLength: 1, maxLength: 6 }), fc.boolean())
        .map(([texts, ended]) => Buffer.from(texts.join(delimiter) + (ended ? delimiter : '')));
      const splitInput = input.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes)));

      it(`fails with the same frames and the same error however the input is split: ${name}`, () => {
        fc.assert(
          fc.property(splitInput, ([bytes, cuts]) => {
            const newDecoder = linesDecoder({ maxLength: 4, ...options });
            expect(decodeSplit(newDecoder, bytes, cuts)).to.deep.equal(decodeSplit(newDecoder, bytes, []));
          }),
        );
      });

      it(`skips, onError: 'skip', with the same frames and errors however the input is split: ${name}`, () => {
        fc.assert(
          fc.property(splitInput, ([bytes, cuts]) => {
            const newDecoder = linesDecoder({ maxLength: 4, onError: 'skip', ...options });
            expect(decodeSplit(newDecoder, bytes, cuts)).to.deep.equal(decodeSplit(newDecoder, bytes, []));
          }),
        );
      });
    }

    it('tells a line past the limit as at least one byte past it, whole or cut short', () => {
      expect(decodeSplit(linesDecoder({ maxLength: 4 }), Buffer.from('ok\nabcdefgh\n'), [])).to.deep.equal({ frames: ['ok'], error: 'frame of at least 5 bytes exceeds the 4-byte limit' });
      expect(decodeSplit(linesDecoder({ maxLength: 4 }), Buffer.from('ok\nabcdefgh\n'), [9])).to.deep.equal({ frames: ['ok'], error: 'frame of at least 5 bytes exceeds the 4-byte limit' });
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
