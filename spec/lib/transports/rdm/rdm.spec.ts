import { expect } from 'chai';
import { firstValueFrom, from, lastValueFrom, map, mergeMap, of, take, tap, toArray } from 'rxjs';
import {
  connectReliableDatagram,
  Handler,
  InvalidOption,
  MessageTooLarge,
  ReliableDatagramServeOptions,
  ReliableDatagramServer,
  serveReliableDatagrams,
  Undeliverable,
} from 'rxwire';
import { decodeRdmPacket, encodeRdmData } from '../../../../lib/codecs/rdmPacket';
import { startLossyRelay } from '../../../support/lossyRelay';
import { closedUdpPort, delay, eventually, udpClient } from '../../../support/net';

// Loopback answers in well under a millisecond: retransmit early, give up late.
const loopback = { retransmitMs: 10, maxRetransmitMs: 50, maxRetries: 40 } as const;
const echo: Handler = (input) => input;

async function startRdmServer(handler: Handler, options: ReliableDatagramServeOptions = {}): Promise<ReliableDatagramServer & { logs: string[] }> {
  const logs: string[] = [];
  const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: (line) => logs.push(line), ...loopback, ...options }, handler);
  return Object.assign(server, { logs });
}

const messages = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => Buffer.from(`${prefix} ${i}`));

