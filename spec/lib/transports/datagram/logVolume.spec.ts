import { expect } from 'chai';
import * as dgram from 'node:dgram';
import { DEFAULTS } from 'rxwire';
import upper from '../../../../handlers/upper';
import { delay, eventually, startDatagramServer } from '../../../support/net';

// A flood of one-byte datagrams from new source ports must not cost more log than traffic: past
// DEFAULTS.connectionLogLinesPerSecond lines a second, per-peer lines (open, expired, closed) are
// counted and summed up in one line a second, with nothing left uncounted.

const PEERS = 1000;
const DATAGRAMS_PER_PEER = 3;
const SUMMARY = /^(\d+) more connection\(s\) opened, (\d+) closed, (\d+) other line\(s\) about them, in the last 1 s: past (\d+) lines a second they are counted, not written$/;

describe('serveDatagrams under a flood of new peers', function () {
  this.timeout(30_000);

  it(`logs at most ${DEFAULTS.connectionLogLinesPerSecond} + 1 lines a second about peers, and counts every session in them`, async () => {
    const server = await startDatagramServer(upper, { idleMs: 200 });
    const peers = await Promise.all(
      Array.from({ length: PEERS }, () => new Promise<dgram.Socket & { answered: boolean }>((resolve) => {
        const socket = dgram.createSocket('udp4');
        const answered = Object.assign(socket, { answered: false });
        socket.on('message', () => (answered.answered = true));
        socket.bind(0, '127.0.0.1', () => resolve(answered));
      })),
    );
    const started = Date.now();
    try {
      // Paced a little, so that few datagrams are lost in the kernel's buffers.
      for (let i = 0; i < DATAGRAMS_PER_PEER; i++) {
        for (const [n, peer] of peers.entries()) {
          peer.send(Buffer.of(0x61), server.port!, '127.0.0.1');
          if (n % 50 === 49) await delay(1);
        }
      }
      // Every session expires (silent 200 ms) and ends; then the server's close says what is still counted.
      await eventually(() => server.connections === 0 && server.logs.length > 0, 20_000, 'every session to end');
    } finally {
      peers.forEach((peer) => peer.close());
      await server.close();
    }
    const seconds = Math.ceil((Date.now() - started) / 1000);
    const lines = server.logs;
    // Each 1 s window holds at most the budget and its summary; the close may end one more window.
    expect(lines.length, lines.slice(0, 5).join('\n')).to.be.at.most((seconds + 1) * (DEFAULTS.connectionLogLinesPerSecond + 1));
    const summaries = lines.map((line) => SUMMARY.exec(line)).filter((m): m is RegExpExecArray => m !== null);
    expect(summaries, 'summary lines').not.to.be.empty;
    const counted = (group: number) => summaries.reduce((sum, m) => sum + Number(m[group]), 0);
    const sessions = lines.filter((line) => / open 127\.0\.0\.1:\d+$/.test(line)).length + counted(1);
    const ended = lines.filter((line) => / closed 127\.0\.0\.1:\d+: /.test(line)).length + counted(2);
    expect(server.droppedFromNewPeers).to.equal(0);
    // A peer answered had a session; most are, or the flood would not be one.
    const answered = peers.filter((peer) => peer.answered).length;
    expect(answered, 'peers answered').to.be.at.least(PEERS / 2);
    expect(sessions, 'sessions opened, written or counted').to.be.at.least(answered);
    expect(ended, 'sessions closed, written or counted').to.equal(sessions);
  });
});
