import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { closed, delay, dial, eventually, portOf, readAll, roundTrip, runProgram, startProgram } from '../support/net';

// examples/upper.ts is runServer (lib/main.ts) with the upper handler: these are its behaviours
// as a user at a terminal sees them.
describe('examples/upper.ts', function () {
  this.timeout(30000);

  it('prints exactly one line, listening on the real address, and serves on it', async () => {
    const server = await startProgram('examples/upper.ts', ['--port', '0', '--host', '127.0.0.1']);
    try {
      expect(server.address).to.match(/^127\.0\.0\.1:\d+$/);
      expect(portOf(server.address)).to.be.greaterThan(0);
      expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('Hello Huangpingyi'))).toString()).to.equal('HELLO HUANGPINGYI');
      await eventually(() => server.stderr.some((l) => / closed /.test(l)), 5000, 'the close log line');
      expect(server.stdout).to.deep.equal([`listening on ${server.address}`]);
      const [open, close] = server.stderr.filter((l) => l.startsWith('#'));
      expect(open).to.match(/^#1 open 127\.0\.0\.1:\d+$/);
      expect(close).to.match(/^#1 closed 127\.0\.0\.1:\d+: 17 bytes in, 17 bytes out, \d+ ms$/);
    } finally {
      server.child.kill('SIGKILL');
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

  for (const [args, line] of [
    [['--nope'], 'upper: unknown flag --nope (see --help)'],
    [['--port', '-1'], 'upper: --port: expected a whole number from 0 to 65535, got "-1"'],
    [['--port', '70000'], 'upper: --port: expected a whole number from 0 to 65535, got "70000"'],
    [['--port', 'abc'], 'upper: --port: expected a whole number from 0 to 65535, got "abc"'],
    [['--idle-ms', '-5'], 'upper: --idle-ms: expected a whole number ≥ 1, got "-5"'],
    [['--max-connections', '0'], 'upper: --max-connections: expected a whole number ≥ 1, got "0"'],
    [['--unix', '/tmp/x.sock', '--port', '1'], 'upper: --unix: cannot be combined with --port or --host'],
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
    for (const flag of ['--port', '--host', '--unix', '--idle-ms', '--max-connections', '--grace-ms', '--backlog']) {
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
      await delay(50);
      expect(server.stderr.some((l) => /^#\d+ idle for 200 ms, closing$/.test(l))).to.equal(true);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
