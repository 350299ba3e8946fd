import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, map, mergeMap, of, reduce } from 'rxjs';
import { connect, Connection } from 'rxwire';
import upper from '../../handlers/upper';
import { eventually, startServer } from '../support/net';

const collect = reduce((all: Buffer, chunk: Buffer) => Buffer.concat([all, chunk]), Buffer.alloc(0));

/** A port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('connect', () => {
  it('sends, half-closes and reads the whole reply', async () => {
    const server = await startServer(upper);
    try {
      const reply = await lastValueFrom(
        connect({ port: server.port }).pipe(
          mergeMap((conn) => conn.exchange(of(Buffer.from('Hello '), Buffer.from('Huangpingyi')))),
          collect,
        ),
      );
      expect(reply.toString()).to.equal('HELLO HUANGPINGYI');
    } finally {
      await server.close();
    }
  });

  it('describes both ends of the connection', async () => {
    const server = await startServer(upper);
    try {
      const info = await lastValueFrom(
        connect({ port: server.port }).pipe(mergeMap((conn) => conn.exchange(of()).pipe(collect, map(() => conn.info)))),
      );
      expect(info.transport).to.equal('tcp');
      expect(info.remote).to.equal(`127.0.0.1:${server.port}`);
      expect(info.local).to.match(/^127\.0\.0\.1:\d+$/);
    } finally {
      await server.close();
    }
  });

  it('completes once the socket has closed, and closes it when unsubscribed', async () => {
    const server = await startServer(upper);
    try {
      const conn: Connection = await firstValueFrom(connect({ port: server.port }));
      // firstValueFrom unsubscribed after the first value: that closes the socket.
      await eventually(() => conn.socket.destroyed, 2000, 'the socket to be destroyed');
      await eventually(() => server.connections === 0, 2000, 'the server to see it close');
    } finally {
      await server.close();
    }
  });

  it('fails with one line when nothing listens', async () => {
    const port = await closedPort();
    await lastValueFrom(connect({ port })).then(
      () => expect.fail('connected to a closed port'),
      (err: Error) => expect(err.message).to.equal(`connect ECONNREFUSED 127.0.0.1:${port}`),
    );
  });

  it('gives up after timeoutMs when the connection attempt gets no answer', async function () {
    this.timeout(20000);
    // A listener whose accept queue is full and whose process never accepts: Linux drops
    // further SYNs, so the next connect is never answered.
    const stuck = spawn(process.execPath, [
      '-e',
      `const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         console.log(s.address().port);
         setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15000), 10);
       });`,
    ]);
    try {
      const port = Number(await new Promise<string>((resolve) => stuck.stdout.once('data', (d) => resolve(String(d)))));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const fillers = Array.from({ length: 4 }, () => net.connect({ port, host: '127.0.0.1' }).on('error', () => {}));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      await lastValueFrom(connect({ port, timeoutMs: 500 })).then(
        () => expect.fail('connected to a listener that never answers'),
        (err: NodeJS.ErrnoException) => {
          expect(err.message).to.equal(`connect ETIMEDOUT 127.0.0.1:${port}`);
          expect(err.code).to.equal('ETIMEDOUT');
        },
      );
      expect(Date.now() - started).to.be.within(450, 1500);
      fillers.forEach((s) => s.destroy());
    } finally {
      stuck.kill('SIGKILL');
    }
  });

  it('refuses options that make no sense, in one line', () => {
    expect(() => connect({ port: -1 })).to.throw(TypeError, 'connect: .port: expected a whole number from 0 to 65535, got -1');
  });

  it('reaches a server on a Unix domain socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxwire-'));
    const path = join(dir, 'upper.sock');
    const server = await startServer(upper, { host: undefined, port: undefined, path });
    try {
      const reply = await lastValueFrom(connect({ path }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('via unix')))), collect));
      expect(reply.toString()).to.equal('VIA UNIX');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
