import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { DecoderFactory } from '../../../lib/codecs/codec';
import { linesDecoder } from '../../../lib/codecs/lines';
import { map, pipe } from 'rxjs';
import { fixedSizeDecoder } from '../../../lib/codecs/fixedSize';
import { lengthPrefixedDecoder } from '../../../lib/codecs/lengthPrefixed';
import { respDecoder } from '../../../lib/codecs/resp';
import { RespValue } from '../../../lib/codecs/respValue';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../../../lib/core/errors';
import { encodeResp } from '../../../lib/operators/encodeResp';
import { resp } from '../../../lib/operators/resp';
import { encodeLines } from '../../../lib/operators/encodeLines';
import { lines } from '../../../lib/operators/lines';
import { portOf, roundTrip, startServer } from '../../support/net';
import { splitAt } from './splits';

/** Every frame of `bytes` split at `cuts`, as text, or the name of the error skipped in its place. */
function decodeSplit<F>(newDecoder: DecoderFactory<E.Either<Error, F>>, bytes: Buffer, cuts: number[], show: (frame: F) => string): string[] {
  const decoder = newDecoder();
  const out: string[] = [];
  for (const step of [...splitAt(bytes, cuts).map((chunk) => decoder.decode(chunk)), decoder.end()]) {
    expect(step.error).to.equal(undefined);
    // An error by its message too: it must not depend on the split either.
    out.push(...step.frames.map(E.match((error) => `${error.name}: ${error.message}`, show)));
  }
  return out;
}

describe("onError: 'skip'", () => {
  describe('lines', () => {
    for (const delimiter of [undefined, '||']) {
      it(`drops each line past maxLength up to its delimiter, reports it once, and reads on, however split (delimiter ${JSON.stringify(delimiter ?? '\\n')})`, () => {
        const text = delimiter ?? '\n';
        const line = fc.array(fc.constantFrom(...'ab|'), { maxLength: 12 }).map((chars) => chars.join('')).filter((l) => !`${l}${text}`.slice(0, -1).includes(text) && !l.endsWith('|'));
        fc.assert(
          fc.property(fc.array(line, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
            const bytes = Buffer.from(lines.map((l) => `${l}${text}`).join(''));
            const decoded = decodeSplit(linesDecoder({ maxLength: 5, onError: 'skip', ...(delimiter ? { delimiter } : {}) }), bytes, cuts.map((cut) => cut % (bytes.length + 1)), String);
            expect(decoded).to.deep.equal(lines.map((l) => (l.length > 5 ? `FrameTooLong: ${FrameTooLong.pastLimit(5).message}` : l)));
          }),
        );
      });
    }

    it('holds no more than the limit of a line it drops, however long', () => {
      const decoder = linesDecoder({ maxLength: 10, onError: 'skip' })();
      const first = decoder.decode(Buffer.alloc(100, 'x'));
      expect(first.frames).to.have.length(1);
      expect(E.isLeft(first.frames[0]!) && first.frames[0].left).to.be.instanceOf(FrameTooLong);
      for (let i = 0; i < 100; i++) expect(decoder.decode(Buffer.alloc(1000, 'x')).frames).to.deep.equal([]);
      expect(decoder.buffered).to.equal(0);
      expect(decoder.decode(Buffer.from('x\nnext\n')).frames).to.deep.equal([E.right(Buffer.from('next'))]);
    });

    it("fails as before when told 'fail', or not told", () => {
      expect(linesDecoder({ maxLength: 2 })().decode(Buffer.from('abc\n')).error).to.be.instanceOf(FrameTooLong);
      expect(linesDecoder({ maxLength: 2, onError: 'fail' })().decode(Buffer.from('abc\n')).error).to.be.instanceOf(FrameTooLong);
    });
  });
});

describe("onError: 'skip' over a real socket", () => {
  it('lines(): a line over the limit is dropped and answered once, and the next line is answered', async () => {
    const server = await startServer(
      pipe(
        lines({ maxLength: 8, onError: 'skip' }),
        map(E.match((error) => `skipped: ${error.message}`, (line) => `ok ${line}`)),
        encodeLines(),
      ),
    );
    try {
      const reply = await roundTrip({ port: portOf(server.address) }, Buffer.from('hello\n'), Buffer.alloc(100_000, 'x'), Buffer.from('x\nnext\n'));
      const [first, skipped, next, ...rest] = reply.toString().split('\n');
      expect([first, next, ...rest]).to.deep.equal(['ok hello', 'ok next', '']);
      // As many bytes as the read that passed the limit held: reported once, however many reads the line took.
      expect(skipped).to.match(/^skipped: frame of at least \d+ bytes exceeds the 8-byte limit$/);
    } finally {
      await server.close();
    }
  });
});

