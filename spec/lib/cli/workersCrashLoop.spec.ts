import { expect } from 'chai';
import * as net from 'node:net';
import { ask, greet, Greeted } from '../../support/greeting';
import { closed, eventually, isAlive, listening, portOf, runProgram } from '../../support/net';

// `rxwire --workers` whose handler kills its worker on demand (spec/support/dyingHandler.ts):
// the primary holds the listening socket, so however often every worker is dead at once, the
// printed port stays bound by rxwire and answers again once a worker is back.

const STARTUP_MS = 60_000;
// Each kill ends one worker, and the next comes at once, before the killed one is back (its restart
// waits 100 ms, then starts a process): after the second kill no worker is up. Four keep the
// restart waits short (100, then 200 ms per worker) and the spec within seconds.
const KILLS = 4;

/** Greets on `port`, waiting up to `ms` for a worker to accept: connections made while none is up wait in the backlog. */
async function greetPatiently(port: number, ms: number): Promise<Greeted> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await greet(port);
    } catch (err) {
      // Refused, or accepted by a worker that died before greeting: only the first is a failure.
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED' || Date.now() > deadline) throw err;
    }
  }
}

/** Whether this process can listen on 127.0.0.1:`port`: it closes what it got at once. */
function canListenOn(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('rxwire --workers, in a crash loop', function () {
  this.timeout(120_000);

  it('keeps its printed port through workers all dying at once: never refused, never bindable by another process, answering after', async () => {
    const args = ['--workers', '2', '--handler', 'spec/support/dyingHandler.ts', '--host', '127.0.0.1', '--port', '0'];
    const server = await listening(runProgram('lib/cli/rxwire.ts', args), STARTUP_MS);
    const port = portOf(server.address);
    const deaths = () => server.stderr.filter((line) => / server: worker [12] \(pid \d+\) exited with code 1 /.test(line)).length;
    try {
      for (let kill = 1; kill <= KILLS; kill++) {
        const doomed = await greetPatiently(port, 20_000);
        doomed.socket.write('die');
        await closed(doomed.socket);
        await eventually(() => deaths() >= kill, 10_000, `the primary to see death ${kill}`);
        expect(await canListenOn(port), `another process could listen on the port after death ${kill}`).to.equal(false);
      }
      const survivor = await greetPatiently(port, 20_000);
      expect(await ask(survivor.socket, 'still here')).to.equal('STILL HERE');
      survivor.socket.destroy();
      expect(server.stdout).to.deep.equal([`listening on 127.0.0.1:${port}`]);
    } finally {
      if (isAlive(-server.child.pid!)) process.kill(-server.child.pid!, 'SIGKILL');
      await server.exit;
    }
  });
});
