import { expect } from 'chai';
import { AssertionError } from 'node:assert';
import { map, pipe } from 'rxjs';
import {
  Decoder,
  DecoderFactory,
  encodeLines,
  fixedSizeDecoder,
  InvalidOption,
  lengthPrefixedDecoder,
  lengthPrefixedEncoder,
  lines,
  linesDecoder,
} from 'rxwire';
import { everySplit } from 'rxwire/testing';
import echo from '../../../handlers/echo';
import jsonCalc from '../../../handlers/json-calc';
import reverseLines from '../../../handlers/reverse-lines';
import upper from '../../../handlers/upper';

/** The bug everySplit is for: a CRLF decoder that looks for the delimiter in each chunk alone. */
const chunkBlindCrlf: DecoderFactory<Buffer> = () => {
  let partial = Buffer.alloc(0);
  return {
    decode(chunk: Buffer) {
      const parts = chunk.toString('latin1').split('\r\n');
      parts[0] = partial.toString('latin1') + parts[0];
      partial = Buffer.from(parts.pop()!, 'latin1');
      return { frames: parts.map((part) => Buffer.from(part, 'latin1')) };
    },
    end: () => ({ frames: partial.length > 0 ? [partial] : [] }),
    get buffered() {
      return partial.length;
    },
  } satisfies Decoder<Buffer>;
};

function failureOf(check: () => void): AssertionError {
  try {
    check();
  } catch (error) {
    expect(error).to.be.instanceOf(AssertionError);
    return error as AssertionError;
  }
  return expect.fail('everySplit passed') as never;
}

describe('everySplit', () => {
  it('names the offset where a decoder that assumes the delimiter never spans chunks breaks', () => {
    const failure = failureOf(() => everySplit(chunkBlindCrlf, 'ab\r\ncd'));
    expect(failure.message).to.equal(
      'everySplit: the input split at offset 3 gives another outcome than the input whole\n' +
        '  whole:             ["ab", "cd"], then complete\n' +
        '  split at offset 3: ["ab\\r\\ncd"], then complete',
    );
  });

  it('finds a split that breaks a handler only when cut in three, with fast-check, and names its offsets', () => {
    // Keeps every third read: fine cut in two, wrong once three reads arrive.
    const third = (input: import('rxjs').Observable<Buffer>) => input.pipe(map((chunk, i) => (i === 2 ? Buffer.alloc(0) : chunk)));
    const failure = failureOf(() => everySplit(third, 'abcdefgh', { randomSplits: 100, seed: 7 }));
    expect(failure.message).to.match(/^everySplit: the input split at offsets \d+, \d+(, \d+)* gives another outcome than the input whole \(fast-check seed 7\)\n/);
    expect(failure.message).to.match(/\n  whole: +"abcdefgh", then complete\n  split at offsets [\d, ]+: +"[a-h]+", then complete$/);
  });

  it('passes a handler whose output does not depend on the splits, however it chunks its output', () => {
    everySplit(pipe(lines(), map((line: Buffer) => Buffer.from(line).reverse()), encodeLines()), 'one\ntwo\r\nthree', { seed: 1 });
  });

  it('gives every run its own copy of the input, so a handler that changes its input in place is judged on its output', () => {
    everySplit(pipe(lines(), map((line: Buffer) => line.reverse()), encodeLines()), 'one\ntwo\r\nthree', { seed: 1 });
  });

  it('refuses an input too long to split at every offset, and unknown options', () => {
    expect(() => everySplit(upper, Buffer.alloc(64 * 1024 + 1))).to.throw(InvalidOption, 'everySplit: input: expected at most 65536 bytes, got 65537');
    expect(() => everySplit(upper, 'a', { seeds: 1 } as never)).to.throw(InvalidOption, 'everySplit: unknown option "seeds" (did you mean "seed"?)');
    // What is no handler nor decoder factory is refused, rather than passing every split alike.
    expect(() => everySplit({} as never, 'abc')).to.throw(InvalidOption, 'everySplit: handler: expected a handler function, got object');
    expect(() => everySplit(null as never, 'abc')).to.throw(InvalidOption, 'everySplit: handler: expected a handler function, got null');
    expect(() => everySplit((async (input: unknown) => input) as never, 'abc')).to.throw(InvalidOption, 'everySplit: handler: expected a handler function, got an async function');
  });

  describe('passes every built-in codec', () => {
    const codecs: [string, DecoderFactory<unknown>, string | Buffer][] = [
      ['lines', linesDecoder(), 'one\ntwo\r\n\nthree'],
      ['lines with a multi-byte delimiter', linesDecoder({ delimiter: 'aab' }), 'baaabcaabaab'],
      ['lines keeping the delimiter', linesDecoder({ delimiter: '\r\n', keepDelimiter: true }), 'a\r\r\nb\r\n'],
      ['lines past maxLength', linesDecoder({ maxLength: 4 }), 'abc\nabcdefgh'],
      ['fixedSize', fixedSizeDecoder(3), 'abcdefghij'],
      [
        'lengthPrefixed',
        lengthPrefixedDecoder({ headerBytes: 2 }),
        Buffer.concat(['abc', '', 'défg'].map((frame) => (lengthPrefixedEncoder({ headerBytes: 2 })(Buffer.from(frame)) as { right: Buffer }).right)),
      ],
      ['lengthPrefixed cut short', lengthPrefixedDecoder({ headerBytes: 4, endian: 'little' }), Buffer.from([3, 0, 0, 0, 0x61, 0x62])],
    ];
    for (const [name, decoder, input] of codecs) it(name, () => everySplit(decoder, input, { seed: 1 }));
  });

  describe('passes every built-in handler', () => {
    it('upper, with UTF-8 cut anywhere', () => everySplit(upper, 'hé, wörld 😀\n', { seed: 1 }));
    it('echo', () => everySplit(echo, 'anything\r\n\x00\xff', { seed: 1 }));
    it('reverse-lines', () => everySplit(reverseLines, 'héllo\nwörld 😀\n', { seed: 1 }));
    it('json-calc', () => everySplit(jsonCalc, '{"op":"add","a":1,"b":2}\nnot json\n{"op":"div","a":1,"b":0}\n', { seed: 1 }));
  });
});
