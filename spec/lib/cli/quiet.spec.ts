import { expect } from 'chai';
import * as net from 'node:net';
import { ask, oneFromEachOfTwo } from '../../support/greeting';
import { closed, eventually, isAlive, listening, portOf, runProgram } from '../../support/net';

// `rxwire -q` leaves out the lines about single connections, by event type, and keeps the
// server's own: a worker's death, the grace period cutting connections, the shutdown line.

describe('rxwire -q', function () {
  this.timeout(120_000);

  it('keeps the worker-exit, grace-period and shutdown lines, and drops every open and close line', async () => {
    const args = ['-q', '--workers', '2', '--handler', 'spec/support/greetingHandler.ts', '--host', '127.0.0.1', '--port', '0', '--grace-ms', '300'];
    const server = await listening(runProgram('lib/cli/rxwire.ts', args), 60_000);
    const clients: net.Socket[] = [];
    try {
      const [doomed, survivor, all] = await oneFromEachOfTwo(portOf(server.address));
      clients.push(...all.map((g) => g.socket));
      process.kill(doomed.pid, 'SIGKILL');
      await closed(doomed.socket);
      const death = / server: worker [12] \(pid \d+\) was killed by SIGKILL after \d+\.\d s: restarting it in \d+ ms$/;
      await eventually(() => server.stderr.some((line) => death.test(line)), 10_000, 'the worker-exit line');
      // The survivor's connection stays open through the grace period, and is cut.
      expect(await ask(survivor.socket, 'still here')).to.equal('STILL HERE');
      server.child.kill('SIGTERM');
      expect(await server.exit).to.equal(0);
      expect(server.stderr.some((line) => /^SIGTERM: closing, [12] worker\(s\) serving$/.test(line)), 'the shutdown line').to.equal(true);
      expect(server.stderr.some((line) => / worker [12]: grace period of 300 ms over: cutting 1 connection\(s\)$/.test(line)), 'the grace-period line').to.equal(true);
      expect(server.stderr.filter((line) => / #\d+ (open|closed) /.test(line)), 'open and close lines').to.deep.equal([]);
    } finally {
      clients.forEach((socket) => socket.destroy());
      if (isAlive(-server.child.pid!)) process.kill(-server.child.pid!, 'SIGKILL');
    }
  });
});
