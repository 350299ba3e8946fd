import { expect } from 'chai';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { lastValueFrom, mergeMap, NEVER } from 'rxjs';
import { connect, Connection, InvalidOption, serve, serveDatagrams, serveReliableDatagrams } from 'rxwire';
import upper from '../../../handlers/upper';
import { closed, collectBytes, dial, eventually, readAll } from '../../support/net';

/** Whether a TCP port on loopback can be listened on again: the server that had it has closed. */
async function tcpPortFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => probe.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => probe.close(() => resolve(true))));
}

/** Whether a UDP port on loopback can be bound again. */
async function udpPortFree(port: number): Promise<boolean> {
  const probe = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.bind(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

const quiet = { host: '127.0.0.1', port: 0, log: false } as const;

describe('AbortSignal and await using', function () {
  this.timeout(20000);

  it('closes a server on abort, gracefully: no new connections, the open one finishes its reply', async () => {
    const controller = new AbortController();
    const server = await serve(quiet, upper, { signal: controller.signal });
    const socket = await dial({ port: server.port });
    const reply = readAll(socket);
    socket.write('still ');
    await eventually(() => server.connections === 1, 5000, 'the connection');
    controller.abort();
    await eventually(() => server.connections === 1, 5000, 'nothing');
    const refused = await dial({ port: server.port }).then(
      (s) => (s.destroy(), 'accepted'),
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
    socket.end('here');
    expect((await reply).toString()).to.equal('STILL HERE');
    await eventually(() => server.connections === 0, 5000, 'the connection to end');
    await server.close();
  });

  it('cuts what is still open once the grace period is over', async () => {
    const controller = new AbortController();
    const server = await serve({ ...quiet, graceMs: 200 }, () => NEVER, { signal: controller.signal });
    const socket = await dial({ port: server.port });
    await eventually(() => server.connections === 1, 5000, 'the connection');
    const started = Date.now();
    controller.abort();
    await closed(socket);
    expect(Date.now() - started).to.be.within(150, 3000);
    await eventually(() => server.connections === 0, 5000, 'the server to forget it');
  });

  it('refuses to start with a signal already aborted, with its reason, and names a bad signal in one line', async () => {
    const err = await serve(quiet, upper, { signal: AbortSignal.abort() }).catch((e: Error) => e);
    expect((err as Error).name).to.equal('AbortError');
    const bad = await serve(quiet, upper, { signal: 'soon' as unknown as AbortSignal }).catch((e: Error) => e);
    expect(bad).to.be.instanceOf(InvalidOption);
    expect((bad as Error).message).to.match(/^serve: signal: expected an AbortSignal/);
  });

  it('closes a server at the end of an await using block', async () => {
    let port = 0;
    {
      await using server = await serve(quiet, upper);
      port = server.port!;
      expect(await tcpPortFree(port)).to.equal(false);
    }
    expect(await tcpPortFree(port)).to.equal(true);
  });

  it('closes UDP and reliable-datagram servers on abort and at the end of await using', async () => {
    const controller = new AbortController();
    const udp = await serveDatagrams(quiet, upper, { signal: controller.signal });
    const rdm = await serveReliableDatagrams(quiet, upper, { signal: controller.signal });
    expect(await udpPortFree(udp.port!)).to.equal(false);
    expect(await udpPortFree(rdm.port!)).to.equal(false);
    controller.abort();
    await eventually(() => udp.connections === 0, 5000, 'nothing');
    const ports = [udp.port!, rdm.port!];
    for (const port of ports) {
      const deadline = Date.now() + 5000;
      while (!(await udpPortFree(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await udpPortFree(port), `udp port ${port}`).to.equal(true);
    }
    let port = 0;
    {
      await using server = await serveDatagrams(quiet, upper);
      port = server.port!;
    }
    expect(await udpPortFree(port)).to.equal(true);
  });

  it('fails a client still connecting with the abort, and closes a made connection gracefully', async () => {
    // A TCP server that never speaks TLS: the client's handshake waits until it is aborted.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const server = await serve(quiet, upper);
    try {
      const connecting = new AbortController();
      const attempt = lastValueFrom(connect({ port: (silent.address() as net.AddressInfo).port, tls: {} }, { signal: connecting.signal }));
      setTimeout(() => connecting.abort(), 100);
      const err = await attempt.catch((e: Error) => e);
      expect((err as Error).name).to.equal('AbortError');

      // A signal aborted before subscribing: the Observable errors with its reason; the call itself does not throw.
      const never = await lastValueFrom(connect({ port: server.port }, { signal: AbortSignal.abort() })).catch((e: Error) => e);
      expect((never as Error).name).to.equal('AbortError');

      const talking = new AbortController();
      const conversation = lastValueFrom(
        connect({ port: server.port }, { signal: talking.signal }).pipe(
          mergeMap((conn) => {
            setTimeout(() => talking.abort(), 100);
            // Output that never completes: only the abort ends our side.
            return conn.exchange(NEVER);
          }),
          collectBytes,
        ),
      );
      expect((await conversation).length).to.equal(0);
      await eventually(() => server.connections === 0, 5000, 'the server to see the client leave');
    } finally {
      silent.close();
      await server.close();
    }
  });

  it('closes a client connection at the end of an await using block, after what it sent is answered', async () => {
    const logs: string[] = [];
    const server = await serve({ ...quiet, log: (line) => logs.push(line) }, upper);
    try {
      const conn = await new Promise<Connection>((resolve) => connect({ port: server.port }).subscribe(resolve));
      const reply = lastValueFrom(conn.input.pipe(collectBytes));
      {
        await using disposable = conn;
        disposable.socket.write('bye');
      }
      expect(conn.socket.destroyed).to.equal(true);
      expect((await reply).toString()).to.equal('BYE');
      await eventually(() => logs.some((l) => / closed .*: 3 bytes in, 3 bytes out/.test(l)), 5000, 'the server to log the close');
    } finally {
      await server.close();
    }
  });
});
