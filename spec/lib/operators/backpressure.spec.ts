import { expect } from 'chai';
import { concat, lastValueFrom, map, of, pipe, Subject, Subscriber, takeUntil, tap, timer, toArray } from 'rxjs';
import { backpressure, Handler } from 'rxwire';
import { upperBytes } from '../../../handlers/upper';
import { expectHandler } from 'rxwire/testing';
import { delay, dial, eventually, rssOf, startProgram, startServer, steady, portOf } from '../../support/net';

const MB = 1024 * 1024;

/** Queues `total` bytes on a socket in 1 MB pieces without waiting for it to drain. */
function flood(socket: import('node:net').Socket, total: number): Buffer {
  const piece = Buffer.alloc(MB, 'abcdefgh');
  for (let sent = 0; sent < total; sent += MB) socket.write(piece);
  return piece;
}

describe('backpressure', () => {
  it('passes values through unchanged outside a transport', async () => {
    const chunks = [Buffer.from('a'), Buffer.from('b')];
    expect(await lastValueFrom(of(...chunks).pipe(backpressure(), toArray()))).to.deep.equal(chunks);
  });

  describe('in virtual time', () => {
    const KiB = 1024;
    const chunk = 'x'.repeat(100 * KiB);
    const CHUNK = chunk.toUpperCase();

    it('stops reading while output waits past the high-water mark, and reads again once the peer has read it', () => {
      const handler = pipe(backpressure(), map(upperBytes));
      expectHandler(handler, 'a-b-c|', { a: chunk }, { peerReads: false }).toRead('a', { a: chunk });
      expectHandler(handler, 'a-b-c|', { a: chunk }, { peerReads: '10ms r' }).toBe('A 9ms (BC|)', { A: CHUNK, B: 'B', C: 'C' });
    });

    it('catches up once the peer reads: every read answered, in order, and the end', () => {
      // 100 KiB a read, 64 KiB the high-water mark: each read holds reads until the peer takes its answer.
      const handler = pipe(backpressure(), map(upperBytes));
      const input = { a: chunk, b: chunk, c: chunk, d: chunk };
      const options = { peerReads: '10ms r 9ms r 9ms r 9ms r' };
      expectHandler(handler, 'abcd|', input, options).toRead('a 9ms b 9ms c 9ms d 9ms |', input);
      expectHandler(handler, 'abcd|', input, options).toBe('a 9ms b 9ms c 9ms d 9ms |', { a: CHUNK, b: CHUNK, c: CHUNK, d: CHUNK });
    });

    it('is what keeps the server from reading ahead: without it, everything is read', () => {
      expectHandler(map(upperBytes), 'a-b-c|', { a: chunk }, { peerReads: false }).toRead('a-b-c|', { a: chunk });
    });

    it('holds reads only past the high-water mark from its own option, down to the low-water mark', () => {
      const handler = pipe(backpressure({ highWaterMark: 250 * KiB, lowWaterMark: 150 * KiB }), map(upperBytes));
      // 100 KiB a read: 300 KiB pending after the third, over 250; the peer reads 100 KiB a frame from frame 10.
      const options = { peerReads: '10ms rrr', peerReadSizes: { r: 100 * KiB } };
      expectHandler(handler, 'abcd|', { a: chunk, b: chunk, c: chunk, d: chunk }, options).toRead('abc 8ms (d|)', { a: chunk, b: chunk, c: chunk, d: chunk });
    });

    it('holds reads while either of two in one pipeline holds them, each by its own marks', () => {
      // The first holds past 150 KiB down to 140, the second past 250 KiB down to 50: 300 KiB
      // pending after two reads holds both; the peer taking 160 KiB at frame 10 lets the first
      // go, not the second, which lets go once the peer has taken 100 KiB more at frame 14.
      const first = backpressure({ highWaterMark: 150 * KiB, lowWaterMark: 140 * KiB });
      const handler = pipe(first, backpressure({ highWaterMark: 250 * KiB, lowWaterMark: 50 * KiB }), map(upperBytes));
      const input = { a: chunk, e: chunk + chunk, c: chunk };
      const options = { peerReads: '10ms r 3ms R', peerReadSizes: { r: 160 * KiB, R: 100 * KiB } };
      expectHandler(handler, 'aec|', input, options).toRead('ae 12ms (c|)', input);
    });

    it('lets go of the reads it holds when unsubscribed: the next subscriber to the input reads on', () => {
      // The first part reads `a` and holds (100 KiB pending, the peer reads nothing) until it ends at frame 5.
      const handler: Handler = (input) => concat(input.pipe(backpressure(), takeUntil(timer(5)), map(upperBytes)), input);
      expectHandler(handler, 'a-b-c|', { a: chunk }, { peerReads: false }).toRead('a 4ms (bc|)', { a: chunk });
    });

    it("holds reads past the connection's own high-water mark when given none", () => {
      const handler = pipe(backpressure(), map(upperBytes));
      const input = { a: chunk, b: chunk, c: chunk };
      expectHandler(handler, 'abc', input, { peerReads: false, highWaterMark: 150 * KiB }).toRead('ab', input);
      expectHandler(handler, 'abc', input, { peerReads: false, highWaterMark: 250 * KiB }).toRead('abc', input);
    });
  });

  it("holds reads only past the high-water mark from the server's highWaterMark, over a socket", async function () {
    this.timeout(60000);
    const counter = { read: 0 };
    const count = tap((chunk: Buffer) => (counter.read += chunk.length));
    const server = await startServer(pipe(backpressure(), count, map(upperBytes)), { highWaterMark: 32 * MB });
    try {
      const socket = await dial({ port: server.port });
      socket.pause();
      flood(socket, 96 * MB);
      await eventually(() => counter.read >= 32 * MB, 20000, 'the server to read 32 MB');
      expect(await steady(() => counter.read, 500, 20000, 'the server to stop reading')).to.be.within(32 * MB, 48 * MB);
      socket.destroy();
    } finally {
      await server.close(0);
    }
  });

  it('keeps the seed server flat: 256 MB written, nothing read, memory grows under 64 MB', async function () {
    this.timeout(120000);
    const program = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1']);
    try {
      await delay(300);
      const baseline = rssOf(program.child.pid!);
      const socket = await dial({ port: portOf(program.address) });
      socket.pause();
      flood(socket, 256 * MB);
      let peak = baseline;
      // Sampled until the server has stopped reading: what this side still holds no longer shrinks.
      const sample = () => ((peak = Math.max(peak, rssOf(program.child.pid!))), socket.writableLength);
      expect(await steady(sample, 500, 60000, 'the server to stop reading')).to.be.greaterThan(128 * MB);
      expect(peak - baseline).to.be.lessThan(64 * MB);
      socket.destroy();
    } finally {
      program.child.kill('SIGKILL');
      await program.exit;
    }
  });

  it('over a plain Observable, hands a throw from the subscriber below to its error, not to whoever emitted', () => {
    const errors: unknown[] = [];
    // A subscriber whose next throws (a faulty operator below), under a source fed from outside.
    const faulty = new (class extends Subscriber<Buffer> {
      protected _next(): void {
        throw new Error('faulty subscriber');
      }
    })({ next: () => {}, error: (err: unknown) => errors.push(err), complete: () => {} });
    const source = new Subject<Buffer>();
    source.pipe(backpressure()).subscribe(faulty);
    expect(() => source.next(Buffer.from('x'))).not.to.throw();
    expect(errors.map((err) => (err as Error).message)).to.deep.equal(['faulty subscriber']);
  });
});
