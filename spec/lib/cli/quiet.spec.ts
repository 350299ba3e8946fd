import { expect } from 'chai';
import * as net from 'node:net';
import { ask, oneFromEachOfTwo } from '../../support/greeting';
import * as path from 'node:path';
import { closed, dial, eventually, isAlive, listening, portOf, readAll, runCommand, runProgram, transpileFlags } from '../../support/net';

// `rxwire -q` leaves out the lines about single connections, by event type, and keeps the
// server's own: a worker's death, the grace period cutting connections, the shutdown line.

/** Opens a connection, sends `text`, ends, and resolves with the whole reply. */
async function exchange(port: number, text: string): Promise<string> {
  const socket = await dial({ port });
  const reply = readAll(socket);
  socket.end(text);
  return (await reply).toString();
}

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

  it('builds no event about a single connection, having nobody to tell (no metrics, no subscriber): the shutdown alone', async () => {
    const counted = (quiet: boolean) =>
      listening(
        runCommand(process.execPath, [
          ...transpileFlags,
          '-r',
          path.join(__dirname, '../../support/eventCounter.js'),
          'lib/cli/rxwire.ts',
          ...(quiet ? ['-q'] : []),
          '--host',
          '127.0.0.1',
          '--port',
          '0',
        ]),
      );
    for (const quiet of [true, false]) {
      const server = await counted(quiet);
      try {
        for (let i = 0; i < 3; i++) expect(await exchange(portOf(server.address), 'hi')).to.equal('HI');
        await eventually(() => server.stderr.filter((line) => / #\d+ closed /.test(line)).length === (quiet ? 0 : 3), 5000, 'the close lines');
        server.child.kill('SIGTERM');
        expect(await server.exit).to.equal(0);
        const events = JSON.parse(server.stdout.find((line) => line.startsWith('events '))!.slice('events '.length));
        expect(events, quiet ? '-q' : 'without -q').to.deep.equal(quiet ? { shutdown: 1 } : { open: 3, close: 3, shutdown: 1 });
      } finally {
        if (isAlive(-server.child.pid!)) process.kill(-server.child.pid!, 'SIGKILL');
      }
    }
  });
});
