import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { DecoderFactory } from '../../../lib/codecs/codec';
import { linesDecoder } from '../../../lib/codecs/lines';
import { map, pipe } from 'rxjs';
import { FrameTooLong } from '../../../lib/core/errors';
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
    out.push(...step.frames.map(E.match((error) => error.name, show)));
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
            expect(decoded).to.deep.equal(lines.map((l) => (l.length > 5 ? 'FrameTooLong' : l)));
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
