import { expect } from 'chai';
import { concat, ignoreElements, lastValueFrom, mergeMap, of, take, tap, toArray } from 'rxjs';
import { connectReliableDatagram, serveReliableDatagrams } from 'rxwire';
import { decodeRdmPacket, encodeRdmData } from '../../../../lib/codecs/rdmPacket';
import { delay, eventually, steady, udpClient } from '../../../support/net';

/** A server that records each message its handler reads, and answers none. */
async function recordingServer(options: { idleMs?: number } = {}) {
  const seen: string[] = [];
  const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, retransmitMs: 10, maxRetransmitMs: 50, ...options }, (input) =>
    input.pipe(
      tap((m) => seen.push(m.toString())),
      ignoreElements(),
    ),
  );
  return Object.assign(server, { seen });
}

/** The ids acknowledged to a scripted peer so far. */
const acknowledged = (received: Buffer[]) =>
  new Set(
    received.flatMap((d) => {
      const packet = decodeRdmPacket(d);
      return packet?.kind === 'ack' ? packet.ids : [];
    }),
  );

describe('reliable datagrams across sessions and id wrap', () => {
  it('delivers nothing twice when a datagram of a previous session of the peer arrives late', async () => {
    const server = await recordingServer();
    const peer = await udpClient();
    const send = (session: number, id: number, text: string) => peer.send(encodeRdmData(session, 0, id, 0, Buffer.from(text)), server.port!, '127.0.0.1');
    try {
      for (let id = 0; id < 4; id++) send(0xa, id, `A${id}`);
      await eventually(() => server.seen.length === 4, 5000, 'session A');
      // The peer restarts as session B; then a retransmission of A3, delayed in the network, and one of B1.
      for (let id = 0; id < 3; id++) send(0xb, id, `B${id}`);
      await eventually(() => server.seen.length === 7, 5000, 'session B');
      send(0xa, 3, 'A3');
      await delay(20);
      send(0xb, 1, 'B1');
      await steady(() => peer.received.length, 100);
      expect(server.seen).to.deep.equal(['A0', 'A1', 'A2', 'A3', 'B0', 'B1', 'B2']);
    } finally {
      peer.close();
      await server.close(0);
    }
  });

  it('delivers the messages of a session whose first id is 2^31 or more, and wraps past 2^32', async () => {
    const server = await recordingServer();
    const peer = await udpClient();
    try {
      const ids = [0x9000_0000, 0xffff_fffe, 0xffff_ffff, 0, 1];
      for (const [i, id] of ids.entries()) {
        peer.send(encodeRdmData(i < 1 ? 0xc : 0xd, 0, id, i < 1 ? id : 0xffff_fffe, Buffer.from(`m${i}`)), server.port!, '127.0.0.1');
        await delay(5);
      }
      await eventually(() => server.seen.length === 5, 5000, 'every message');
      expect(server.seen).to.deep.equal(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect([...acknowledged(peer.received)].sort()).to.deep.equal([...ids].sort());
    } finally {
      peer.close();
      await server.close(0);
    }
  });

  it('sends the replies still queued for a restarted peer to its new session, not the one it left', async () => {
    // One message in flight at a time: a request's three replies wait for the window, unacknowledged.
    const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, window: 1, retransmitMs: 1000 }, (input) =>
      input.pipe(mergeMap((m) => of(Buffer.from(`${m}1`), Buffer.from(`${m}2`), Buffer.from(`${m}3`)))),
    );
    const peer = await udpClient();
    const dataTo = () =>
      peer.received.flatMap((d) => {
        const packet = decodeRdmPacket(d);
        return packet?.kind === 'data' ? [`${packet.payload}>${packet.to.toString(16)}`] : [];
      });
    try {
      peer.send(encodeRdmData(0xa, 0, 0, 0, Buffer.from('aaaaaaaa')), server.port!, '127.0.0.1');
      await eventually(() => dataTo().length === 1, 5000, "the first reply to session A");
      // The peer restarts as session B before acknowledging anything: A's reply in flight is dropped,
      // and the next one queued goes out to B.
      peer.send(encodeRdmData(0xb, 0, 0, 0, Buffer.from('bbbbbbbb')), server.port!, '127.0.0.1');
      await eventually(() => dataTo().length === 2, 5000, 'a reply after the restart');
      expect(dataTo()).to.deep.equal(['aaaaaaaa1>a', 'aaaaaaaa2>b']);
    } finally {
      peer.close();
      await server.close(0);
    }
  });

  it("takes a greeting the server sent before it heard the client's first message", async () => {
    const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, retransmitMs: 10 }, (input) => concat(of(Buffer.from('hello')), input));
    try {
      const replies = await lastValueFrom(
        connectReliableDatagram({ port: server.port!, retransmitMs: 10 }).pipe(
          mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))),
          take(2),
          toArray(),
        ),
      );
      // Any order: the greeting waits until the client's first message lets the server send that far (3×).
      expect(replies.map(String).sort()).to.deep.equal(['hello', 'hi']);
    } finally {
      await server.close(0);
    }
  });

  it('resumes a session after a pause longer than idleMs: id 8,200 is delivered and acknowledged', async () => {
    const server = await recordingServer({ idleMs: 100 });
    const peer = await udpClient();
    try {
      peer.send(encodeRdmData(0xe, 0, 8199, 8199, Buffer.from('before')), server.port!, '127.0.0.1');
      await eventually(() => server.seen.length === 1, 5000, 'the first message');
      await delay(350); // the server expires the peer and forgets its session
      peer.send(encodeRdmData(0xe, 0, 8200, 8200, Buffer.from('after')), server.port!, '127.0.0.1');
      await eventually(() => acknowledged(peer.received).has(8200), 5000, 'the acknowledgement of 8200');
      expect(server.seen).to.deep.equal(['before', 'after']);
    } finally {
      peer.close();
      await server.close(0);
    }
  });
});
