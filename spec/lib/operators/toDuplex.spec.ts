import { expect } from 'chai';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { EMPTY, from, map, mergeMap, NEVER, Observable, pipe, range, throwError } from 'rxjs';
import { connect, Connection, fromTransform, toDuplex } from 'rxwire';
import upper, { upperBytes } from '../../../handlers/upper';
import { eventually, startServer, steady } from '../../support/net';

const MiB = 1024 * 1024;

/** A client connection that stays open while the spec uses it (connect()'s subscription is kept). */
async function open(port: number): Promise<{ conn: Connection; close(): void }> {
  let conn: Connection | undefined;
  const subscription = connect({ port }).subscribe((c) => (conn = c));
  await eventually(() => conn !== undefined, 5000, 'the connection');
  return { conn: conn!, close: () => subscription.unsubscribe() };
}

/** Everything a readable stream gives until it ends. */
async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('toDuplex', function () {
  this.timeout(60000);

  it('is a client connection as a Node Duplex: gzip piped in, the reply gunzipped out, through stream.pipeline', async () => {
    const server = await startServer(pipe(fromTransform(() => zlib.createGunzip()), map(upperBytes), fromTransform(() => zlib.createGzip())));
    const client = await open(server.port!);
    try {
      const data = Buffer.from('hello over a duplex\n'.repeat(50_000));
      const duplex = toDuplex(client.conn);
      const [, reply] = await Promise.all([
        pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), zlib.createGzip(), duplex),
        drain(duplex.pipe(zlib.createGunzip())),
      ]);
      expect(reply.equals(upperBytes(data))).to.equal(true);
    } finally {
      client.close();
      await server.close();
    }
  });

  it("holds the connection's reads while nobody reads the stream, past its readableHighWaterMark only", async () => {
    // 32 MiB from the server as soon as the client connects.
    const server = await startServer(() => range(0, 512).pipe(map(() => Buffer.alloc(64 * 1024, 'z'))));
    const client = await open(server.port!);
    try {
      const duplex = toDuplex(client.conn, { readableHighWaterMark: 64 * 1024 });
      duplex.read(0);
      // Read nothing: the socket is paused once the stream holds its high-water mark.
      const held = await steady(() => client.conn.bytesRead, 500, 20000, 'the client to stop reading');
      expect(held).to.be.lessThan(2 * MiB);
      expect(duplex.readableLength).to.be.at.most(128 * 1024);
      duplex.resume();
      let total = 0;
      duplex.on('data', (chunk: Buffer) => (total += chunk.length));
      await once(duplex, 'end');
      expect(total).to.equal(32 * MiB);
    } finally {
      client.close();
      await server.close();
    }
  });

  it("returns false from write() while the peer does not read, and 'drain's once it does", async () => {
    let reading: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (reading = resolve));
    // The server reads nothing until the gate opens, then echoes.
    const server = await startServer((input) => from(gate).pipe(mergeMap(() => input)));
    const client = await open(server.port!);
    try {
      const duplex = toDuplex(client.conn, { writableHighWaterMark: 64 * 1024 });
      duplex.resume();
      const piece = Buffer.alloc(64 * 1024, 'w');
      let written = 0;
      while (duplex.write(piece)) {
        written += piece.length;
        if (written > 64 * MiB) break;
        if (written % MiB === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // The kernel's buffers on both ends, the socket's and the stream's high-water marks: then false.
      expect(written).to.be.lessThan(64 * MiB);
      const drained = once(duplex, 'drain');
      reading!();
      await drained;
      duplex.end();
      await once(duplex, 'finish');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('ends the readable side when the peer ends, and end() ends ours once flushed', async () => {
    const server = await startServer(upper);
    const client = await open(server.port!);
    try {
      const duplex = toDuplex(client.conn);
      const reply = drain(duplex);
      duplex.end('ended politely');
      expect((await reply).toString()).to.equal('ENDED POLITELY');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('destroys the connection when the stream is destroyed, and is destroyed with the error of a failed connection', async () => {
    const server = await startServer(upper);
    const client = await open(server.port!);
    try {
      await eventually(() => server.connections === 1, 5000, 'the server to have the connection');
      const duplex = toDuplex(client.conn);
      duplex.destroy();
      await eventually(() => server.connections === 0, 5000, 'the server to see the connection close');
      expect(client.conn.socket.destroyed).to.equal(true);

      const failing = toDuplex({ input: throwError(() => new Error('the peer went away')), send: () => EMPTY });
      failing.resume();
      const [err] = (await once(failing, 'error')) as [Error];
      expect(err.message).to.equal('the peer went away');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('bounds what it buffers from a source that cannot hold its reads', async () => {
    const flood = new Observable<Buffer>((subscriber) => {
      for (let i = 0; i < 64 && !subscriber.closed; i++) subscriber.next(Buffer.alloc(MiB));
    });
    const duplex = toDuplex({ input: flood, send: () => NEVER }, { maxBufferedBytes: 4 * MiB });
    duplex.read(0);
    const [err] = (await once(duplex, 'error')) as [Error];
    expect(err.message).to.match(/^toDuplex: \d+ bytes read and not taken, past maxBufferedBytes \(4194304\)$/);
    expect(duplex.destroyed).to.equal(true);
  });
});
