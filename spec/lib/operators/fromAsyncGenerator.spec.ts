import { expect } from 'chai';
import fc from 'fast-check';
import { finalize, Observable, of, Subject, tap } from 'rxjs';
import { AsyncGeneratorHandler, eachChunk, fromAsyncGenerator, Handler } from 'rxwire';
import { upperBytes } from '../../../handlers/upper';
import { nonReadingPeer } from '../../support/nonReadingPeer';
import { dial, eventually, readAll, roundTrip, startServer, steady } from '../../support/net';

const MiB = 1024 * 1024;

/** `generator` as a handler whose reads from the socket are counted in `counter.read`. */
function counting(counter: { read: number }, generator: AsyncGeneratorHandler): Handler {
  const handler = fromAsyncGenerator(generator);
  return (input, conn) => handler(input.pipe(tap((chunk) => (counter.read += chunk.length))), conn);
}

const echo: AsyncGeneratorHandler = async function* (input) {
  for await (const chunk of input) yield chunk;
};

describe('eachChunk', () => {
  it('iterates an Observable with for await, and unsubscribes when the loop breaks', async () => {
    let unsubscribed = false;
    const seen: string[] = [];
    const source = of(Buffer.from('a'), Buffer.from('b'), Buffer.from('c')).pipe(finalize(() => (unsubscribed = true)));
    for await (const chunk of eachChunk(source)) {
      seen.push(chunk.toString());
      if (seen.length === 2) break;
    }
    expect(seen).to.deep.equal(['a', 'b']);
    expect(unsubscribed).to.equal(true);
  });

  it('gives every chunk, in order, whatever they are', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 30 }), async (parts: Uint8Array[]) => {
        const chunks = parts.map((p) => Buffer.from(p));
        const seen: Buffer[] = [];
        for await (const chunk of eachChunk(of(...chunks), { highWaterMark: 64 })) seen.push(chunk);
        expect(seen).to.deep.equal(chunks);
      }),
      { numRuns: 100 },
    );
  });

  it("throws the Observable's error in the loop, after the chunks before it", async () => {
    const seen: string[] = [];
    const source = new Observable<Buffer>((subscriber) => {
      subscriber.next(Buffer.from('before'));
      subscriber.error(new Error('the peer reset'));
    });
    let caught: unknown;
    try {
      for await (const chunk of eachChunk(source)) seen.push(chunk.toString());
    } catch (err) {
      caught = err;
    }
    expect(seen).to.deep.equal(['before']);
    expect((caught as Error).message).to.equal('the peer reset');
  });

  it('answers next() calls made before the earlier ones settle, each with its own chunk, in order, then done', async () => {
    const source = new Subject<Buffer>();
    const chunks = eachChunk(source);
    const pulls = [chunks.next(), chunks.next(), chunks.next(), chunks.next()];
    source.next(Buffer.from('a'));
    source.next(Buffer.from('b'));
    source.next(Buffer.from('c'));
    source.complete();
    const results = await Promise.all(pulls);
    expect(results.map((r) => (r.done ? 'done' : r.value.toString()))).to.deep.equal(['a', 'b', 'c', 'done']);
  });

  it('fails the loop rather than queue past maxBufferedBytes when it cannot hold reads', async () => {
    const flood = new Observable<Buffer>((subscriber) => {
      for (let i = 0; i < 64 && !subscriber.closed; i++) subscriber.next(Buffer.alloc(MiB));
    });
    const chunks = eachChunk(flood, { maxBufferedBytes: 4 * MiB });
    await chunks.next();
    let caught: unknown;
    try {
      for (let i = 0; i < 64; i++) await chunks.next();
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).to.match(/^eachChunk: \d+ bytes queued ahead of the loop, past maxBufferedBytes \(4194304\)$/);
  });
});

describe('fromAsyncGenerator', function () {
  this.timeout(60000);

  it('serves an async generator as a handler over a socket: it pulls chunks and yields replies', async () => {
    const server = await startServer(
      fromAsyncGenerator(async function* (input, conn) {
        yield Buffer.from(`hello #${conn.id}\n`);
        for await (const chunk of input) yield upperBytes(chunk);
        yield Buffer.from('\nbye\n');
      }),
    );
    try {
      const reply = await roundTrip({ port: server.port }, Buffer.from('shout '), Buffer.from('this'));
      expect(reply.toString()).to.match(/^hello #\d+\nSHOUT THIS\nbye\n$/);
    } finally {
      await server.close();
    }
  });

  it('ends only its own connection when the generator throws, logged as a handler error', async () => {
    const server = await startServer(
      fromAsyncGenerator(async function* (input) {
        for await (const chunk of input) {
          if (chunk.includes('boom')) throw new Error('the generator gave up');
          yield chunk;
        }
      }),
    );
    try {
      const bad = await dial({ port: server.port });
      const badReply = readAll(bad).catch(() => Buffer.alloc(0));
      bad.write('boom');
      await badReply;
      expect((await roundTrip({ port: server.port }, Buffer.from('fine'))).toString()).to.equal('fine');
      expect(server.logs.some((l) => /^#\d+ handler error: the generator gave up$/.test(l))).to.equal(true);
      expect(server.connections).to.equal(0);
    } finally {
      await server.close();
    }
  });

  it('returns the generator when its connection closes first: its finally block runs', async () => {
    let cleanedUp = false;
    const server = await startServer(
      fromAsyncGenerator(async function* (input) {
        try {
          for await (const chunk of input) yield chunk;
        } finally {
          cleanedUp = true;
        }
      }),
    );
    try {
      const socket = await dial({ port: server.port });
      socket.write('x');
      await eventually(() => server.connections === 1, 5000, 'the connection');
      socket.destroy();
      await eventually(() => cleanedUp, 5000, 'the finally block');
    } finally {
      await server.close();
    }
  });

  it('reads only as fast as a slow generator pulls', async () => {
    const counter = { read: 0 };
    let open: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startServer(
      counting(counter, async function* (input) {
        for await (const chunk of input) {
          await gate;
          yield chunk;
        }
      }),
    );
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      const data = Buffer.alloc(16 * MiB, 'slow\n');
      socket.end(data);
      expect(await steady(() => counter.read, 500, 20000, 'the server to stop reading')).to.be.lessThan(MiB);
      open!();
      expect((await reply).equals(data)).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it('stops pulling while a peer does not read: server memory stays flat', async () => {
    const counter = { read: 0 };
    const server = await startServer(counting(counter, echo));
    try {
      const { written, grown, socket } = await nonReadingPeer(server.port!, 128 * MiB);
      expect(counter.read).to.be.lessThan(16 * MiB);
      expect(written).to.be.lessThan(32 * MiB);
      expect(grown).to.be.lessThan(16 * MiB);
      socket.destroy();
    } finally {
      await server.close(0);
    }
  });
});
