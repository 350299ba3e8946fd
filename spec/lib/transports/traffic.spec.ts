import { expect } from 'chai';
import { from, lastValueFrom, map, mergeMap, pipe, take, toArray } from 'rxjs';
import { CloseEvent, connectReliableDatagram, decode, encodeLines, fixedSizeDecoder, lengthPrefixed, lines, serveReliableDatagrams, Traffic } from 'rxwire';
import { closed, dial, eventually, startDatagramServer, startServer, udpClient } from '../../support/net';

// server.traffic(): what metrics read at each scrape. Real sockets on loopback; the counts of a
// connection still open must show, and stay once it closes.

const framesOf = (traffic: Traffic) => Object.fromEntries([...traffic.frames].map(([codec, tally]) => [codec, { ...tally }]));

describe('server.traffic()', () => {
  it("counts an open connection's bytes and frames before it closes, and keeps them after", async () => {
    const server = await startServer(pipe(lines({ maxLength: 16 }), encodeLines()));
    try {
      const socket = await dial({ port: server.port });
      const replies: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => replies.push(chunk));
      socket.write('one\ntwo\nthr');
      socket.write('ee\n');
      await eventually(() => Buffer.concat(replies).length === 14, 5000, 'three replies');
      expect(server.traffic()).to.include({ bytesIn: 14, bytesOut: 14 });
      expect(framesOf(server.traffic())).to.deep.equal({ lines: { decoded: 3, protocolErrors: 0 } });
      socket.end('four\n');
      await closed(socket);
      await eventually(() => server.connections === 0, 5000, 'the connection to close');
      expect(server.traffic()).to.include({ bytesIn: 19, bytesOut: 19 });
      expect(framesOf(server.traffic())).to.deep.equal({ lines: { decoded: 4, protocolErrors: 0 } });
    } finally {
      await server.close();
    }
  });

  it('sums connections by codec, a frame too long counted as a protocol error of its codec', async () => {
    const server = await startServer((input) => input.pipe(lengthPrefixed({ headerBytes: 1, maxLength: 4 }), decode(fixedSizeDecoder(1), { codec: 'bytes' })));
    try {
      for (const payload of [Buffer.from([2, 0x61, 0x62, 1, 0x63]), Buffer.from([9])]) {
        const socket = await dial({ port: server.port });
        socket.resume();
        socket.end(payload);
        await closed(socket);
      }
      await eventually(() => server.connections === 0, 5000, 'both connections to close');
      expect(framesOf(server.traffic())).to.deep.equal({
        'length-prefixed': { decoded: 2, protocolErrors: 1 },
        bytes: { decoded: 3, protocolErrors: 0 },
      });
      expect(server.traffic().bytesIn).to.equal(6);
    } finally {
      await server.close();
    }
  });

  it('counts UDP datagrams and their frames per session', async () => {
    const server = await startDatagramServer(pipe(lines(), map((line) => Buffer.from(`${line}!`))));
    const client = await udpClient();
    try {
      client.send('a\nbc\n', server.port!, '127.0.0.1');
      await eventually(() => client.received.length === 2, 5000, 'two replies');
      expect(server.traffic()).to.include({ bytesIn: 5, bytesOut: 5 });
      expect(framesOf(server.traffic())).to.deep.equal({ lines: { decoded: 2, protocolErrors: 0 } });
    } finally {
      client.close();
      await server.close();
    }
    expect(server.traffic()).to.include({ bytesIn: 5, bytesOut: 5 });
  });

  it("counts an rdm server's datagrams as its close events tell them, and the frames its handlers decoded", async () => {
    const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, retransmitMs: 10, idleMs: 300 }, pipe(lines(), map((line) => Buffer.from(`${line}.`))));
    const closes: CloseEvent[] = [];
    server.events.subscribe((event) => event.type === 'close' && closes.push(event));
    try {
      const replies = await lastValueFrom(
        connectReliableDatagram({ port: server.port! }).pipe(mergeMap((conn) => conn.exchange(from([Buffer.from('x\n'), Buffer.from('yz\n')]))), take(2), toArray()),
      );
      expect(replies.map(String).sort()).to.deep.equal(['x.', 'yz.']);
      expect(framesOf(server.traffic())).to.deep.equal({ lines: { decoded: 2, protocolErrors: 0 } });
      await eventually(() => closes.length === 1, 5000, 'the session to expire');
      expect(server.traffic()).to.include({ bytesIn: closes[0]!.bytesIn, bytesOut: closes[0]!.bytesOut });
      expect(closes[0]!.bytesIn).to.be.greaterThan(5);
    } finally {
      await server.close();
    }
  });
});
