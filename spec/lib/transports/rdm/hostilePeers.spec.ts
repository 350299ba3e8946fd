import { expect } from 'chai';
import * as dgram from 'node:dgram';
import { firstValueFrom, mergeMap, of } from 'rxjs';
import { connectReliableDatagram, Handler, ReliableDatagramServeOptions, ReliableDatagramServer, serveReliableDatagrams } from 'rxwire';
import { decodeRdmPacket, encodeRdmAck, encodeRdmData } from '../../../../lib/codecs/rdmPacket';
import { delay, eventually, steady, udpClient } from '../../../support/net';

const echo: Handler = (input) => input;

async function startRdmServer(handler: Handler, options: ReliableDatagramServeOptions): Promise<ReliableDatagramServer & { logs: string[] }> {
  const logs: string[] = [];
  const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: (line) => logs.push(line), ...options }, handler);
  return Object.assign(server, { logs });
}

const bytesOf = (datagrams: Buffer[]) => datagrams.reduce((sum, d) => sum + d.length, 0);

/** Sends `count` DATA of `size` bytes, a few at a time, so that the kernel's receive buffer drops none. */
async function sendData(socket: dgram.Socket, port: number, session: number, count: number, size: number): Promise<number> {
  let sent = 0;
  for (let id = 0; id < count; id++) {
    const datagram = encodeRdmData(session, 0, id, 0, Buffer.alloc(size, 'x'));
    socket.send(datagram, port, '127.0.0.1');
    sent += datagram.length;
    if (id % 8 === 7) await delay(1);
  }
  return sent;
}

describe('serveReliableDatagrams against hostile peers', () => {
  it('sends a peer that never acknowledges at most 3× the bytes it sent, over the whole retransmission window', async () => {
    // Retransmissions every 10 to 50 ms, 10 of them: the window a forged address could be flooded in is half a second.
    const server = await startRdmServer(echo, { retransmitMs: 10, maxRetransmitMs: 50, maxRetries: 10 });
    const spoofed = await udpClient();
    try {
      const sent = await sendData(spoofed, server.port!, 7, 64, 1200);
      await eventually(() => server.logs.some((l) => / undeliverable: /.test(l)), 5000, 'the session to give up');
      await steady(() => spoofed.received.length, 200);
      const received = bytesOf(spoofed.received);
      const replies = spoofed.received.map(decodeRdmPacket).filter((p) => p?.kind === 'data');
      // It was answered (64 replies: 1×), and no more than twice more went its way, probes and acknowledgements included.
      expect(new Set(replies.map((p) => p?.kind === 'data' && p.id)).size).to.equal(64);
      expect(received / sent).to.be.at.most(3);
      expect(server.withheld).to.be.greaterThan(0);
    } finally {
      spoofed.close();
      await server.close(0);
    }
  });

  it('validates a client by its answer to a probe, and then sends it replies far larger than its requests', async () => {
    const server = await startRdmServer((input) => input.pipe(mergeMap(() => of(Buffer.alloc(20_000, 'r')))), { retransmitMs: 10, maxRetransmitMs: 50, maxRetries: 20 });
    try {
      const reply = await firstValueFrom(connectReliableDatagram({ port: server.port!, retransmitMs: 10 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('?'))))));
      expect(reply.length).to.equal(20_000);
      expect(server.withheld).to.be.greaterThan(0);
    } finally {
      await server.close(0);
    }
  });

  it('ends the session of a validated peer that stops acknowledging once maxRetransmitBytes went unacknowledged', async () => {
    const server = await startRdmServer(echo, { window: 16, retransmitMs: 10, maxRetransmitMs: 20, maxRetries: 1000, maxRetransmitBytes: 50_000 });
    const peer = await udpClient();
    try {
      const sent = await sendData(peer, server.port!, 9, 16, 1000);
      await eventually(() => peer.received.some((d) => decodeRdmPacket(d)?.kind === 'data'), 5000, 'a reply');
      // One acknowledgement validates the address; after it, nothing.
      const first = peer.received.map(decodeRdmPacket).find((p) => p?.kind === 'data');
      if (first?.kind !== 'data') throw new Error('no reply');
      peer.send(encodeRdmAck(9, first.session, [first.id]), server.port!, '127.0.0.1');
      await eventually(() => server.logs.some((l) => / undeliverable: \d+ bytes retransmitted without an acknowledgement$/.test(l)), 5000, 'the byte cap');
      await steady(() => peer.received.length, 100);
      const retransmitted = bytesOf(peer.received) - sent - 16 * 12;
      // 50,000 bytes and the datagram in flight when the cap was reached; without it 1,000 retransmissions of 15 messages: 15 MB.
      expect(retransmitted).to.be.at.most(50_000 + 1014 + 16 * 1014);
      expect(server.retransmissions).to.be.below(100);
    } finally {
      peer.close();
      await server.close(0);
    }
  });
});
