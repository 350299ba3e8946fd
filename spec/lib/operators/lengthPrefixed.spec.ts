import { expect } from 'chai';
import { encodeLengthPrefixed, FrameTooLong, IncompleteFrame, InvalidOption, lengthPrefixed, lengthPrefixedDecoder, LengthPrefixedOptions } from 'rxwire';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { from, of, Subject } from 'rxjs';
import { collect, itDecodesAnySplit, itDecodesEverySplitOf } from '../codecs/splits';
import { closed, delay, dial, eventually, portOf, roundTrip, rssOf, startProgram } from '../../support/net';

describe('lengthPrefixed', () => {
  for (const headerBytes of [1, 2, 4] as const) {
    for (const endian of ['big', 'little'] as const) {
      for (const lengthIncludesHeader of [false, true]) {
        const options: LengthPrefixedOptions = { headerBytes, endian, lengthIncludesHeader };
        describe(JSON.stringify(options), () => {
          const longest = headerBytes === 1 ? 255 - (lengthIncludesHeader ? 1 : 0) : 600;
          itDecodesAnySplit({
            frames: fc.array(fc.uint8Array({ maxLength: longest }).map((bytes) => Buffer.from(bytes)), { maxLength: 8 }),
            encode: encodeLengthPrefixed(options),
            decode: lengthPrefixed(options),
          });
        });
      }
    }
  }

  describe('an example', () => {
    itDecodesEverySplitOf(['abc', '', 'de'].map((text) => Buffer.from(text)), {
      frames: fc.constant([]),
      encode: encodeLengthPrefixed({ headerBytes: 4, endian: 'little' }),
      decode: lengthPrefixed({ headerBytes: 4, endian: 'little' }),
    }, lengthPrefixedDecoder({ headerBytes: 4, endian: 'little' }));
  });

  it('errors with FrameTooLong as soon as a 4 GB header arrives', () => {
    const input = new Subject<Buffer>();
    let error: unknown;
    input.pipe(lengthPrefixed({ headerBytes: 4 })).subscribe({ error: (err) => (error = err) });
    input.next(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(error).to.be.instanceOf(FrameTooLong);
    expect(input.observed).to.equal(false);
  });

  it('errors with IncompleteFrame when the input ends inside a frame', () => {
    const outcome = collect(of(Buffer.from([0, 1, 0x61, 0, 3, 0x62])).pipe(lengthPrefixed({ headerBytes: 2 })));
    expect(outcome.values).to.deep.equal([Buffer.from('a')]);
    expect(outcome.error).to.deep.equal(new IncompleteFrame(1, 3));
  });

  it('refuses options that make no sense when it is made, in one line', () => {
    const bad = (options: unknown) => () => lengthPrefixed(options as LengthPrefixedOptions);
    expect(bad({ headerBytes: 3 })).to.throw(InvalidOption, /^lengthPrefixed: headerBytes: expected 1, 2 or 4, got 3$/);
    expect(bad({ headerBytes: 2, maxLength: -1 })).to.throw(
      InvalidOption,
      /^lengthPrefixed: maxLength: expected a whole number ≥ 1, got -1$/,
    );
    expect(bad({ headerBytes: 2, endian: 'middle' })).to.throw(InvalidOption, /^lengthPrefixed: endian: /);
    expect(() => from([]).pipe(lengthPrefixed({} as LengthPrefixedOptions))).to.throw(InvalidOption, /headerBytes/);
  });
});

describe('lengthPrefixed, served', () => {
  it('refuses a 4 GB length header with FrameTooLong at once, server memory flat, others unaffected', async function () {
    this.timeout(30000);
    const dir = mkdtempSync(join(tmpdir(), 'rxwire-lp-'));
    writeFileSync(
      join(dir, 'frames.ts'),
      `import { pipe } from 'rxjs';
       import { encodeLengthPrefixed, lengthPrefixed } from 'rxwire';
       export default pipe(lengthPrefixed({ headerBytes: 4 }), encodeLengthPrefixed({ headerBytes: 4 }));`,
    );
    const server = await startProgram('lib/cli/rxwire.ts', ['--handler', join(dir, 'frames.ts'), '--port', '0', '--host', '127.0.0.1']);
    try {
      const port = portOf(server.address);
      await delay(200);
      const baseline = rssOf(server.child.pid!);
      const hostile = await dial({ port });
      hostile.on('error', () => {});
      hostile.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(1024, 1)]));
      await closed(hostile);
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('hello')]);
      expect((await roundTrip({ port }, frame)).equals(frame)).to.equal(true);
      expect(rssOf(server.child.pid!) - baseline).to.be.lessThan(16 * 1024 * 1024);
      await eventually(() => server.stderr.some((l) => /Z #\d+ protocol error: frame of 4294967295 bytes exceeds the 16777216-byte limit$/.test(l)), 2000, 'the log line');
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
