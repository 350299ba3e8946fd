import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import upper from '../../handlers/upper';
import { closedPort, closedUdpPort, runAsReadmeSays, runCommand, runProgram, selfSignedCert, startDatagramServer, startServer } from '../support/net';

// The seed's client, ported to Python 3, with the port from argv instead of fixed.
const seedClient = `
import socket, sys
HOST = '127.0.0.1'
PORT = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((HOST, PORT))
s.sendall(b'Hello Huangpingyi')
data = s.recv(1024)
s.close()
print('Received', data.decode())
`;

describe('examples/client.ts', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => (server = await startServer(upper)));
  after(() => server.close());

  // As the README has a user type it; the other specs start the program the cheap way (runProgram).
  it('prints the seed reply: Received HELLO HUANGPINGYI, started with npx ts-node', async () => {
    const client = runAsReadmeSays('examples/client.ts', ['--port', String(server.port)]);
    expect(await client.exit).to.equal(0);
    expect(client.stdout).to.deep.equal(['Received HELLO HUANGPINGYI']);
  });

  it('sends the message it is given', async () => {
    const client = runProgram('examples/client.ts', ['--port', String(server.port), 'hello, rxwire']);
    expect(await client.exit).to.equal(0);
    expect(client.stdout).to.deep.equal(['Received HELLO, RXWIRE']);
  });

  it('serves the seed Python client too', async function () {
    if (spawnSync('python3', ['--version']).status !== 0) this.skip();
    const python = runCommand('python3', ['-c', seedClient, String(server.port)]);
    expect(await python.exit).to.equal(0);
    expect(python.stdout).to.deep.equal(['Received HELLO HUANGPINGYI']);
  });

  it('fails with one line and a non-zero exit when nothing listens', async () => {
    const port = await closedPort();
    const client = runProgram('examples/client.ts', ['--port', String(port), '--timeout-ms', '3000']);
    expect(await client.exit).to.equal(1);
    expect(client.stderr).to.deep.equal([`connect ECONNREFUSED 127.0.0.1:${port}`]);
    expect(client.stdout).to.deep.equal([]);
  });

  it('exits 2 naming a bad flag', async () => {
    const client = runProgram('examples/client.ts', ['--port', 'x']);
    expect(await client.exit).to.equal(2);
    expect(client.stderr).to.deep.equal(['client: --port: expected a whole number from 0 to 65535, got "x"']);
  });

  for (const [args, line] of [
    [['--udp', '--tls'], 'client: --udp: cannot be combined with --tls'],
    [['--udp', '--unix', '/tmp/x.sock'], 'client: --udp: cannot be combined with --unix'],
    [['--unix', '/tmp/x.sock', '--port', '1'], 'client: --unix: cannot be combined with --port or --host'],
    [['--tls', '--tls-ca', '/nonexistent/ca.pem'], 'client: --tls-ca: expected a readable PEM file, got "/nonexistent/ca.pem"'],
    [['--timeout-ms', '0'], 'client: --timeout-ms: expected a whole number ≥ 1, got "0"'],
  ] as const) {
    it(`exits 2 with one line for ${args.join(' ')}`, async () => {
      const client = runProgram('examples/client.ts', [...args]);
      expect(await client.exit).to.equal(2);
      expect(client.stderr).to.deep.equal([line]);
      expect(client.stdout).to.deep.equal([]);
    });
  }

  it('exits 2 when --tls-ca comes without --tls', async () => {
    const client = runProgram('examples/client.ts', ['--tls-ca', selfSignedCert().certFile]);
    expect(await client.exit).to.equal(2);
    expect(client.stderr).to.deep.equal(['client: --tls-ca: needs --tls too']);
  });

  it('reaches a Unix domain socket with --unix', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-'));
    const socketPath = path.join(dir, 'upper.sock');
    const unixServer = await startServer(upper, { host: undefined, port: undefined, path: socketPath });
    try {
      const client = runProgram('examples/client.ts', ['--unix', socketPath, 'via unix']);
      expect(await client.exit).to.equal(0);
      expect(client.stdout).to.deep.equal(['Received VIA UNIX']);
    } finally {
      await unixServer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('with --udp', () => {
    it('sends MESSAGE as one datagram and prints the first reply', async () => {
      const udpServer = await startDatagramServer(upper);
      try {
        const client = runProgram('examples/client.ts', ['--udp', '--port', String(udpServer.port)]);
        expect(await client.exit).to.equal(0);
        expect(client.stdout).to.deep.equal(['Received HELLO HUANGPINGYI']);
        expect(udpServer.logs.filter((l) => / open /.test(l))).to.have.length(1);
      } finally {
        await udpServer.close();
      }
    });

    it('fails with one line after --timeout-ms when no reply comes', async () => {
      const port = await closedUdpPort();
      const started = Date.now();
      const client = runProgram('examples/client.ts', ['--udp', '--port', String(port), '--timeout-ms', '500']);
      expect(await client.exit).to.equal(1);
      expect(client.stderr).to.deep.equal([`no reply from udp 127.0.0.1:${port} within 500 ms`]);
      expect(client.stdout).to.deep.equal([]);
      // The program's own start-up comes on top of the timeout.
      expect(Date.now() - started).to.be.within(500, 10_000);
    });
  });

  describe('with --tls', () => {
    let tlsServer: Awaited<ReturnType<typeof startServer>>;
    before(async () => (tlsServer = await startServer(upper, { tls: { cert: selfSignedCert().cert, key: selfSignedCert().key } })));
    after(() => tlsServer.close());

    it('trusts a self-signed server given --tls-ca, and prints the reply', async () => {
      const client = runProgram('examples/client.ts', ['--tls', '--tls-ca', selfSignedCert().certFile, '--port', String(tlsServer.port), 'over tls']);
      expect(await client.exit).to.equal(0);
      expect(client.stdout).to.deep.equal(['Received OVER TLS']);
    });

    it("refuses a self-signed server without --tls-ca, in one line", async () => {
      const client = runProgram('examples/client.ts', ['--tls', '--port', String(tlsServer.port)]);
      expect(await client.exit).to.equal(1);
      expect(client.stderr).to.deep.equal([`tls handshake with 127.0.0.1:${tlsServer.port} failed: self-signed certificate`]);
      expect(client.stdout).to.deep.equal([]);
    });
  });
});
