import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import {
  closed,
  delay,
  dial,
  eventually,
  hasIPv6,
  listening,
  portOf,
  readAll,
  roundTrip,
  runAsReadmeSays,
  runProgram,
  selfSignedCert,
  startProgram,
  udpExchange,
} from '../support/net';

// examples/upper.ts is serveUntilSignalled (lib/cli/program.ts) with the upper handler: these are its behaviours
// as a user at a terminal sees them.
describe('examples/upper.ts', function () {
  this.timeout(30000);

  // As the README has a user type it; the other specs start the program the cheap way (runProgram).
  it('prints exactly one line, listening on the real address, and serves on it, started with npx ts-node', async () => {
    const server = await listening(runAsReadmeSays('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1']));
    try {
      expect(server.address).to.match(/^127\.0\.0\.1:\d+$/);
      expect(portOf(server.address)).to.be.greaterThan(0);
      expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('Hello Huangpingyi'))).toString()).to.equal('HELLO HUANGPINGYI');
      await eventually(() => server.stderr.some((l) => / closed /.test(l)), 5000, 'the close log line');
      expect(server.stdout).to.deep.equal([`listening on ${server.address}`]);
      // Each connection's lines carry an ISO timestamp.
      const [open, close] = server.stderr.filter((l) => l.includes(' #'));
      expect(open).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z #1 open 127\.0\.0\.1:\d+$/);
      expect(close).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z #1 closed 127\.0\.0\.1:\d+: 17 bytes in, 17 bytes out, \d+ ms$/);
    } finally {
      process.kill(-server.child.pid!, 'SIGKILL');
    }
  });

  it('listens on every interface, dual-stack, when no host is given', async () => {
    const server = await startProgram('examples/upper.ts', ['--port', '0']);
    try {
      expect(server.address).to.match(/^(\[::\]|0\.0\.0\.0):\d+$/);
      expect((await roundTrip({ host: '127.0.0.1', port: portOf(server.address) }, Buffer.from('v4'))).toString()).to.equal('V4');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('serves a Unix socket with --unix and says so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-'));
    const socketPath = path.join(dir, 'upper.sock');
    const server = await startProgram('examples/upper.ts', ['--unix', socketPath]);
    try {
      expect(server.address).to.equal(`unix:${socketPath}`);
      expect((await roundTrip({ path: socketPath }, Buffer.from('unix'))).toString()).to.equal('UNIX');
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves TLS from --workers 2 behind one listening line, and exits 0 on SIGTERM', async function () {
    this.timeout(90_000);
    const { cert, certFile, keyFile } = selfSignedCert();
    const args = ['--workers', '2', '--port', '0', '--host', '127.0.0.1', '--tls-cert', certFile, '--tls-key', keyFile];
    const server = await listening(runProgram('examples/upper.ts', args), 60_000);
    try {
      expect(server.stdout).to.deep.equal([`listening on tls 127.0.0.1:${portOf(server.address)}`]);
      for (const text of ['first', 'second']) {
        const socket = tls.connect({ port: portOf(server.address), host: '127.0.0.1', ca: cert, servername: 'localhost' });
        const reply = readAll(socket);
        socket.end(text);
        expect((await reply).toString()).to.equal(text.toUpperCase());
      }
      server.child.kill('SIGTERM');
      expect(await server.exit).to.equal(0);
      expect(server.stderr).to.include('SIGTERM: closing, 2 worker(s) serving');
    } finally {
      // The workers too, should the test fail before they exit.
      if (server.child.exitCode === null && server.child.signalCode === null) process.kill(-server.child.pid!, 'SIGKILL');
    }
  });

  it('serves UDP with --udp: says so, answers each datagram to its sender, and exits 0 on SIGTERM', async () => {
    const server = await startProgram('examples/upper.ts', ['--udp', '--port', '0', '--host', '127.0.0.1']);
    try {
      expect(server.stdout).to.deep.equal([`listening on udp 127.0.0.1:${portOf(server.address)}`]);
      expect(portOf(server.address)).to.be.greaterThan(0);
      const replies = await udpExchange(portOf(server.address), [Buffer.from('Hello Huangpingyi'), Buffer.from('again')]);
      expect(replies.map(String)).to.deep.equal(['HELLO HUANGPINGYI', 'AGAIN']);
      await eventually(() => server.stderr.some((l) => / #\d+ open 127\.0\.0\.1:\d+$/.test(l)), 5000, 'the open log line');
      server.child.kill('SIGTERM');
      expect(await server.exit).to.equal(0);
      expect(server.stderr).to.include('SIGTERM: closing, 1 connection(s) open');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('serves UDP on every interface, dual-stack, when --udp has no host', async function () {
    if (!(await hasIPv6())) this.skip();
    const server = await startProgram('examples/upper.ts', ['--udp', '--port', '0']);
    try {
      expect(server.address).to.match(/^udp \[::\]:\d+$/);
      expect((await udpExchange(portOf(server.address), [Buffer.from('v4')])).map(String)).to.deep.equal(['V4']);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('serves TLS with --tls-cert and --tls-key, and says so', async () => {
    const { cert, certFile, keyFile } = selfSignedCert();
    const server = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1', '--tls-cert', certFile, '--tls-key', keyFile]);
    try {
      expect(server.stdout).to.deep.equal([`listening on tls 127.0.0.1:${portOf(server.address)}`]);
      const socket = tls.connect({ port: portOf(server.address), host: '127.0.0.1', ca: cert });
      const reply = readAll(socket);
      socket.end('over tls');
      expect((await reply).toString()).to.equal('OVER TLS');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('exits 2 with one line for TLS files that are missing, not PEM, or the wrong kind', async () => {
    const { certFile, keyFile } = selfSignedCert();
    const notPem = path.join(path.dirname(certFile), 'not.pem');
    writeFileSync(notPem, 'hello');
    const cases: Array<[string[], string]> = [
      [['--tls-cert', '/nonexistent/cert.pem', '--tls-key', keyFile], 'upper: --tls-cert: expected a readable PEM file, got "/nonexistent/cert.pem"'],
      [['--tls-cert', certFile, '--tls-key', notPem], `upper: --tls-key: expected a PEM file holding a PRIVATE KEY, got ${JSON.stringify(notPem)}`],
      [['--tls-cert', keyFile, '--tls-key', keyFile], `upper: --tls-cert: expected a PEM file holding a CERTIFICATE, got ${JSON.stringify(keyFile)}`],
      [['--tls-cert', certFile], 'upper: --tls-cert: needs --tls-key too'],
      [['--tls-key', keyFile], 'upper: --tls-key: needs --tls-cert too'],
      [['--udp', '--tls-cert', certFile, '--tls-key', keyFile], 'upper: --udp: cannot be combined with --tls-cert'],
    ];
    for (const [args, line] of cases) {
      const program = runProgram('examples/upper.ts', args);
      expect(await program.exit).to.equal(2);
      expect(program.stderr).to.deep.equal([line]);
      expect(program.stdout).to.deep.equal([]);
    }
  });

  it('exits 1 with one line when the key does not belong to the certificate', async () => {
    const { certFile } = selfSignedCert();
    const otherKey = path.join(path.dirname(certFile), 'other-key.pem');
    writeFileSync(otherKey, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const program = runProgram('examples/upper.ts', ['--port', '0', '--tls-cert', certFile, '--tls-key', otherKey]);
    expect(await program.exit).to.equal(1);
    expect(program.stderr).to.deep.equal(['upper: serve: tls: key values mismatch']);
  });

  for (const [args, line] of [
    [['--nope'], 'upper: unknown flag --nope (see --help)'],
    [['--port', '-1'], 'upper: --port: expected a whole number from 0 to 65535, got "-1"'],
    [['--port', '70000'], 'upper: --port: expected a whole number from 0 to 65535, got "70000"'],
    [['--port', 'abc'], 'upper: --port: expected a whole number from 0 to 65535, got "abc"'],
    [['--idle-ms', '-5'], 'upper: --idle-ms: expected a whole number ≥ 0, got "-5"'],
    [['--max-connections', '0'], 'upper: --max-connections: expected a whole number ≥ 1, got "0"'],
    [['--unix', '/tmp/x.sock', '--port', '1'], 'upper: --unix: cannot be combined with --port or --host'],
    [['--udp', '--unix', '/tmp/x.sock'], 'upper: --udp: cannot be combined with --unix'],
    [['--udp', '--backlog', '5'], 'upper: --udp: cannot be combined with --backlog'],
    [['--udp=yes'], 'upper: --udp: takes no value, got "yes"'],
  ] as const) {
    it(`exits 2 with one line for ${args.join(' ')}`, async () => {
      const program = runProgram('examples/upper.ts', [...args]);
      expect(await program.exit).to.equal(2);
      expect(program.stderr).to.deep.equal([line]);
      expect(program.stdout).to.deep.equal([]);
    });
  }

  it('exits 1 with one line when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const program = runProgram('examples/upper.ts', ['--port', String(port), '--host', '127.0.0.1']);
      expect(await program.exit).to.equal(1);
      expect(program.stderr).to.deep.equal([`upper: listen EADDRINUSE: address already in use 127.0.0.1:${port}`]);
    } finally {
      taken.close();
    }
  });

  it('prints its flags with --help and exits 0', async () => {
    const program = runProgram('examples/upper.ts', ['--help']);
    expect(await program.exit).to.equal(0);
    expect(program.stdout[0]).to.equal('usage: upper [flags]');
    for (const flag of ['--port', '--host', '--unix', '--udp', '--tls-cert', '--tls-key', '--idle-ms', '--max-connections', '--grace-ms', '--backlog']) {
      expect(program.stdout.join('\n')).to.include(flag);
    }
  });

  it('on SIGTERM stops accepting at once, lets the open connection finish, then exits 0', async () => {
    const server = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1']);
    const port = portOf(server.address);
    const socket = await dial({ port });
    const reply = readAll(socket);
    socket.write('before ');
    await eventually(() => server.stderr.some((l) => l.includes(' open ')), 5000, 'the connection to open');
    server.child.kill('SIGTERM');
    await eventually(() => server.stderr.some((l) => l.startsWith('SIGTERM')), 5000, 'the shutdown line');
    await dial({ port }).then(
      (s) => (s.destroy(), expect.fail('accepted a connection after SIGTERM')),
      (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ECONNREFUSED'),
    );
    socket.end('after');
    expect((await reply).toString()).to.equal('BEFORE AFTER');
    expect(await server.exit).to.equal(0);
  });

  it('takes a second SIGTERM (a launcher and a supervisor both passing one on) without dying mid-close', async () => {
    const server = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1']);
    const socket = await dial({ port: portOf(server.address) });
    const reply = readAll(socket);
    socket.write('before ');
    await eventually(() => server.stderr.some((l) => l.includes(' open ')), 5000, 'the connection to open');
    server.child.kill('SIGTERM');
    await eventually(() => server.stderr.some((l) => l.startsWith('SIGTERM')), 5000, 'the shutdown line');
    server.child.kill('SIGTERM');
    await delay(100);
    socket.end('after');
    expect((await reply).toString()).to.equal('BEFORE AFTER');
    expect(await server.exit).to.equal(0);
  });

  it('on SIGINT closes what is still open once --grace-ms has passed, then exits 0', async () => {
    const server = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1', '--grace-ms', '300']);
    const socket = await dial({ port: portOf(server.address) });
    socket.on('error', () => {});
    await eventually(() => server.stderr.some((l) => l.includes(' open ')), 5000, 'the connection to open');
    const started = Date.now();
    server.child.kill('SIGINT');
    expect(await server.exit).to.equal(0);
    expect(Date.now() - started).to.be.within(250, 3000);
    await closed(socket);
  });

  it('closes connections past --max-connections before any reply, sparing the open one', async () => {
    const server = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1', '--max-connections', '1']);
    try {
      const port = portOf(server.address);
      const first = await dial({ port });
      const firstReply = readAll(first);
      await eventually(() => server.stderr.some((l) => l.includes(' open ')), 5000, 'the first connection');
      const second = await dial({ port });
      second.on('error', () => {});
      const secondReply = readAll(second).catch(() => Buffer.alloc(0));
      second.write('hello?');
      await closed(second);
      expect((await secondReply).length).to.equal(0);
      first.end('first');
      expect((await firstReply).toString()).to.equal('FIRST');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('closes a connection idle for --idle-ms', async () => {
    const server = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1', '--idle-ms', '200']);
    try {
      const socket = await dial({ port: portOf(server.address) });
      const started = Date.now();
      await closed(socket);
      expect(Date.now() - started).to.be.within(150, 2000);
      await eventually(() => server.stderr.some((l) => / #\d+ idle for 200 ms, closing$/.test(l)), 5000, 'the idle log line');
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
