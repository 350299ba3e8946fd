import { expect } from 'chai';
import fc from 'fast-check';
import { PassThrough, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { lastValueFrom, map, of, pipe, tap, toArray } from 'rxjs';
import { fromTransform } from 'rxwire';
import split2 from 'split2';
import { upperBytes } from '../../../handlers/upper';
import { nonReadingPeer } from '../../support/nonReadingPeer';
import { dial, eventually, readAll, roundTrip, startServer, steady } from '../../support/net';

const MiB = 1024 * 1024;

/** Text that compresses, but not to nothing: lines with numbers in them. */
function text(bytes: number): Buffer {
  let out = '';
  for (let i = 0; out.length < bytes; i++) out += `line ${i} says ${(i * 7919) % 10007}\n`;
  return Buffer.from(out.slice(0, bytes));
}

describe('fromTransform', function () {
  this.timeout(60000);

  it('round-trips any split of bytes through gzip and gunzip outside a transport', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), async (parts: Uint8Array[]) => {
        const chunks = parts.map((p) => Buffer.from(p));
        const output = await lastValueFrom(
          of(...chunks).pipe(fromTransform(() => zlib.createGzip()), fromTransform(() => zlib.createGunzip()), toArray()),
        );
        expect(Buffer.concat(output)).to.deep.equal(Buffer.concat(chunks));
      }),
      { numRuns: 50 },
    );
  });

  it('fails, naming what it got, when the factory returns no stream', async () => {
    const failed = await lastValueFrom(of(Buffer.from('x')).pipe(fromTransform(() => ({}) as NodeJS.ReadWriteStream))).catch((err: Error) => err);
    expect((failed as Error).message).to.equal('fromTransform: the factory must return a Duplex or Transform stream, got object');
  });

  it('gzips in the handler what the client sends, over a socket: the client gunzips it back', async () => {
    const server = await startServer(pipe(map(upperBytes), fromTransform(() => zlib.createGzip())));
    try {
      const data = text(2 * MiB);
      // Sent in uneven pieces, so that reads and gzip's blocks fall anywhere.
      const pieces = [data.subarray(0, 1), data.subarray(1, 70_001), data.subarray(70_001)];
      const reply = await roundTrip({ port: server.port }, ...pieces);
      expect(reply.length).to.be.lessThan(data.length / 2);
      expect(zlib.gunzipSync(reply)).to.deep.equal(upperBytes(data));
    } finally {
      await server.close();
    }
  });

  it('serves a stream parser from npm (split2) as a handler: lines reversed, however they are split', async () => {
    const reverse = pipe(
      fromTransform<string>(() => split2()),
      map((line) => Buffer.from(`${[...line].reverse().join('')}\n`)),
    );
    const server = await startServer(reverse);
    try {
      const reply = await roundTrip({ port: server.port }, Buffer.from('hel'), Buffer.from('lo\nwor'), Buffer.from('ld\nlast'));
      expect(reply.toString()).to.equal('olleh\ndlrow\ntsal\n');
    } finally {
      await server.close();
    }
  });

  it("ends only its own connection when the stream fails (gunzip given bytes that aren't gzip)", async () => {
    const server = await startServer(fromTransform(() => zlib.createGunzip()));
    try {
      const good = roundTrip({ port: server.port }, zlib.gzipSync('fine'));
      const bad = await dial({ port: server.port });
      const badReply = readAll(bad).catch(() => Buffer.alloc(0));
      bad.end('not gzip at all');
      await badReply;
      expect((await good).toString()).to.equal('fine');
      await eventually(() => server.logs.some((l) => /^#\d+ handler error: incorrect header check$/.test(l)), 5000, 'the failure to be logged');
      expect(server.connections).to.equal(0);
    } finally {
      await server.close();
    }
  });

  it("holds the connection's reads while a slow Transform's buffer is full, and reads on once it drains", async () => {
    let read = 0;
    let open: (() => void) | undefined;
    const gated = new Promise<void>((resolve) => (open = resolve));
    // A Transform that takes nothing more until the gate opens: its 16 KiB writable buffer fills.
    const slow = () =>
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          void gated.then(() => callback(null, chunk));
        },
      });
    const server = await startServer(pipe(tap((chunk: Buffer) => (read += chunk.length)), fromTransform(() => slow())));
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      const data = text(16 * MiB);
      socket.end(data);
      const held = await steady(() => read, 500, 20000, 'the server to stop reading');
      expect(held).to.be.lessThan(MiB);
      open!();
      expect((await reply).equals(data)).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it('lets a peer that never reads hold the Transform, and through it the reads: server memory stays flat', async () => {
    let read = 0;
    const server = await startServer(pipe(tap((chunk: Buffer) => (read += chunk.length)), fromTransform(() => new PassThrough())));
    try {
      const { written, grown, socket } = await nonReadingPeer(server.port!, 128 * MiB);
      // Past the socket buffers and the PassThrough's 16 KiB each way, nothing more is read.
      expect(read).to.be.lessThan(16 * MiB);
      expect(written).to.be.lessThan(32 * MiB);
      expect(grown).to.be.lessThan(16 * MiB);
      socket.destroy();
    } finally {
      await server.close(0);
    }
  });
});