describe("onError: 'skip', for lengthPrefixed, fixedSize and resp", () => {
  it('lengthPrefixed: drops each payload past maxLength as it arrives, reports it once, and reads on, however split', () => {
    const payload = fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (payloads, cuts) => {
        const bytes = Buffer.concat(payloads.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])));
        const decoded = decodeSplit(lengthPrefixedDecoder({ headerBytes: 1, maxLength: 5, onError: 'skip' }), bytes, cuts.map((cut) => cut % (bytes.length + 1)), String);
        expect(decoded).to.deep.equal(payloads.map((p) => (p.length > 5 ? `FrameTooLong: ${new FrameTooLong(p.length, 5).message}` : p)));
      }),
    );
  });

  it('lengthPrefixed: holds nothing of a payload it drops, and reports a frame cut short at the end as a last Left', () => {
    const decoder = lengthPrefixedDecoder({ headerBytes: 4, maxLength: 10, onError: 'skip' })();
    expect(decoder.decode(Buffer.from([0, 0x10, 0, 0, 1, 2])).frames).to.deep.equal([E.left(new FrameTooLong(0x100000, 10))]);
    for (let i = 0; i < 15; i++) expect(decoder.decode(Buffer.alloc(65536)).frames).to.deep.equal([]);
    expect(decoder.buffered).to.equal(0);
    const after = decoder.decode(Buffer.concat([Buffer.alloc(65536 - 2), Buffer.from([0, 0, 0, 2, 0x68, 0x69, 0, 0, 0, 9, 0x78])]));
    expect(after.frames).to.deep.equal([E.right(Buffer.from('hi'))]);
    expect(decoder.end()).to.deep.equal({ frames: [E.left(new IncompleteFrame(1, 9))] });
  });

  it('lengthPrefixed: still fails on a header that cannot be a length', () => {
    const { error } = lengthPrefixedDecoder({ headerBytes: 1, lengthIncludesHeader: true, onError: 'skip' })().decode(Buffer.from([0]));
    expect(error).to.be.instanceOf(DecodeError);
  });

  it('fixedSize: a short tail at the end of input comes as a last Left', () => {
    const decoder = fixedSizeDecoder(4, { onError: 'skip' })();
    expect(decoder.decode(Buffer.from('12345678ab')).frames).to.deep.equal([E.right(Buffer.from('1234')), E.right(Buffer.from('5678'))]);
    expect(decoder.end()).to.deep.equal({ frames: [E.left(new IncompleteFrame(2, 4))] });
  });

  it('resp: drops each value holding a bulk string past maxBulkLength, and each inline command past maxLineLength, reports it once, and reads on, however split', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 8 });
    const command = fc.oneof(
      fc.array(word, { minLength: 1, maxLength: 4 }).map((words) => ({ words, inline: false })),
      fc.array(fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }).map((words) => ({ words, inline: true })),
    );
    const encode = ({ words, inline }: { words: string[]; inline: boolean }) =>
      inline ? `${words.join(' ')}\r\n` : `*${words.length}\r\n${words.map((w) => `$${w.length}\r\n${w}\r\n`).join('')}`;
    const tooLong = ({ words, inline }: { words: string[]; inline: boolean }) => (inline ? words.join(' ').length > 16 : words.some((w) => w.length > 5));
    const show = (value: RespValue) => (value.type === 'array' ? value.items!.map((item) => (item.type === 'bulk' ? item.value!.toString() : '?')).join(' ') : '?');
    fc.assert(
      fc.property(fc.array(command, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (commands, cuts) => {
        const bytes = Buffer.from(commands.map(encode).join(''));
        const newDecoder = respDecoder({ maxBulkLength: 5, maxLineLength: 16, inlineCommands: true, onError: 'skip' });
        const decoded = decodeSplit(newDecoder, bytes, cuts.map((cut) => cut % (bytes.length + 1)), show);
        const tooLongError = ({ words, inline }: { words: string[]; inline: boolean }) =>
          inline ? FrameTooLong.pastLimit(16) : new FrameTooLong(words.find((w) => w.length > 5)!.length, 5);
        expect(decoded).to.deep.equal(commands.map((c) => (tooLong(c) ? `FrameTooLong: ${tooLongError(c).message}` : c.words.join(' '))));
      }),
    );
  });

  it('resp: drops a value whose too-long string is nested, and still fails where no next value can be found', () => {
    const decoder = respDecoder({ maxBulkLength: 3, onError: 'skip' })();
    const { frames } = decoder.decode(Buffer.from('*2\r\n*2\r\n$1\r\na\r\n$9\r\n123456789\r\n:5\r\n:6\r\n'));
    expect(frames).to.deep.equal([E.left(new FrameTooLong(9, 3)), E.right({ type: 'integer', value: 6n })]);
    expect(respDecoder({ maxArrayLength: 3, onError: 'skip' })().decode(Buffer.from('*4\r\n')).error).to.be.instanceOf(RespLimitExceeded);
    expect(respDecoder({ onError: 'skip' })().decode(Buffer.from('?\r\n')).error).to.be.instanceOf(DecodeError);
  });

  it('resp() over a real socket: a command with a value over the limit is answered once, and the next one is answered', async () => {
    const server = await startServer(
      pipe(
        resp({ maxBulkLength: 10, onError: 'skip', inlineCommands: true }),
        map(E.match((error): RespValue => ({ type: 'error', message: `ERR skipped: ${error.message}` }), (): RespValue => ({ type: 'simple', value: 'PONG' }))),
        encodeResp(),
      ),
    );
    try {
      const reply = await roundTrip({ port: portOf(server.address) }, Buffer.from('PING\r\n*2\r\n$3\r\nSET\r\n$100000\r\n'), Buffer.alloc(100_000, 'x'), Buffer.from('\r\nPING\r\n'));
      expect(reply.toString()).to.equal('+PONG\r\n-ERR skipped: frame of 100000 bytes exceeds the 10-byte limit\r\n+PONG\r\n');
    } finally {
      await server.close();
    }
  });
});
