import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { InvalidOption, RxwireError } from '../../../lib/core/errors';
import { closestKey, decodeOptions, formatErrors, strictOptions, wholeNumber } from '../../../lib/core/options';
import { wholeNumberFromString } from '../../../lib/cli/flagValues';
import * as rxwire from 'rxwire';

function firstError<A>(codec: t.Type<A, unknown, unknown>, value: unknown): string {
  const result = codec.decode(value);
  if (E.isRight(result)) throw new Error(`decoded ${JSON.stringify(value)}`);
  return formatErrors(result.left);
}

describe('options', () => {
  describe('formatErrors', () => {
    const Shape = t.type({ a: t.number, list: t.array(t.type({ name: t.string })), either: t.union([t.string, t.number]) });

    it('names the path to the first bad value, and what was expected there', () => {
      expect(firstError(Shape, { a: 'x', list: [], either: 's' })).to.equal('a: expected number, got "x"');
      expect(firstError(Shape, { a: 1, list: [{ name: 'ok' }, { name: 7 }], either: 1 })).to.equal('list[1].name: expected string, got 7');
    });

    it('shows an object\'s methods, and an object it cannot write out by its kind', () => {
      expect(firstError(t.number, { info() {}, level: 1 })).to.equal('expected number, got {"info":"[function]","level":1}');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(firstError(t.number, cyclic)).to.equal('expected number, got [object Object]');
    });

    it('leaves union members out of the path', () => {
      expect(firstError(Shape, { a: 1, list: [], either: true })).to.equal('either: expected string, got true');
    });

    it('says "nothing" for a missing value and shortens long ones', () => {
      expect(firstError(Shape, { list: [], either: 1 })).to.equal('a: expected number, got nothing');
      expect(firstError(t.number, 'y'.repeat(100))).to.equal(`expected number, got "${'y'.repeat(56)}...`);
    });
  });

  describe('strictOptions', () => {
    const Options = strictOptions({ size: wholeNumber(1) }, { idleMs: wholeNumber(1), maxLength: wholeNumber(1) });

    it('takes the known keys', () => {
      expect(decodeOptions('f', Options, { size: 1, idleMs: 5 })).to.deep.equal({ size: 1, idleMs: 5 });
    });

    it('refuses an unknown key, naming it and the key it most likely meant', () => {
      expect(() => decodeOptions('f', Options, { size: 1, idleTimeout: 5 })).to.throw(
        InvalidOption,
        /^f: unknown option "idleTimeout" \(did you mean "idleMs"\?\)$/,
      );
      expect(() => decodeOptions('f', Options, { size: 1, maxLen: 5 })).to.throw(/^f: unknown option "maxLen" \(did you mean "maxLength"\?\)$/);
      expect(() => decodeOptions('f', Options, { size: 1, zzz: 5 })).to.throw(/^f: unknown option "zzz"$/);
    });

    it('refuses what is not an object', () => {
      expect(() => decodeOptions('f', Options, 42)).to.throw(InvalidOption, 'f: expected an options object');
    });

    it('suggests by edits or by a shared start, never at random', () => {
      expect(closestKey('hightWaterMark', ['highWaterMark', 'lowWaterMark'])).to.equal('highWaterMark');
      expect(closestKey('prot', ['port', 'host'])).to.equal('port');
      expect(closestKey('banana', ['port', 'host'])).to.equal(undefined);
    });
  });

  describe('decodeOptions', () => {
    it('returns the value, or throws one InvalidOption line: a TypeError of the rxwire family', () => {
      expect(decodeOptions('x', wholeNumber(1), 3)).to.equal(3);
      const thrown = (() => {
        try {
          decodeOptions('x', t.type({ n: wholeNumber(1) }), { n: 0 });
        } catch (err) {
          return err;
        }
      })();
      expect(thrown).to.be.instanceOf(TypeError).and.instanceOf(RxwireError).and.instanceOf(InvalidOption);
      expect((thrown as InvalidOption).code).to.equal('ERR_INVALID_OPTION');
      expect((thrown as Error).message).to.equal('x: n: expected a whole number ≥ 1, got 0');
    });
  });

  describe('wholeNumberFromString', () => {
    const port = wholeNumberFromString(0, 65535);

    it('decodes whole numbers in range', () => {
      expect(port.decode('0')).to.deep.equal(E.right(0));
      expect(port.decode('65535')).to.deep.equal(E.right(65535));
    });

    it('refuses what is not a whole number in range, quoting what was given', () => {
      for (const bad of ['-1', '65536', 'abc', '1.5', '', ' 80', '0x50', '1e3']) {
        expect(firstError(port, bad), bad).to.equal(`expected a whole number from 0 to 65535, got ${JSON.stringify(bad)}`);
      }
    });
  });

  describe('every public function that takes options', () => {
    // Each call, and the one line it must fail with: the same InvalidOption everywhere.
    const refusals: [string, () => unknown, string][] = [
      ['serve', () => rxwire.serve({ idleTimeout: 5 } as never, rxwire.closeOnEmptyRead()), 'serve: unknown option "idleTimeout" (did you mean "idleMs"?)'],
      ['lines', () => rxwire.lines({ maxLen: 10 } as never), 'lines: unknown option "maxLen" (did you mean "maxLength"?)'],
      ['backpressure', () => rxwire.backpressure({ highWaterMark: -1 }), 'backpressure: highWaterMark: expected a whole number ≥ 1, got -1'],
      ['backpressure', () => rxwire.backpressure({ highWaterMark: 10, lowWaterMark: 10 }), 'backpressure: lowWaterMark: expected less than highWaterMark (10), got 10'],
      ['dropWhileBackedUp', () => rxwire.dropWhileBackedUp({ highWatermark: 1 } as never), 'dropWhileBackedUp: unknown option "highWatermark" (did you mean "highWaterMark"?)'],
      ['connect', () => rxwire.connect({ timeout: 5 } as never), 'connect: unknown option "timeout" (did you mean "timeoutMs"?)'],
      ['connect', () => rxwire.connect({ tls: { ca: 'x', rejectUnauthorised: false } as never }), 'connect: tls: unknown option "rejectUnauthorised" (did you mean "rejectUnauthorized"?)'],
      ['serveDatagrams', () => rxwire.serveDatagrams({ maxPeer: 1 } as never, rxwire.closeOnEmptyRead()), 'serveDatagrams: unknown option "maxPeer" (did you mean "maxPeers"?)'],
      ['connectDatagram', () => rxwire.connectDatagram({ port: 1, maxDatagrams: 1 } as never), 'connectDatagram: unknown option "maxDatagrams" (did you mean "maxDatagram"?)'],
      ['lengthPrefixed', () => rxwire.lengthPrefixed({ headerBytes: 2, endianness: 'big' } as never), 'lengthPrefixed: unknown option "endianness" (did you mean "endian"?)'],
      ['encodeLines', () => rxwire.encodeLines({ delimiter: '' }), 'encodeLines: delimiter: expected a non-empty string or Buffer, got ""'],
      ['idleTimeout', () => rxwire.idleTimeout(0), 'idleTimeout: ms: expected a whole number ≥ 1, got 0'],
      // Arguments that are not options are checked when the operator is made, not on each connection.
      ['json', () => rxwire.json(undefined as never), 'json: codec: expected an io-ts codec (with decode), got nothing'],
      ['encodeJson', () => rxwire.encodeJson(42 as never), 'encodeJson: codec: expected an io-ts codec (with encode), got 42'],
      ['decode', () => rxwire.decode(42 as never), 'decode: newDecoder: expected a function, got 42'],
      ['encode', () => rxwire.encode('x' as never), 'encode: encoder: expected a function, got "x"'],
      ['fromTransform', () => rxwire.fromTransform(42 as never), 'fromTransform: factory: expected a function, got 42'],
      ['fromAsyncGenerator', () => rxwire.fromAsyncGenerator(null as never), 'fromAsyncGenerator: generator: expected a function, got null'],
      ['mergeMapBounded', () => rxwire.mergeMapBounded(undefined as never, 2), 'mergeMapBounded: project: expected a function, got nothing'],
    ];
    for (const [name, call, line] of refusals) {
      it(`${name} refuses bad options with one InvalidOption line: ${line}`, async () => {
        let thrown: unknown;
        try {
          await call();
        } catch (err) {
          thrown = err;
        }
        expect(thrown).to.be.instanceOf(InvalidOption);
        expect((thrown as Error).message).to.equal(line);
      });
    }
  });
});
