import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { lastValueFrom, map, of, pipe, tap, toArray } from 'rxjs';
import { backpressure, Handler } from 'rxwire';
import { upperBytes } from '../../../handlers/upper';
import { delay, dial, eventually, readAll, rssOf, startProgram, startServer, portOf } from '../../support/net';

const MB = 1024 * 1024;

/** An upper-echo handler that counts what it has read, with or without backpressure in front. */
function countingUpper(withBackpressure: boolean, counter: { read: number }): Handler {
  const count = tap((chunk: Buffer) => (counter.read += chunk.length));
  return withBackpressure ? pipe(backpressure(), count, map(upperBytes)) : pipe(count, map(upperBytes));
}

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

  it('stops reading from a client that does not read, then catches up once it does', async function () {
    this.timeout(60000);
    const counter = { read: 0 };
    const server = await startServer(countingUpper(true, counter));
    try {
      const socket = await dial({ port: server.port });
      socket.pause();
      flood(socket, 64 * MB);
      socket.end();
      await delay(1000);
      // What sits in the server's output buffer, its socket buffers and the kernel's: a few MB.
      expect(counter.read).to.be.lessThan(16 * MB);
      const before = counter.read;
      await delay(300);
      expect(counter.read).to.equal(before);

      const hash = createHash('sha256');
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        hash.update(chunk);
      });
      const ended = readAll(socket);
      socket.resume();
      await ended;
      expect(received).to.equal(64 * MB);
      expect(counter.read).to.equal(64 * MB);
      const expected = createHash('sha256');
      for (let i = 0; i < 64; i++) expected.update(upperBytes(Buffer.alloc(MB, 'abcdefgh')));
      expect(hash.digest('hex')).to.equal(expected.digest('hex'));
    } finally {
      await server.close();
    }
  });

  it('is what keeps the server from reading ahead: without it, everything is read', async function () {
    this.timeout(60000);
    const counter = { read: 0 };
    const server = await startServer(countingUpper(false, counter));
    try {
      const socket = await dial({ port: server.port });
      socket.pause();
      flood(socket, 64 * MB);
      await eventually(() => counter.read === 64 * MB, 20000, 'the server to read everything');
      socket.destroy();
    } finally {
      await server.close(0);
    }
  });

  for (const [where, operatorOptions, serveOptions] of [
    ['its own option', { highWaterMark: 32 * MB }, {}],
    ["the server's highWaterMark", {}, { highWaterMark: 32 * MB }],
  ] as const) {
    it(`holds reads only past the high-water mark from ${where}`, async function () {
      this.timeout(60000);
      const counter = { read: 0 };
      const count = tap((chunk: Buffer) => (counter.read += chunk.length));
      const server = await startServer(pipe(backpressure(operatorOptions), count, map(upperBytes)), serveOptions);
      try {
        const socket = await dial({ port: server.port });
        socket.pause();
        flood(socket, 96 * MB);
        await delay(1000);
        expect(counter.read).to.be.within(32 * MB, 48 * MB);
        socket.destroy();
      } finally {
        await server.close(0);
      }
    });
  }

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
      for (let i = 0; i < 20; i++) {
        await delay(100);
        peak = Math.max(peak, rssOf(program.child.pid!));
      }
      expect(peak - baseline).to.be.lessThan(64 * MB);
      socket.destroy();
    } finally {
      program.child.kill('SIGKILL');
      await program.exit;
    }
  });
});
