import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLossyRelay } from '../support/lossyRelay';
import { closedUdpPort, listening, portOf, runProgram } from '../support/net';

// A handler that numbers what it receives: its replies say how many messages it has seen.
const numbering = `
const { map } = require('rxjs');
module.exports.default = (input) => input.pipe(map((_, i) => Buffer.from(String(i + 1))));
`;

describe('npx rxwire --rdm and examples/client.ts --rdm', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rxwire-rdm-'));
    writeFileSync(path.join(dir, 'numbering.js'), numbering);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const lossy of [false, true]) {
    it(`exchange every message exactly once${lossy ? ' through a lossy relay' : ''}: replies 1 to 5, each once`, async () => {
      // The command from source: in the repository `npx rxwire` would run dist/, built at install.
      const server = await listening(runProgram('lib/cli/rxwire.ts', ['--rdm', '--host', '127.0.0.1', '--port', '0', '--handler', path.join(dir, 'numbering.js')]));
      const relay = lossy ? await startLossyRelay({ targetPort: portOf(server.address), seed: 5, loss: 0.3, duplicate: 0.2, reorderMs: 20 }) : undefined;
      try {
        expect(server.address).to.match(/^rdm 127\.0\.0\.1:\d+$/);
        const client = runProgram('examples/client.ts', ['--rdm', '--port', String(relay?.port ?? portOf(server.address)), 'a', 'b', 'c', 'd', 'e']);
        expect(await client.exit).to.equal(0);
        expect([...client.stdout].sort()).to.deep.equal(['Received 1', 'Received 2', 'Received 3', 'Received 4', 'Received 5']);
        expect(client.stderr).to.deep.equal([]);
      } finally {
        await relay?.close();
        process.kill(-server.child.pid!, 'SIGTERM');
        await server.exit;
      }
    });
  }

  it('exits 1 with one line when no reply comes within --timeout-ms', async () => {
    const client = runProgram('examples/client.ts', ['--rdm', '--port', String(await closedUdpPort()), '--timeout-ms', '300', 'a', 'b']);
    expect(await client.exit).to.equal(1);
    expect(client.stderr).to.deep.equal(['client: no reply within 300 ms (0 of 2 replies)']);
  });
});
