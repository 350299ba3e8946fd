import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import upper from '../../handlers/upper';
import { runCommand, runProgram, startServer } from '../support/net';

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

  it('prints the seed reply: Received HELLO HUANGPINGYI', async () => {
    const client = runProgram('examples/client.ts', ['--port', String(server.port)]);
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
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
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
});
