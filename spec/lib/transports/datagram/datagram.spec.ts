import { expect } from 'chai';
import { InvalidOption } from 'rxwire';
import { firstValueFrom, lastValueFrom, map, mergeMap, of, reduce, take, throwError, timer } from 'rxjs';
import { connectDatagram, DatagramTooLarge, Handler, idleTimeout, mergeMapBounded, NoReply, serveDatagrams } from 'rxwire';
import upper, { upperBytes } from '../../../../handlers/upper';
import { closedUdpPort, delay, eventually, hasIPv6, startDatagramServer, udpClient, udpExchange } from '../../../support/net';

const text = (datagrams: Buffer[]) => datagrams.map((d) => d.toString());

describe('serveDatagrams', () => {
  it('reports the real address and port when asked for port 0', async () => {
    const server = await startDatagramServer(upper);
    try {
      expect(server.transport).to.equal('udp');
      expect(server.port).to.be.greaterThan(0);
      expect(server.address).to.equal(`127.0.0.1:${server.port}`);
    } finally {
      await server.close();
    }
  });

  it('answers all 200 datagrams from 4 client sockets, each to its sender', async () => {
    const server = await startDatagramServer(upper);
    try {
      const clients = await Promise.all(Array.from({ length: 4 }, () => udpClient()));
      clients.forEach((client, c) => {
        for (let i = 0; i < 50; i++) client.send(`client ${c} datagram ${i}`, server.port!, '127.0.0.1');
      });
      await eventually(() => clients.every((client) => client.received.length === 50), 5000, 'every reply');
      clients.forEach((client, c) => {
        const expected = Array.from({ length: 50 }, (_, i) => `CLIENT ${c} DATAGRAM ${i}`);
        expect(text(client.received).sort()).to.deep.equal(expected.sort());
        client.close();
      });
      expect(server.droppedUnread + server.droppedFromNewPeers).to.equal(0);
    } finally {
      await server.close();
    }
  });

  it('never sends a reply over maxDatagram: DatagramTooLarge ends that peer only, and the server goes on', async () => {
    const server = await startDatagramServer((input) =>
      input.pipe(map((datagram) => (datagram.toString() === 'big' ? Buffer.alloc(70_000, 'x') : upperBytes(datagram)))),
    );
    try {
      const calm = await udpClient();
      calm.send('one', server.port!, '127.0.0.1');
      await eventually(() => calm.received.length === 1, 5000, 'the calm reply');

      const greedy = await udpClient();
      greedy.send('big', server.port!, '127.0.0.1');
      await eventually(() => server.logs.some((l) => /^#\d+ datagram of 70000 bytes exceeds the 65507-byte limit, closing$/.test(l)), 5000, 'the log line');
      await eventually(() => server.connections === 1, 5000, 'the greedy session to end');

      calm.send('two', server.port!, '127.0.0.1');
      greedy.send('small now', server.port!, '127.0.0.1');
      await eventually(() => calm.received.length === 2 && greedy.received.length === 1, 5000, 'both to be answered');
      expect(text(calm.received)).to.deep.equal(['ONE', 'TWO']);
      expect(text(greedy.received)).to.deep.equal(['SMALL NOW']);
      calm.close();
      greedy.close();
    } finally {
      await server.close();
    }
  });

  it('takes maxDatagram as the limit for replies', async () => {
    const server = await startDatagramServer(upper, { maxDatagram: 1000 });
    try {
      expect((await udpExchange(server.port!, [Buffer.alloc(1000, 'a')]))[0]).to.deep.equal(Buffer.alloc(1000, 'A'));
      const client = await udpClient();
      client.send(Buffer.alloc(1001, 'a'), server.port!, '127.0.0.1');
      await eventually(() => server.logs.some((l) => l.endsWith('datagram of 1001 bytes exceeds the 1000-byte limit, closing')), 5000, 'the log line');
      expect(client.received).to.deep.equal([]);
      client.close();
    } finally {
      await server.close();
    }
  });

  it("ends only the session whose handler errors; the peer's next datagram starts a new one", async () => {
    const picky: Handler = (input) =>
      input.pipe(mergeMap((datagram) => (datagram.includes('boom') ? throwError(() => new Error('boom received')) : of(upperBytes(datagram)))));
    const server = await startDatagramServer(picky);
    try {
      const calm = await udpClient();
      calm.send('one', server.port!, '127.0.0.1');
      await eventually(() => calm.received.length === 1, 5000, 'the calm reply');

      const failing = await udpClient();
      failing.send('boom', server.port!, '127.0.0.1');
      await eventually(() => server.logs.some((l) => /^#\d+ handler error: boom received$/.test(l)), 5000, 'the error log line');

      calm.send('two', server.port!, '127.0.0.1');
      failing.send('again', server.port!, '127.0.0.1');
      await eventually(() => calm.received.length === 2 && failing.received.length === 1, 5000, 'both to go on');
      expect(text(failing.received)).to.deep.equal(['AGAIN']);
      expect(server.logs.filter((l) => / open /.test(l))).to.have.length(3);
      calm.close();
      failing.close();
    } finally {
      await server.close();
    }
  });

  it("ends a peer's session at an empty datagram, through closeOnEmptyRead()", async () => {
    const server = await startDatagramServer(upper);
    try {
      const client = await udpClient();
      client.send('first', server.port!, '127.0.0.1');
      await eventually(() => client.received.length === 1, 5000, 'the reply');
      expect(server.connections).to.equal(1);
      client.send(Buffer.alloc(0), server.port!, '127.0.0.1');
      await eventually(() => server.connections === 0, 5000, 'the session to end');
      expect(server.logs.some((l) => /^#\d+ closed 127\.0\.0\.1:\d+: 2 datagrams \(5 bytes\) in, 1 datagrams \(5 bytes\) out, \d+ ms$/.test(l))).to.equal(true);
      client.send('second', server.port!, '127.0.0.1');
      await eventually(() => client.received.length === 2, 5000, 'a new session to answer');
      expect(text(client.received)).to.deep.equal(['FIRST', 'SECOND']);
      client.close();
    } finally {
      await server.close();
    }
  });

  it('expires a peer silent for idleMs: its input completes and what follows is still sent', async () => {
    // Answers once its input has completed, with how many datagrams it had.
    const counter: Handler = (input) => input.pipe(reduce((n) => n + 1, 0), map((n) => Buffer.from(`${n} datagrams`)));
    const server = await startDatagramServer(counter, { idleMs: 200 });
    try {
      const client = await udpClient();
      const started = Date.now();
      for (const word of ['a', 'b', 'c']) client.send(word, server.port!, '127.0.0.1');
      await eventually(() => client.received.length === 1, 5000, 'the count');
      expect(Date.now() - started).to.be.within(150, 1500);
      expect(text(client.received)).to.deep.equal(['3 datagrams']);
      await eventually(() => server.connections === 0, 5000, 'the session to end');
      expect(server.logs.some((l) => /^#\d+ expired: silent for 200 ms$/.test(l))).to.equal(true);
      client.close();
    } finally {
      await server.close();
    }
  });

  it('ends an expired session whose output never completes after another idleMs', async () => {
    const server = await startDatagramServer(() => timer(60_000).pipe(map(() => Buffer.from('too late'))), { idleMs: 150 });
    try {
      const client = await udpClient();
      client.send('hello', server.port!, '127.0.0.1');
      await eventually(() => server.connections === 1, 5000, 'the session');
      const started = Date.now();
      await eventually(() => server.connections === 0, 5000, 'the session to end');
      expect(Date.now() - started).to.be.within(200, 1500);
      client.close();
    } finally {
      await server.close();
    }
  });

  it('drops and counts datagrams from new peers past maxPeers, logs it, and serves them once a slot frees', async () => {
    const server = await startDatagramServer(upper, { maxPeers: 2 });
    try {
      const [a, b, c] = await Promise.all([udpClient(), udpClient(), udpClient()]);
      a.send('a', server.port!, '127.0.0.1');
      b.send('b', server.port!, '127.0.0.1');
      await eventually(() => server.connections === 2, 5000, 'two sessions');
      for (let i = 0; i < 5; i++) c.send(`c${i}`, server.port!, '127.0.0.1');
      await eventually(() => server.droppedFromNewPeers === 5, 5000, 'five drops');
      expect(server.logs.filter((l) => l.startsWith('refused '))).to.deep.equal([
        `refused 127.0.0.1:${c.address().port}: 2 peers open; datagrams from new peers dropped so far: 1`,
      ]);
      a.send('still here', server.port!, '127.0.0.1');
      await eventually(() => a.received.length === 2, 5000, 'the open peer to go on');

      b.send(Buffer.alloc(0), server.port!, '127.0.0.1');
      await eventually(() => server.connections === 1, 5000, "b's session to end");
      c.send('my turn', server.port!, '127.0.0.1');
      await eventually(() => c.received.length === 1, 5000, 'c to be served');
      expect(text(c.received)).to.deep.equal(['MY TURN']);
      [a, b, c].forEach((s) => s.close());
    } finally {
      await server.close();
    }
    expect(server.logs.at(-1)).to.equal('closed: 5 datagram(s) from new peers dropped (maxPeers 2), 0 dropped unread');
  });

  it('cannot pause a peer: datagrams that arrive while reads are held are dropped and counted', async () => {
    // One slow piece of work at a time: mergeMapBounded holds reads while it runs.
    const slow: Handler = (input) => input.pipe(mergeMapBounded((datagram) => timer(300).pipe(map(() => upperBytes(datagram))), 1));
    const server = await startDatagramServer(slow);
    try {
      const client = await udpClient();
      for (let i = 0; i < 5; i++) client.send(`n${i}`, server.port!, '127.0.0.1');
      await eventually(() => client.received.length === 1, 5000, 'the first reply');
      expect(text(client.received)).to.deep.equal(['N0']);
      expect(server.droppedUnread).to.equal(4);
      client.send('later', server.port!, '127.0.0.1');
      await eventually(() => client.received.length === 2, 5000, 'reads to resume');
      expect(text(client.received)).to.deep.equal(['N0', 'LATER']);
      client.close();
    } finally {
      await server.close();
    }
    expect(server.logs.at(-1)).to.equal('closed: 0 datagram(s) from new peers dropped (maxPeers 10000), 4 dropped unread');
  });

  it("gives every session a Flow, so idleTimeout ends a quiet one", async () => {
    const server = await startDatagramServer((input) => input.pipe(idleTimeout(200), map(upperBytes)), { idleMs: 10_000 });
    try {
      const client = await udpClient();
      client.send('hi', server.port!, '127.0.0.1');
      await eventually(() => server.logs.some((l) => /^#\d+ idle for 200 ms, closing$/.test(l)), 5000, 'the idle log line');
      expect(server.connections).to.equal(0);
      client.close();
    } finally {
      await server.close();
    }
  });

  it('listens on every interface, IPv6 and IPv4, when no host is given', async function () {
    if (!(await hasIPv6())) this.skip();
    const server = await serveDatagrams({ port: 0, log: false }, upper);
    try {
      expect(server.address).to.equal(`[::]:${server.port}`);
      expect(text(await udpExchange(server.port!, [Buffer.from('four')]))).to.deep.equal(['FOUR']);
      const six = await udpClient('udp6');
      six.send('six', server.port!, '::1');
      await eventually(() => six.received.length === 1, 5000, 'the IPv6 reply');
      expect(text(six.received)).to.deep.equal(['SIX']);
      six.close();
    } finally {
      await server.close();
    }
  });

  it('on close stops reading at once, lets sessions finish, and frees the port', async () => {
    const late: Handler = (input) => input.pipe(reduce((n) => n + 1, 0), mergeMap((n) => timer(100).pipe(map(() => Buffer.from(`${n} before close`)))));
    const server = await startDatagramServer(late);
    const client = await udpClient();
    try {
      client.send('x', server.port!, '127.0.0.1');
      await eventually(() => server.connections === 1, 5000, 'the session');
      const closing = server.close(5000);
      client.send('after close', server.port!, '127.0.0.1');
      await closing;
      await eventually(() => client.received.length === 1, 5000, 'the reply sent before closing');
      expect(text(client.received)).to.deep.equal(['1 before close']);
      const again = await serveDatagrams({ host: '127.0.0.1', port: server.port, log: false }, upper);
      await again.close();
    } finally {
      client.close();
    }
  });

  it('refuses options that make no sense, in one line', async () => {
    await serveDatagrams({ port: 70000 }, upper).then(
      () => expect.fail('listened on port 70000'),
      (err: Error) => expect(err.message).to.equal('serveDatagrams: port: expected a whole number from 0 to 65535, got 70000'),
    );
    await serveDatagrams({ type: 'tcp' as 'udp4' }, upper).then(
      () => expect.fail('took type tcp'),
      (err: Error) => expect(err.message).to.equal('serveDatagrams: type: expected "udp4" | "udp6", got "tcp"'),
    );
  });
});

describe('connectDatagram', () => {
  it('sends each Buffer as one datagram and emits each reply', async () => {
    const server = await startDatagramServer(upper);
    try {
      const replies = await lastValueFrom(
        connectDatagram({ port: server.port }).pipe(
          mergeMap((conn) => conn.exchange(of(Buffer.from('one'), Buffer.from('two')))),
          take(2),
          reduce((all: string[], reply) => [...all, reply.toString()], []),
        ),
      );
      expect(replies).to.deep.equal(['ONE', 'TWO']);
    } finally {
      await server.close();
    }
  });

  it('fails with NoReply once nothing comes back for timeoutMs', async () => {
    const port = await closedUdpPort();
    const started = Date.now();
    await firstValueFrom(connectDatagram({ port, timeoutMs: 300 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('anyone?')))))).then(
      () => expect.fail('got a reply from nobody'),
      (err: Error) => {
        expect(err).to.be.instanceOf(NoReply);
        expect(err.message).to.equal(`no reply from udp 127.0.0.1:${port} within 300 ms`);
      },
    );
    expect(Date.now() - started).to.be.within(250, 1500);
  });

  it('refuses to send a datagram over maxDatagram, with DatagramTooLarge', async () => {
    const server = await startDatagramServer(upper);
    try {
      await firstValueFrom(connectDatagram({ port: server.port }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.alloc(70_000)))))).then(
        () => expect.fail('sent 70,000 bytes in one datagram'),
        (err: Error) => {
          expect(err).to.be.instanceOf(DatagramTooLarge);
          expect(err.message).to.equal('datagram of 70000 bytes exceeds the 65507-byte limit');
        },
      );
      await delay(50);
      expect(server.connections).to.equal(0);
    } finally {
      await server.close();
    }
  });

  it('refuses options that make no sense, in one line', () => {
    expect(() => connectDatagram({ timeoutMs: 0 })).to.throw(InvalidOption, 'connectDatagram: timeoutMs: expected a whole number ≥ 1, got 0');
  });
});
