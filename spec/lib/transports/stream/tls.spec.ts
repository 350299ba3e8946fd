import { expect } from 'chai';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { concat, lastValueFrom, map, mergeMap, of, pipe, tap, timer } from 'rxjs';
import { backpressure, connect, Handler, serve } from 'rxwire';
import upper, { upperBytes } from '../../../../handlers/upper';
import { closed, eventually, readAll, selfSignedCert, startServer, steady, collectBytes } from '../../../support/net';

/** A TLS client that trusts the test certificate, as Node's own tls module makes one. */
function dialTls(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen is honoured by tls.connect, though its type leaves it out.
    const options = { port, host: '127.0.0.1', ca: selfSignedCert().cert, allowHalfOpen: true };
    const socket = tls.connect(options);
    socket.once('secureConnect', () => resolve(socket)).once('error', reject);
  });
}

describe('TLS', () => {
  const tlsOptions = () => ({ cert: selfSignedCert().cert, key: selfSignedCert().key });

  it('serves and connects with the same Connection: transport tls on both ends', async () => {
    const server = await startServer(upper, { tls: tlsOptions() });
    try {
      expect(server.transport).to.equal('tls');
      const [reply, info] = await lastValueFrom(
        connect({ port: server.port, tls: { ca: selfSignedCert().cert } }).pipe(
          mergeMap((conn) => conn.exchange(of(Buffer.from('secret'))).pipe(collectBytes, map((bytes) => [bytes.toString(), conn.info] as const))),
        ),
      );
      expect(reply).to.equal('SECRET');
      expect(info.transport).to.equal('tls');
      expect(info.remote).to.equal(`127.0.0.1:${server.port}`);
      await eventually(() => server.logs.some((l) => /^#\d+ closed 127\.0\.0\.1:\d+: /.test(l)), 5000, 'the close line');
    } finally {
      await server.close();
    }
  });

  it('flushes output that follows the client half-close, then ends', async () => {
    const late: Handler = (input) => concat(input.pipe(map(upperBytes)), timer(100).pipe(map(() => Buffer.from(' bye'))));
    const server = await startServer(late, { tls: tlsOptions() });
    try {
      const socket = await dialTls(server.port!);
      const reply = readAll(socket);
      socket.end('hello');
      expect((await reply).toString()).to.equal('HELLO bye');
    } finally {
      await server.close();
    }
  });

  it('logs a plain-TCP client speaking garbage in one line, and the other connections go on', async () => {
    const server = await startServer(upper, { tls: tlsOptions() });
    try {
      const calm = await dialTls(server.port!);
      const calmReply = readAll(calm);
      calm.write('before ');

      const garbage = net.connect({ port: server.port!, host: '127.0.0.1' });
      garbage.on('error', () => {});
      garbage.write('GET / HTTP/1.0\r\n\r\n');
      await closed(garbage);
      await eventually(() => server.logs.some((l) => /^tls handshake with 127\.0\.0\.1:\d+ failed: [^\n]+$/.test(l)), 5000, 'the handshake log line');

      calm.end('after');
      expect((await calmReply).toString()).to.equal('BEFORE AFTER');
    } finally {
      await server.close();
    }
  });

  it('logs a handshake that timed out as a timeout, not as the client hanging up', async () => {
    const server = await startServer(upper, { tls: tlsOptions(), handshakeTimeoutMs: 200 });
    try {
      const silent = net.connect({ port: server.port!, host: '127.0.0.1' });
      silent.on('error', () => {});
      silent.resume();
      await new Promise((resolve) => silent.once('connect', resolve));
      const port = silent.localPort;
      await closed(silent);
      await eventually(() => server.logs.some((l) => l.startsWith('tls handshake with')), 2000, 'the handshake log line');
      expect(server.logs.filter((l) => l.startsWith('tls handshake with'))).to.deep.equal([`tls handshake with 127.0.0.1:${port} failed: TLS handshake timeout`]);
    } finally {
      await server.close();
    }
  });

  it('fails a client that does not trust the certificate with one line; the server logs it and goes on', async () => {
    const server = await startServer(upper, { tls: tlsOptions() });
    try {
      await lastValueFrom(connect({ port: server.port, tls: {} })).then(
        () => expect.fail('trusted a self-signed certificate'),
        (err: NodeJS.ErrnoException) => {
          expect(err.message).to.equal(`tls handshake with 127.0.0.1:${server.port} failed: self-signed certificate`);
          expect(err.code).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
        },
      );
      // Over TLS 1.3 the server sees the client hang up before its handshake is done.
      await eventually(() => server.logs.some((l) => /^tls handshake with 127\.0\.0\.1:\d+ failed: the client hung up$/.test(l)), 5000, 'the log line');
      const reply = await lastValueFrom(connect({ port: server.port, tls: { ca: selfSignedCert().cert } }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('ok')))), collectBytes));
      expect(reply.toString()).to.equal('OK');
    } finally {
      await server.close();
    }
  });

  it('connects to an untrusted server only when told not to check (rejectUnauthorized: false)', async () => {
    const server = await startServer(upper, { tls: tlsOptions() });
    try {
      const reply = await lastValueFrom(
        connect({ port: server.port, tls: { rejectUnauthorized: false } }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('anyway')))), collectBytes),
      );
      expect(reply.toString()).to.equal('ANYWAY');
    } finally {
      await server.close();
    }
  });

  it('asks clients for a certificate with requestCert, and serves those whose certificate it trusts', async () => {
    const { cert, key } = selfSignedCert();
    const server = await startServer(upper, { tls: { cert, key, ca: cert, requestCert: true } });
    try {
      const reply = await lastValueFrom(
        connect({ port: server.port, tls: { ca: cert, cert, key } }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('mutual')))), collectBytes),
      );
      expect(reply.toString()).to.equal('MUTUAL');
      // Without a certificate the server refuses the handshake: TLS 1.3 tells the client once its own side is done.
      await lastValueFrom(connect({ port: server.port, tls: { ca: cert } }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('me?')))), collectBytes)).then(
        () => expect.fail('served a client without a certificate'),
        (err: Error) => expect(err.message).to.match(/certificate/),
      );
      await eventually(() => server.logs.some((l) => /^tls handshake with 127\.0\.0\.1:\d+ failed: .*certificate/.test(l)), 5000, 'the log line');
    } finally {
      await server.close();
    }
  });

  it('gives up after timeoutMs when the server never finishes the handshake', async () => {
    // Accepts TCP and says nothing: the TLS handshake never completes.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      await lastValueFrom(connect({ port, tls: {}, timeoutMs: 400 })).then(
        () => expect.fail('connected to a server that never answered'),
        (err: NodeJS.ErrnoException) => {
          expect(err.message).to.equal(`connect ETIMEDOUT 127.0.0.1:${port}`);
          expect(err.code).to.equal('ETIMEDOUT');
        },
      );
      expect(Date.now() - started).to.be.within(350, 1500);
    } finally {
      silent.close();
    }
  });

  it('refuses TLS options that make no sense, in one line', async () => {
    const { cert } = selfSignedCert();
    await serve({ port: 0, tls: { cert } as { cert: string; key: string } }, upper).then(
      () => expect.fail('served TLS without a key'),
      (err: Error) => expect(err.message).to.equal('serve: tls.key: expected PEM text as a string or Buffer, got nothing'),
    );
    await serve({ port: 0, log: false, tls: { cert, key: cert } }, upper).then(
      () => expect.fail('served TLS with a certificate for a key'),
      (err: Error) => expect(err.message).to.match(/^serve: tls: [^\n]+$/),
    );
  });

  it("holds reads at the server's highWaterMark over TLS too", async function () {
    this.timeout(30000);
    const MB = 1024 * 1024;
    let read = 0;
    const counting: Handler = pipe(backpressure(), tap((chunk: Buffer) => (read += chunk.length)), map(upperBytes));
    const server = await startServer(counting, { tls: tlsOptions(), highWaterMark: 8 * MB });
    try {
      const socket = await dialTls(server.port!);
      socket.pause();
      const piece = Buffer.alloc(MB, 'a');
      for (let i = 0; i < 48; i++) socket.write(piece);
      await eventually(() => read >= 8 * MB, 20000, 'the server to read 8 MiB');
      // Held past 8 MiB of pending output, not at a TLS socket's own 16 KiB.
      expect(await steady(() => read, 500, 20000, 'the server to stop reading')).to.be.within(8 * MB, 24 * MB);
      socket.destroy();
    } finally {
      await server.close(0);
    }
  });
});
