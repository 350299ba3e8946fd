import { expect } from 'chai';
import * as dgram from 'node:dgram';
import { mergeMap, of } from 'rxjs';
import { RxwireError, serveReliableDatagrams, SessionShed } from 'rxwire';
import { decodeRdmPacket, encodeRdmData } from '../../../../lib/codecs/rdmPacket';
import { delay, eventually, isAlive, listening, portOf, Program, runProgram, udpClient } from '../../../support/net';

const MiB = 1024 * 1024;

/** The memory `spec/support/rdmEchoServer.ts` has in use once garbage is collected. */
async function memoryOf(server: Program): Promise<number> {
  const reports = server.stdout.length;
  const { exitCode, signalCode } = server.child;
  if (exitCode !== null || signalCode !== null) throw new Error(`the server exited (${exitCode ?? signalCode}): ${server.stderr.slice(-5).join(' | ')}`);
  process.kill(server.child.pid!, 'SIGUSR2');
  // A full GC of the server's heap first: on a machine busy with the rest of the suite, seconds.
  await eventually(() => server.stdout.length > reports, 10_000, 'the memory report');
  return Number(/^memory (\d+)$/.exec(server.stdout[reports]!)![1]);
}

/** `count` DATA of `size` bytes from each of `peers`, a few at a time, so that the kernel's receive buffer drops few. */
async function flood(peers: dgram.Socket[], port: number, count: number, size: number): Promise<void> {
  for (const [p, socket] of peers.entries()) {
    for (let id = 0; id < count; id++) {
      socket.send(encodeRdmData(p + 1, 0, id, 0, Buffer.alloc(size, 'x')), port, '127.0.0.1');
      if (id % 8 === 7) await delay(1);
    }
  }
}

describe('serveReliableDatagrams maxBufferedBytes', () => {
  it('keeps what 120 never-acknowledging peers make a server hold within its budget, measured in its own process', async function () {
    this.timeout(30_000);
    const budget = 8 * MiB;
    const server = await listening(runProgram('spec/support/rdmEchoServer.ts', [JSON.stringify({ maxBufferedBytes: budget })]));
    const peers: dgram.Socket[] = [];
    try {
      for (let i = 0; i < 120; i++) {
        const socket = dgram.createSocket('udp4');
        await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
        peers.push(socket);
      }
      const before = await memoryOf(server);
      // 128 messages of 8,000 bytes from each: unbounded, each session holds 64 answers unacknowledged and 64 messages
      // waiting for the held handler, 1 MB; 123 MB in all.
      await flood(peers, portOf(server.address), 128, 8000);
      await delay(200);
      const growth = (await memoryOf(server)) - before;
      expect(growth).to.be.below(budget + 4 * MiB);
    } finally {
      for (const socket of peers) socket.close();
      // Checked, so that a server that died says so above rather than this kill's ESRCH.
      if (isAlive(server.child.pid!)) process.kill(server.child.pid!, 'SIGTERM');
      await server.exit;
    }
  });

  it('sheds a session whose handler would pass the budget with SessionShed, in one line', async () => {
    const logs: string[] = [];
    // Each message answered twice: what is held grows faster than what comes in.
    const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: (line) => logs.push(line), maxBufferedBytes: 100_000, retransmitMs: 1000 }, (input) =>
      input.pipe(mergeMap((m) => of(m, m))),
    );
    const peer = await udpClient();
    try {
      for (let id = 0; id < 40; id++) peer.send(encodeRdmData(5, 0, id, 0, Buffer.alloc(4000, 'y')), server.port!, '127.0.0.1');
      await eventually(() => logs.some((l) => /^#\d+ shed: holding \d+ bytes of messages would pass the server's budget of 100000 bytes \(maxBufferedBytes\)$/.test(l)), 5000, 'the shed line');
      expect(server.bufferedBytes).to.be.at.most(100_000);
      expect(new SessionShed(1, 2)).to.include({ code: 'ERR_SESSION_SHED' }).and.be.instanceOf(RxwireError);
    } finally {
      peer.close();
      await server.close(0);
    }
  });
  it('counts the ids a peer leaves gaps below against the budget: past it, its messages are not taken', async () => {
    // Ids 1, 2, 3, … with 0 never sent: every one is delivered at once and tracked past the floor.
    const budget = 32 * 1024;
    const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, maxBufferedBytes: budget }, (input) => input.pipe(mergeMap(() => of())));
    const peer = await udpClient();
    try {
      for (let id = 1; id <= 4000; id++) {
        peer.send(encodeRdmData(7, 0, id, 0, Buffer.from('x')), server.port!, '127.0.0.1');
        if (id % 8 === 0) await delay(1);
      }
      await delay(200);
      expect(server.bufferedBytes).to.be.at.most(budget);
      // 20 bytes an id: some 1,600 fit in 32 KiB; the rest were refused, so the peer retransmits them later.
      const acked = new Set(
        peer.received.flatMap((d) => {
          const packet = decodeRdmPacket(d);
          return packet?.kind === 'ack' ? packet.ids : [];
        }),
      );
      expect(acked.size).to.be.above(0).and.below(2000);
    } finally {
      peer.close();
      await server.close(0);
    }
  });
});
