import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { concat, defer, of } from 'rxjs';
import { Handler, InvalidOption, serve } from 'rxwire';
import { encodeProxyHeader, ProxyHeader } from '../../../../lib/codecs/proxyHeader';
import { EventStream } from '../../../../lib/transports/serverEvents';
import { PeerName } from '../../../../lib/transports/identity';
import { Admission } from '../../../../lib/transports/stream/admission';
import { ProxyHeaderGate } from '../../../../lib/transports/stream/proxyProtocol';
import { closed, delay, dial, eventually, readAll, roundTrip, selfSignedCert, startServer } from '../../../support/net';

/** Answers with the connection's addresses as the server sees them. */
const whoAmI: Handler = (_input, conn) => defer(() => of(Buffer.from(`${conn.remote} -> ${conn.local}`)));

const tcp4 = (version: 1 | 2): ProxyHeader => ({
  version,
  command: 'PROXY',
  family: 'tcp4',
  source: { address: '203.0.113.7', port: 40001 },
  destination: { address: '198.51.100.1', port: 443 },
});

describe('serve({ proxyProtocol })', () => {
  for (const version of [1, 2] as const) {
    it(`takes the connection's addresses from a v${version} header, however it is split, and hands the bytes after it to the handler`, async () => {
      const echoAfterAddresses: Handler = (input, conn) => concat(of(Buffer.from(`${conn.remote} -> ${conn.local}: `)), input);
      const server = await startServer(echoAfterAddresses, { proxyProtocol: true });
      try {
        const header = encodeProxyHeader(tcp4(version));
        const reply = await roundTrip({ port: server.port }, header.subarray(0, 5), Buffer.concat([header.subarray(5), Buffer.from('hello')]));
        expect(reply.toString()).to.equal('203.0.113.7:40001 -> 198.51.100.1:443: hello');
        expect(server.logs[0]).to.match(/^#\d+ open 203\.0\.113\.7:40001$/);
      } finally {
        await server.close();
      }
    });
  }

  it("keeps the socket's own addresses for LOCAL and for an UNKNOWN family", async () => {
    const server = await startServer(whoAmI, { proxyProtocol: true });
    try {
      for (const header of [
        { version: 2, command: 'LOCAL', family: 'unknown' },
        { version: 1, command: 'PROXY', family: 'unknown' },
        { version: 2, command: 'PROXY', family: 'unknown' },
      ] as const) {
        const socket = await dial({ port: server.port });
        const ownPort = socket.localPort;
        const reply = readAll(socket);
        socket.end(encodeProxyHeader(header));
        expect((await reply).toString()).to.equal(`127.0.0.1:${ownPort} -> 127.0.0.1:${server.port}`);
      }
    } finally {
      await server.close();
    }
  });

  it('ends a connection with a bad header in one log line, and serves the others', async () => {
    const server = await startServer(whoAmI, { proxyProtocol: true });
    try {
      const bad = await dial({ port: server.port });
      const badPort = bad.localPort;
      bad.end('GET / HTTP/1.1\r\n\r\n');
      expect((await readAll(bad)).length).to.equal(0);
      await eventually(() => server.logs.length > 0, 5000, 'the log line');
      expect(server.logs).to.deep.equal([`127.0.0.1:${badPort} protocol error: PROXY header: no PROXY header, closing`]);
      expect((await roundTrip({ port: server.port }, encodeProxyHeader(tcp4(1)))).toString()).to.equal('203.0.113.7:40001 -> 198.51.100.1:443');
    } finally {
      await server.close();
    }
  });

  it('ends a connection whose header does not arrive within timeoutMs, and one that hangs up before it', async () => {
    const server = await startServer(whoAmI, { proxyProtocol: { timeoutMs: 200 } });
    try {
      const silent = await dial({ port: server.port });
      const silentPort = silent.localPort;
      silent.write('PROXY TCP4');
      const started = Date.now();
      await closed(silent);
      expect(Date.now() - started).to.be.within(150, 2000);
      expect(server.logs).to.deep.equal([`127.0.0.1:${silentPort} protocol error: PROXY header not complete within 200 ms, closing`]);
      const quitter = await dial({ port: server.port });
      const quitterPort = quitter.localPort;
      quitter.end();
      await eventually(() => server.logs.length === 2, 5000, 'the second log line');
      expect(server.logs[1]).to.equal(`127.0.0.1:${quitterPort} protocol error: PROXY header: the peer hung up before sending one, closing`);
      expect(server.connections).to.equal(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a peer that is not on the allow-list before reading its forged header', async () => {
    const server = await startServer(whoAmI, { proxyProtocol: { allow: ['10.0.0.0/8', 'fd00::/8'] } });
    try {
      const forger = await dial({ port: server.port });
      const forgerPort = forger.localPort;
      const reply = readAll(forger).catch(() => Buffer.alloc(0));
      forger.end(encodeProxyHeader(tcp4(2)));
      expect((await reply).length).to.equal(0);
      await eventually(() => server.logs.length > 0, 5000, 'the refusal line');
      expect(server.logs[0]).to.equal(`refused 127.0.0.1:${forgerPort}: not allowed to send a PROXY header (proxyProtocol.allow)`);
      expect(server.logs.some((l) => l.includes('open'))).to.equal(false);
    } finally {
      await server.close();
    }
  });

  it('reads the header before the TLS handshake, as HAProxy sends it', async () => {
    const { cert, key } = selfSignedCert();
    const server = await startServer(whoAmI, { tls: { cert, key }, proxyProtocol: true });
    try {
      const raw = await dial({ port: server.port });
      raw.write(encodeProxyHeader(tcp4(2)));
      const secure = tls.connect({ socket: raw, ca: cert, servername: 'localhost' });
      const reply = readAll(secure);
      await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
      expect((await reply).toString()).to.equal('203.0.113.7:40001 -> 198.51.100.1:443');
      expect(server.transport).to.equal('tls');
    } finally {
      await server.close();
    }
  });

  it('takes the header over a Unix socket, from any peer', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-proxy-'));
    const logs: string[] = [];
    const server = await serve({ path: path.join(dir, 's.sock'), proxyProtocol: true, log: (l) => logs.push(l) }, whoAmI);
    try {
      const header = encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp6', source: { address: '2001:db8::7', port: 5 }, destination: { address: '::1', port: 80 } });
      expect((await roundTrip({ path: path.join(dir, 's.sock') }, header)).toString()).to.equal('[2001:db8::7]:5 -> [::1]:80');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts maxConnectionsPerAddress by the address the header gives', async () => {
    const held: Handler = (input) => input;
    const server = await startServer(held, { proxyProtocol: true, maxConnectionsPerAddress: 1 });
    try {
      const first = await dial({ port: server.port });
      first.write(encodeProxyHeader(tcp4(1)));
      await eventually(() => server.connections === 1, 5000, 'the first connection');
      const other = await dial({ port: server.port });
      other.write(encodeProxyHeader({ ...tcp4(1), source: { address: '203.0.113.8', port: 1 } }));
      await eventually(() => server.connections === 2, 5000, 'a connection from another proxied address');
      const same = await dial({ port: server.port });
      same.write(encodeProxyHeader({ ...tcp4(1), source: { address: '203.0.113.7', port: 2 } }));
      await closed(same);
      expect(server.connections).to.equal(2);
      first.destroy();
      other.destroy();
    } finally {
      await server.close();
    }
  });

  it('destroys connections still waiting for their header on close, without waiting for the grace period', async () => {
    const server = await startServer(whoAmI, { proxyProtocol: true });
    const waiting = await dial({ port: server.port });
    waiting.write('PROXY ');
    await delay(50);
    const started = Date.now();
    await server.close(10_000);
    expect(Date.now() - started).to.be.lessThan(2000);
    await closed(waiting);
  });

  it('gives the oldest waiting socket up once maxPending sockets wait for their header, and reads the newer ones', async () => {
    const events = new EventStream();
    const refused: string[] = [];
    events.events.subscribe((event) => event.type === 'refused' && refused.push(event.error?.message ?? ''));
    const name: PeerName = (peer) => `${peer.remoteAddress}:${peer.remotePort}`;
    const gate = new ProxyHeaderGate(true, false, name, new Admission(undefined, undefined, events, name), events, 2);
    const proxied: string[] = [];
    const listener = net.createServer({ pauseOnConnect: true }, (socket) => gate.read(socket, (addresses) => proxied.push(addresses!.remote)));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      const peers = [];
      for (let i = 0; i < 3; i++) {
        peers.push(await dial({ port, host: '127.0.0.1' }));
        await delay(30); // accepted in order
      }
      await closed(peers[0]!);
      expect(refused).to.deep.equal(['PROXY header: gave way to a newer connection: 2 headers pending']);
      peers[1]!.write(encodeProxyHeader(tcp4(1)));
      peers[2]!.write(encodeProxyHeader(tcp4(2)));
      await eventually(() => proxied.length === 2);
      expect(proxied).to.deep.equal(['203.0.113.7:40001', '203.0.113.7:40001']);
      gate.destroyPending();
      for (const peer of peers) peer.destroy();
    } finally {
      listener.close();
    }
  });

  it('refuses bad proxyProtocol options in one line naming the key', async () => {
    const attempt = (proxyProtocol: unknown) => serve({ port: 0, host: '127.0.0.1', proxyProtocol } as never, whoAmI);
    await expectInvalid(attempt({ allow: ['10.0.0.0/33'] }), 'serve: proxyProtocol.allow[0]: expected an IP address or CIDR subnet, got "10.0.0.0/33"');
    await expectInvalid(attempt({ allow: ['localhost'] }), 'serve: proxyProtocol.allow[0]: expected an IP address or CIDR subnet, got "localhost"');
    await expectInvalid(attempt({ maxHeaderBytes: 8 }), 'serve: proxyProtocol.maxHeaderBytes: expected a whole number from 16 to 65551, got 8');
    await expectInvalid(attempt({ timeout: 5 }), 'serve: proxyProtocol: unknown option "timeout" (did you mean "timeoutMs"?)');
    await expectInvalid(attempt(false), 'serve: proxyProtocol: expected true or an options object, got false');
  });
});

async function expectInvalid(attempt: Promise<unknown>, message: string): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).to.be.instanceOf(InvalidOption);
  expect((error as Error).message).to.equal(message);
}
