import { expect } from 'chai';
import { InvalidOption } from 'rxwire';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, map, mergeMap, of, throwError, timer } from 'rxjs';
import { connect, Connection } from 'rxwire';
import upper from '../../../../handlers/upper';
import { closedPort, delay, eventually, startServer, collectBytes } from '../../../support/net';

describe('connect', () => {
  it('sends, half-closes and reads the whole reply', async () => {
    const server = await startServer(upper);
    try {
      const reply = await lastValueFrom(
        connect({ port: server.port }).pipe(
          mergeMap((conn) => conn.exchange(of(Buffer.from('Hello '), Buffer.from('Huangpingyi')))),
          collectBytes,
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
        connect({ port: server.port }).pipe(mergeMap((conn) => conn.exchange(of()).pipe(collectBytes, map(() => conn.info)))),
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
    expect(() => connect({ port: -1 })).to.throw(InvalidOption, 'connect: port: expected a whole number from 0 to 65535, got -1');
    expect(() => connect({ retry: { count: 3 } as { count: number; delayMs: number } })).to.throw(
      InvalidOption,
      'connect: retry.delayMs: expected a whole number ≥ 0, got nothing',
    );
    expect(() => connect({ tls: { ca: 42 as unknown as string } })).to.throw(InvalidOption, 'connect: tls.ca: expected PEM text as a string or Buffer, or an array of them, got 42');
  });

  describe('with retry', () => {
    it('connects once the server comes up, when started before it listens', async () => {
      const port = await closedPort();
      const started = Date.now();
      // Attempts at about 0, 100, 300 and 700 ms; the server listens from 250 ms.
      const reply = lastValueFrom(
        connect({ port, retry: { count: 5, delayMs: 100 } }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('late server')))), collectBytes),
      );
      await delay(250);
      const server = await startServer(upper, { port });
      try {
        expect((await reply).toString()).to.equal('LATE SERVER');
        expect(Date.now() - started).to.be.within(250, 1500);
      } finally {
        await server.close();
      }
    });

    it('gives up after count retries, with the last error, waiting twice as long each time', async () => {
      // Resets the first two attempts' TLS handshakes, then stops listening: the third is refused.
      let attempts = 0;
      const resetter = net.createServer((socket) => {
        socket.destroy();
        if (++attempts === 2) resetter.close();
      });
      await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
      const port = (resetter.address() as net.AddressInfo).port;
      const started = Date.now();
      await lastValueFrom(connect({ port, tls: {}, retry: { count: 2, delayMs: 100 } })).then(
        () => expect.fail('connected to a server that resets every handshake'),
        (err: Error) => expect(err.message).to.equal(`connect ECONNREFUSED 127.0.0.1:${port}`),
      );
      expect(attempts).to.equal(2);
      expect(Date.now() - started).to.be.within(300, 2000);
    });

    it('does not retry once connected: a failure after connecting is the connection’s own', async () => {
      // Never reads, and fails a moment later: the connection closes with our bytes unread, a reset.
      const server = await startServer(() => timer(100).pipe(mergeMap(() => throwError(() => new Error('not today')))));
      try {
        await lastValueFrom(
          connect({ port: server.port, retry: { count: 3, delayMs: 10 } }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))), collectBytes),
        ).then(
          () => expect.fail('the exchange ended well'),
          (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ECONNRESET'),
        );
        await delay(200);
        expect(server.logs.filter((l) => / open /.test(l))).to.have.length(1);
      } finally {
        await server.close();
      }
    });
  });

  it('reaches a server on a Unix domain socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxwire-'));
    const path = join(dir, 'upper.sock');
    const server = await startServer(upper, { host: undefined, port: undefined, path });
    try {
      const reply = await lastValueFrom(connect({ path }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('via unix')))), collectBytes));
      expect(reply.toString()).to.equal('VIA UNIX');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
