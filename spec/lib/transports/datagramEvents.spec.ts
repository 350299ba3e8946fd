import { expect } from 'chai';
import { map, mergeMap, NEVER, of, take, toArray, lastValueFrom } from 'rxjs';
import { connectReliableDatagram, serveDatagrams, serveReliableDatagrams } from 'rxwire';
import { encodeRdmData } from '../../../lib/codecs/rdmPacket';
import { closeOf, typesOf, watch } from '../../support/events';
import { eventually, udpClient } from '../../support/net';

// `server.events` of UDP and rdm servers: each peer's session opens and closes once, saying why.

describe('server.events of datagram servers', function () {
  this.timeout(20_000);

  describe('over UDP', () => {
    it('a session gone silent: open, expired, then close idle with the datagrams and bytes each way', async () => {
      await using server = await serveDatagrams({ host: '127.0.0.1', port: 0, log: false, idleMs: 200 }, (input) => input.pipe(map((d) => Buffer.from(d.toString().toUpperCase()))));
      const seen = watch(server);
      const peer = await udpClient();
      try {
        peer.send('hello', server.port!, '127.0.0.1');
        await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
        expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'expired', 'close']);
        expect(seen[0]).to.include({ transport: 'udp' });
        expect(seen[2]).to.include({ idleMs: 200 });
        expect(closeOf(seen)).to.include({ transport: 'udp', reason: 'idle', datagramsIn: 1, bytesIn: 5, datagramsOut: 1, bytesOut: 5, droppedUnread: 0 });
      } finally {
        peer.close();
      }
    });

    it("a handler's error ends its session: handler-error, close handler-error", async () => {
      await using server = await serveDatagrams({ host: '127.0.0.1', port: 0, log: false }, (input) => input.pipe(map(() => { throw new Error('no'); })));
      const seen = watch(server);
      const peer = await udpClient();
      try {
        peer.send('x', server.port!, '127.0.0.1');
        await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
        expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'handler-error', 'close']);
        expect(closeOf(seen)).to.include({ reason: 'handler-error', datagramsIn: 1 });
      } finally {
        peer.close();
      }
    });

    it('a new peer past maxPeers: refused max-peers per datagram, and udp-dropped with the totals on close', async () => {
      const server = await serveDatagrams({ host: '127.0.0.1', port: 0, log: false, maxPeers: 1 }, () => NEVER);
      const seen = watch(server);
      const [first, second] = [await udpClient(), await udpClient()];
      try {
        first.send('a', server.port!, '127.0.0.1');
        await eventually(() => server.connections === 1, 5000, 'the first session');
        second.send('b', server.port!, '127.0.0.1');
        second.send('c', server.port!, '127.0.0.1');
        await eventually(() => seen.filter((e) => e.type === 'refused').length === 2, 5000, 'two refusals');
        await server.close(50);
        expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'refused', 'refused', 'shutdown', 'grace-expired', 'close', 'udp-dropped', 'closed']);
        expect(seen[2]).to.deep.equal({ type: 'refused', remote: `127.0.0.1:${second.address().port}`, reason: 'max-peers', limit: 1 });
        expect(closeOf(seen)).to.include({ reason: 'grace-expired', datagramsIn: 1 });
        expect(seen[7]).to.deep.equal({ type: 'udp-dropped', fromNewPeers: 2, unread: 1, maxPeers: 1 });
      } finally {
        first.close();
        second.close();
      }
    });
  });

  describe('over rdm', () => {
    it('a session whose handler would pass maxBufferedBytes is shed: close over-budget with SessionShed', async () => {
      // Each message answered twice, never acknowledged: what is held grows past the budget.
      await using server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, maxBufferedBytes: 100_000, retransmitMs: 1000 }, (input) =>
        input.pipe(mergeMap((m) => of(m, m))),
      );
      const seen = watch(server);
      const peer = await udpClient();
      try {
        for (let id = 0; id < 40; id++) peer.send(encodeRdmData(5, 0, id, 0, Buffer.alloc(4000, 'y')), server.port!, '127.0.0.1');
        await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
        // The peer's messages after the shed start a session of their own.
        expect(typesOf(seen).slice(0, 3)).to.deep.equal(['listening', 'open', 'close']);
        expect(closeOf(seen)).to.include({ transport: 'rdm', reason: 'over-budget' });
        expect(closeOf(seen).error).to.include({ name: 'SessionShed', code: 'ERR_SESSION_SHED' });
      } finally {
        peer.close();
      }
    });

    it('a session gone silent: expired, then close idle', async () => {
      await using server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, idleMs: 200, retransmitMs: 10 }, (input) => input.pipe(mergeMap(() => of())));
      const seen = watch(server);
      const peer = await udpClient();
      try {
        peer.send(encodeRdmData(7, 0, 0, 0, Buffer.from('hi')), server.port!, '127.0.0.1');
        await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
        expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'expired', 'close']);
        expect(closeOf(seen)).to.include({ transport: 'rdm', reason: 'idle', datagramsIn: 1 });
      } finally {
        peer.close();
      }
    });


    it('a session: listening and open as rdm; its messages counted; a handler error closes it as handler-error', async () => {
      await using server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, retransmitMs: 10, maxRetransmitMs: 50 }, (input) =>
        input.pipe(
          map((m) => {
            if (m.toString() === 'boom') throw new Error('rdm handler blew up');
            return Buffer.from(m.toString().toUpperCase());
          }),
        ),
      );
      const seen = watch(server);
      const replies = await lastValueFrom(
        connectReliableDatagram({ host: '127.0.0.1', port: server.port! }).pipe(
          mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))),
          take(1),
          toArray(),
        ),
      );
      expect(replies.map(String)).to.deep.equal(['HI']);
      // No reply comes to this one: its session ends with the handler's error.
      const doomed = connectReliableDatagram({ host: '127.0.0.1', port: server.port! })
        .pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('boom')))))
        .subscribe({ error: () => {} });
      await eventually(() => seen.some((e) => e.type === 'close' && e.reason === 'handler-error'), 10_000, 'the handler error close');
      doomed.unsubscribe();
      expect(seen[0]).to.include({ type: 'listening', transport: 'rdm' });
      const opens = seen.filter((e) => e.type === 'open');
      expect(opens.map((e) => e.transport)).to.deep.equal(['rdm', 'rdm']);
      const failed = closeOf(seen.filter((e) => e.type === 'close' && e.reason === 'handler-error'));
      expect(typesOf(seen.filter((e) => 'id' in e && e.id === failed.id))).to.deep.equal(['open', 'handler-error', 'close']);
      expect(failed).to.include({ transport: 'rdm' });
      expect(failed.datagramsIn).to.be.greaterThan(0);
    });
  });
});
