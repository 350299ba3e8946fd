import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { connect, InvalidOption, serve } from 'rxwire';
import { roundTrip, runProgram } from '../../../support/net';
import upper from '../../../../handlers/upper';

// A Unix socket's path must fit sun_path (107 bytes and a NUL on Linux): a longer one would be
// bound truncated, at a path no client can reach. It is refused, before anything is bound.

describe('a Unix socket path past the sun_path limit', function () {
  this.timeout(30_000);
  let dir: string;
  /** A path in `dir` exactly `bytes` long. */
  const pathOf = (bytes: number) => path.join(dir, 'x'.repeat(bytes - dir.length - 1));

  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'rxwire-unix-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused by serve() and connect() as an InvalidOption naming the key; 107 bytes are served', async () => {
    const tooLong = pathOf(108);
    const refused = await serve({ path: tooLong, log: false }, upper).then(() => expect.fail('served'), (err: unknown) => err);
    expect(refused).to.be.instanceOf(InvalidOption);
    expect((refused as Error).message).to.equal("serve: path: a Unix socket path of 108 bytes is too long: at most 107 (the OS's sun_path limit)");
    expect(() => connect({ path: tooLong })).to.throw(InvalidOption, "connect: path: a Unix socket path of 108 bytes is too long: at most 107 (the OS's sun_path limit)");
    expect(readdirSync(dir)).to.deep.equal([]);

    const longest = pathOf(107);
    const server = await serve({ path: longest, log: false }, upper);
    try {
      expect(server.address).to.equal(`unix:${longest}`);
      expect((await roundTrip({ path: longest }, Buffer.from('at the limit'))).toString()).to.equal('AT THE LIMIT');
    } finally {
      await server.close();
    }
  });

  it('exits 2 with one line naming --unix and the limit, from rxwire and the client, binding nothing', async () => {
    const tooLong = pathOf(150);
    const programs = [runProgram('lib/cli/rxwire.ts', ['--unix', tooLong]), runProgram('examples/client.ts', ['--unix', tooLong, 'hi'])];
    const [server, client] = programs;
    expect(await server!.exit).to.equal(2);
    expect(server!.stderr).to.deep.equal(["rxwire: --unix: a Unix socket path of 150 bytes is too long: at most 107 (the OS's sun_path limit)"]);
    expect(await client!.exit).to.equal(2);
    expect(client!.stderr).to.have.length(1);
    expect(client!.stderr[0]).to.match(/: --unix: a Unix socket path of 150 bytes is too long: at most 107 \(the OS's sun_path limit\)$/);
    expect(readdirSync(dir)).to.deep.equal([]);
  });
});
