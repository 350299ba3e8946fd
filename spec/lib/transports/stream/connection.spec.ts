import { expect } from 'chai';
import * as net from 'node:net';
import { lastValueFrom, map, mergeMap, Observable, of, Subject } from 'rxjs';
import { flowOf } from '../../../../lib/core/flow';
import { formatHost } from '../../../../lib/transports/identity';
import { Connection } from '../../../../lib/transports/stream/connection';
import { delay, eventually, readAll, collectBytes } from '../../../support/net';

/** A real loopback socket pair: the server end wrapped in a Connection, the client end plain. */
async function socketPair(peerAllowHalfOpen = false): Promise<{ conn: Connection; peer: net.Socket; close(): Promise<void> }> {
  const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const peer = net.connect({ port: (listener.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: peerAllowHalfOpen });
  const socket = await accepted;
  const conn = new Connection(socket, { id: 0, transport: 'tcp', local: 'here', remote: 'there' });
  return {
    conn,
    peer,
    close: async () => {
      socket.destroy();
      peer.destroy();
      await new Promise((resolve) => listener.close(resolve));
    },
  };
}

describe('Connection', () => {
  it('emits what the peer sends and completes when the peer ends its side', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      peer.end('all of it');
      expect((await lastValueFrom(conn.input.pipe(collectBytes))).toString()).to.equal('all of it');
    } finally {
      await close();
    }
  });

  it('lets one subscriber read at a time', async () => {
    const { conn, close } = await socketPair();
    try {
      const first = conn.input.subscribe();
      await lastValueFrom(conn.input).then(
        () => expect.fail('a second subscriber was let in'),
        (err: Error) => expect(err.message).to.equal('connection #0: input already has a subscriber'),
      );
      first.unsubscribe();
    } finally {
      await close();
    }
  });

  it('send writes in order, ends our side once flushed, then completes', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const received = readAll(peer);
      await lastValueFrom(conn.send(of('one ', 'two ', 'three').pipe(map((s) => Buffer.from(s)))), { defaultValue: undefined });
      expect((await received).toString()).to.equal('one two three');
    } finally {
      await close();
    }
  });

  it("sends one read's answer in order, parts that lie end to end in their read as one", async () => {
    const digits = Array.from({ length: 10 }, (_, i) => Buffer.from(String(i)));
    const answers: Record<string, (read: Buffer) => Buffer[]> = {
      'views end to end': (read) => [read.subarray(0, 3), read.subarray(3, 6), read.subarray(6)],
      'a few runs': (read) => [read.subarray(0, 3), read.subarray(3, 6), Buffer.from('|'), read.subarray(6), read.subarray(0, 1)],
      'many small parts': (read) => [read.subarray(0, 3), read.subarray(3), ...digits],
    };
    for (const [name, answer] of Object.entries(answers)) {
      const { conn, peer, close } = await socketPair();
      try {
        const expected: Buffer[] = [];
        const received = readAll(peer);
        peer.end('abcdefghijklmnop');
        const output = conn.input.pipe(
          mergeMap((read) => {
            const parts = answer(read);
            expected.push(Buffer.concat(parts));
            return parts;
          }),
        );
        await lastValueFrom(conn.send(output), { defaultValue: undefined });
        expect((await received).toString(), name).to.equal(Buffer.concat(expected).toString());
      } finally {
        await close();
      }
    }
  });

  it('stops reading while any holder holds reads, and reads again when all have released', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const seen: string[] = [];
      const subscription = conn.input.subscribe((chunk) => seen.push(chunk.toString()));
      const [a, b] = [{}, {}];
      conn.holdReads(a);
      conn.holdReads(b);
      peer.write('held');
      await delay(100);
      expect(seen).to.deep.equal([]);
      conn.releaseReads(a);
      await delay(100);
      expect(seen).to.deep.equal([]);
      conn.releaseReads(b);
      await eventually(() => seen.join('') === 'held', 2000, 'the held bytes');
      subscription.unsubscribe();
    } finally {
      await close();
    }
  });

  it('tells flow listeners about reads, queued writes and flushes', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const events: string[] = [];
      conn.onActivity((event) => events.push(event));
      const output = new Subject<Buffer>();
      conn.send(output).subscribe();
      conn.input.subscribe((chunk) => output.next(chunk));
      peer.write('ping');
      await eventually(() => events.includes('flushed'), 2000, 'a flush');
      expect(events.slice(0, 3)).to.deep.equal(['read', 'queued', 'flushed']);
    } finally {
      await close();
    }
  });

  it('hears a write flushed that the kernel could not take at once, though the peer read it only later', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const events: string[] = [];
      conn.onActivity((event) => events.push(event));
      peer.pause();
      const output = new Subject<Buffer>();
      conn.send(output).subscribe();
      // More than loopback's send and receive buffers take: it stays queued in Node.
      const big = Buffer.alloc(32 << 20, 0x61);
      output.next(big);
      expect(conn.pendingOutput).to.be.greaterThan(0);
      await delay(100);
      expect(events).to.not.include('flushed');
      let received = 0;
      peer.on('data', (chunk: Buffer) => (received += chunk.length));
      peer.resume();
      await eventually(() => events.includes('flushed') && conn.pendingOutput === 0, 10000, 'the flush');
      await eventually(() => received === big.length, 10000, 'all of it at the peer');
    } finally {
      await close();
    }
  });

  it('tells a sender paced by its flushes of each in turn, never one call deeper per write', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const count = 20_000;
      let depth = 0;
      let deepest = 0;
      // Sends its next chunk whenever the connection says its output is flushed, as a file sender paced by the socket would.
      const paced = new Observable<Buffer>((subscriber) => {
        const flow = flowOf(subscriber, 'paced')!;
        let sent = 0;
        const sendNext = () => {
          if (sent === count) return subscriber.complete();
          sent++;
          deepest = Math.max(deepest, ++depth);
          subscriber.next(Buffer.alloc(64, 0x61));
          depth--;
        };
        const stop = flow.onActivity((event) => event === 'flushed' && flow.pendingOutput === 0 && sendNext());
        sendNext();
        return stop;
      });
      const received = readAll(peer);
      await lastValueFrom(conn.send(paced), { defaultValue: undefined });
      expect((await received).length).to.equal(count * 64);
      expect(deepest).to.be.at.most(2);
    } finally {
      await close();
    }
  });

  it('tells each of several flow listeners, and none once it has stopped listening', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const [first, second, third]: string[][] = [[], [], []];
      const stopFirst = conn.onActivity((event) => first.push(event));
      const stopSecond = conn.onActivity((event) => second.push(event));
      stopFirst();
      conn.onActivity((event) => third.push(event));
      stopSecond();
      conn.input.subscribe();
      peer.write('ping');
      await eventually(() => third.includes('read'), 2000, 'a read');
      expect([first, second, third]).to.deep.equal([[], [], ['read']]);
    } finally {
      await close();
    }
  });

  it('serve writes the output, ends once flushed, and hears no error after that', async () => {
    // Half-open, so that the peer can still reset the connection after our end.
    const { conn, peer, close } = await socketPair(true);
    try {
      const failures: unknown[] = [];
      const received = readAll(peer);
      conn.serve(of(Buffer.from('one '), Buffer.from('two')), (err) => failures.push(err));
      expect((await received).toString()).to.equal('one two');
      peer.resetAndDestroy();
      await delay(100);
      expect(failures).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  it("serve hears a socket error once and unsubscribes the pipeline", async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const failures: string[] = [];
      let unsubscribed = false;
      const pipeline = new Observable<Buffer>(() => () => (unsubscribed = true));
      conn.serve(pipeline, (err) => failures.push((err as NodeJS.ErrnoException).code!));
      conn.input.subscribe({ error: () => {} });
      peer.resetAndDestroy();
      await eventually(() => unsubscribed, 2000, 'the pipeline to be unsubscribed');
      await delay(50);
      expect(failures).to.deep.equal(['ECONNRESET']);
    } finally {
      await close();
    }
  });

  it('keeps a socket error for whoever subscribes, instead of crashing', async () => {
    const { conn, peer, close } = await socketPair();
    try {
      const failed = lastValueFrom(conn.input).catch((err: NodeJS.ErrnoException) => err.code);
      peer.resetAndDestroy();
      expect(await failed).to.equal('ECONNRESET');
    } finally {
      await close();
    }
  });
});

describe('formatHost', () => {
  it('writes IPv4 plainly, IPv6 in brackets, and an IPv4-mapped peer as IPv4', () => {
    expect(formatHost('127.0.0.1', 80)).to.equal('127.0.0.1:80');
    expect(formatHost('::1', 80)).to.equal('[::1]:80');
    expect(formatHost('::ffff:127.0.0.2', 80)).to.equal('127.0.0.2:80');
    expect(formatHost('::ffff:0:1.2.3.4', 80)).to.equal('[::ffff:0:1.2.3.4]:80');
    expect(formatHost('::ffff:abcd', 80)).to.equal('[::ffff:abcd]:80');
    expect(formatHost(undefined, 80)).to.equal('?:80');
  });
});