describe('serveReliableDatagrams and connectReliableDatagram', () => {
  it('answer each message once, to a handler that sees transport rdm', async () => {
    const server = await startRdmServer((input, conn) => input.pipe(map((m) => Buffer.from(`${conn.transport} ${m}`))));
    try {
      expect(server.transport).to.equal('rdm');
      const replies = await lastValueFrom(
        connectReliableDatagram({ port: server.port! }).pipe(mergeMap((conn) => conn.exchange(from(messages(3, 'm')))), take(3), toArray()),
      );
      expect(replies.map(String).sort()).to.deep.equal(['rdm m 0', 'rdm m 1', 'rdm m 2']);
    } finally {
      await server.close();
    }
  });

  it('deliver 1,000 messages each way exactly once through 30% loss, 20% duplication and reordering', async () => {
    const seen: string[] = [];
    const server = await startRdmServer((input) => input.pipe(tap((m) => seen.push(m.toString())), map((m) => Buffer.from(`re ${m}`))));
    const relay = await startLossyRelay({ targetPort: server.port!, seed: 12, loss: 0.3, duplicate: 0.2, reorderMs: 4 });
    try {
      const sent = messages(1000, 'm');
      const replies = await lastValueFrom(
        connectReliableDatagram({ port: relay.port, ...loopback }).pipe(mergeMap((conn) => conn.exchange(from(sent))), take(1000), toArray()),
      );
      const expected = sent.map(String);
      expect([...seen].sort()).to.deep.equal([...expected].sort());
      expect(replies.map(String).sort()).to.deep.equal(expected.map((m) => `re ${m}`).sort());
      expect(relay.stats.dropped).to.be.greaterThan(500);
      expect(relay.stats.duplicated).to.be.greaterThan(300);
      expect(server.duplicates).to.be.greaterThan(0);
      await delay(100);
      expect(seen).to.have.length(1000);
    } finally {
      await relay.close();
      await server.close(0);
    }
  });

  it('fail with Undeliverable, naming the message, within the documented bound when the server is gone', async () => {
    const port = await closedUdpPort();
    const started = Date.now();
    const failure = await firstValueFrom(
      connectReliableDatagram({ port, retransmitMs: 10, maxRetransmitMs: 40, maxRetries: 5 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('anyone?'))))),
    ).catch((err: unknown) => err);
    const elapsed = Date.now() - started;
    expect(failure).to.be.instanceOf(Undeliverable);
    expect((failure as Undeliverable).messageId).to.equal(0);
    expect((failure as Error).message).to.equal(`message 0 to rdm 127.0.0.1:${port} undeliverable: no acknowledgement after 5 retransmissions`);
    // 10 + 20 + 40 + 40 + 40 + 40 ms of waits, each up to 25% longer: 237.5 ms at most. The slack is for a busy
    // machine; without the 40 ms cap the waits alone would be 630 ms, past it.
    expect(elapsed).to.be.within(190, 237.5 + 300);
  });

  it('ends the session of a peer that vanishes with Undeliverable, and goes on serving others', async () => {
    const server = await startRdmServer(echo, { retransmitMs: 10, maxRetransmitMs: 40, maxRetries: 5 });
    try {
      const vanishing = await udpClient();
      vanishing.send(encodeRdmData(1, 0, 0, 0, Buffer.from('bye')), server.port!, '127.0.0.1');
      await eventually(() => vanishing.received.length > 0, 5000, 'the reply');
      vanishing.close();
      const started = Date.now();
      await eventually(() => server.logs.some((l) => /^#\d+ message 0 to rdm 127\.0\.0\.1:\d+ undeliverable: no acknowledgement after 5 retransmissions$/.test(l)), 2000, 'Undeliverable');
      expect(Date.now() - started).to.be.below(237.5 + 150);
      const reply = await firstValueFrom(connectReliableDatagram({ port: server.port! }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('still there?'))))));
      expect(reply.toString()).to.equal('still there?');
    } finally {
      await server.close(0);
    }
  });

  it('holds a handler whose peer never acknowledges at `window` messages, memory flat', async () => {
    const window = 16;
    const server = await startRdmServer(echo, { window, retransmitMs: 20, maxRetransmitMs: 20, maxRetries: 1000 });
    const silent = await udpClient();
    try {
      let maxUnacknowledged = 0;
      const heapBefore = process.memoryUsage().heapUsed;
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 250; i++) silent.send(encodeRdmData(9, 0, round * 250 + i, 0, Buffer.alloc(1000, 'x')), server.port!, '127.0.0.1');
        await delay(20);
        maxUnacknowledged = Math.max(maxUnacknowledged, server.unacknowledged);
      }
      const packets = silent.received.map(decodeRdmPacket);
      const repliedIds = new Set(packets.flatMap((p) => (p?.kind === 'data' ? [p.id] : [])));
      const acknowledged = new Set(packets.flatMap((p) => (p?.kind === 'ack' ? p.ids : [])));
      expect(maxUnacknowledged).to.equal(window);
      expect(repliedIds.size).to.equal(window);
      // `window` messages delivered and answered, and acknowledged; `window` more wait in the held handler's inbox,
      // unacknowledged until they are delivered; no more are taken.
      expect(acknowledged.size).to.equal(window);
      expect(process.memoryUsage().heapUsed - heapBefore).to.be.below(20 * 1024 * 1024);
    } finally {
      silent.close();
      await server.close(0);
    }
  });

  it('refuses a message longer than one datagram with MessageTooLarge, sending nothing', async () => {
    const server = await startRdmServer(echo, { maxDatagram: 100 });
    try {
      const failure = await firstValueFrom(
        connectReliableDatagram({ port: server.port!, maxDatagram: 100 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.alloc(83))))),
      ).catch((err: unknown) => err);
      expect(failure).to.be.instanceOf(MessageTooLarge);
      expect((failure as Error).message).to.equal('message of 83 bytes exceeds the 82-byte limit of one datagram');
      const reply = await firstValueFrom(connectReliableDatagram({ port: server.port!, maxDatagram: 100 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.alloc(82, 'a'))))));
      expect(reply).to.deep.equal(Buffer.alloc(82, 'a'));
    } finally {
      await server.close(0);
    }
  });

  it('drops and counts datagrams that are not the protocol, and answers the same peer after them', async () => {
    const server = await startRdmServer(echo);
    const client = await udpClient();
    try {
      client.send('GET / HTTP/1.0\r\n\r\n', server.port!, '127.0.0.1');
      client.send(Buffer.from([9, 1, 0, 0, 0, 0, 0, 0, 0, 0]), server.port!, '127.0.0.1');
      await eventually(() => server.droppedMalformed === 2, 5000, 'both to be counted');
      client.send(encodeRdmData(3, 0, 0, 0, Buffer.from('real')), server.port!, '127.0.0.1');
      await eventually(() => client.received.some((d) => decodeRdmPacket(d)?.kind === 'data'), 5000, 'the reply');
    } finally {
      client.close();
      await server.close(0);
    }
  });

  it('refuses bad options in one line naming the key', async () => {
    try {
      await serveReliableDatagrams({ windw: 8 } as ReliableDatagramServeOptions, echo);
      expect.fail('it served');
    } catch (err) {
      expect(err).to.be.instanceOf(InvalidOption);
      expect((err as Error).message).to.equal('serveReliableDatagrams: unknown option "windw" (did you mean "window"?)');
    }
    expect(() => connectReliableDatagram({ maxDatagram: 10 })).to.throw(InvalidOption, 'connectReliableDatagram: maxDatagram: expected a whole number from 19 to 65535, got 10');
  });
});
