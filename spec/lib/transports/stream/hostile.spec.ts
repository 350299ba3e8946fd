import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { from, map, mergeMap, Observable, of, pipe, take, tap, throwError } from 'rxjs';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { encodeJson, encodeLines, Handler, json, lengthPrefixed, lines, serve } from 'rxwire';
import upper, { upperBytes } from '../../../../handlers/upper';
import { escapeLine } from '../../../../lib/transports/hosting';
import { collected } from '../../../support/memory';
import { closed, delay, dial, eventually, isAlive, listening, portOf, readAll, root, runCommand, selfSignedCert, startServer, transpileFlags } from '../../../support/net';

// What a hostile or unlucky peer tries, over real loopback sockets: every connection must end in
// bounded time, the process must survive its handlers, and one peer must not take others' places.
describe('serve against hostile and unlucky peers', function () {
  this.timeout(20000);

  it('closes a connection the server has ended, even when the peer sends one more byte and never closes', async () => {
    const server = await startServer(pipe(take(1), map(upperBytes)), { lingerMs: 300 });
    try {
      const peers = await Promise.all(Array.from({ length: 5 }, () => dial({ port: server.port })));
      for (const peer of peers) peer.write('a');
      await delay(100);
      for (const peer of peers) peer.write('b'); // after the server's FIN; the peer then stays open
      await eventually(() => server.connections === 0, 3000, 'every connection to close');
      peers.forEach((peer) => peer.destroy());
    } finally {
      await server.close();
    }
  });

  it('does not let peers lingering after their end lock others out of maxConnections', async () => {
    const server = await startServer(pipe(take(1), map(upperBytes)), { lingerMs: 300, maxConnections: 3 });
    try {
      const peers = await Promise.all(Array.from({ length: 3 }, () => dial({ port: server.port })));
      for (const peer of peers) peer.write('x');
      await delay(800);
      const client = await dial({ port: server.port });
      const reply = readAll(client);
      client.end('hi');
      expect((await reply).toString()).to.equal('HI');
      peers.forEach((peer) => peer.destroy());
    } finally {
      await server.close();
    }
  });

  it('closes peers that write and never read once idle: flush with a deadline, then destroy', async () => {
    const server = await startServer(upper, { idleMs: 300, lingerMs: 300 });
    try {
      const peers = await Promise.all(Array.from({ length: 5 }, () => dial({ port: server.port })));
      for (const peer of peers) {
        peer.pause();
        peer.write(Buffer.alloc(8 << 20, 'a'));
      }
      await eventually(() => server.connections === 0, 5000, 'the non-reading peers to be closed');
      expect(server.logs.filter((line) => line.endsWith('idle for 300 ms, closing'))).to.have.length(5);
      peers.forEach((peer) => peer.destroy());
    } finally {
      await server.close();
    }
  });

  describe('over TLS', () => {
    it('destroys peers that open a connection and never handshake, and keeps serving real clients', async () => {
      const { cert, key } = selfSignedCert();
      const server = await startServer(upper, { tls: { cert, key }, handshakeTimeoutMs: 300, maxConnections: 2 });
      try {
        const silent = await Promise.all(Array.from({ length: 5 }, () => dial({ port: server.port })));
        const { connect } = await import('node:tls');
        const client = connect({ port: server.port, host: '127.0.0.1', ca: cert, servername: 'localhost' });
        const reply = readAll(client);
        client.end('over tls');
        expect((await reply).toString()).to.equal('OVER TLS');
        await Promise.all(silent.map(closed));
        await eventually(() => server.logs.filter((line) => /tls handshake with .* failed/.test(line)).length >= 5, 2000, 'one line per failed handshake');
      } finally {
        await server.close();
      }
    });

    it('closes at once on close(), handshakes in progress included', async () => {
      const { cert, key } = selfSignedCert();
      const server = await startServer(upper, { tls: { cert, key } });
      const silent = await dial({ port: server.port });
      await delay(50);
      const started = Date.now();
      await server.close(5000);
      expect(Date.now() - started).to.be.lessThan(1000);
      await closed(silent);
    });
  });

  it('writes the replies to the good frames before a bad one, then ends the connection', async () => {
    const server = await startServer(pipe(lines({ maxLength: 10 }), map(upperBytes), encodeLines()));
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      socket.write(`ab\ncd\n${'x'.repeat(40)}\n`);
      expect((await reply).toString()).to.equal('AB\nCD\n');
      await eventually(() => server.logs.some((line) => /protocol error: frame of .*exceeds the 10-byte limit/.test(line)));
      socket.destroy();
    } finally {
      await server.close();
    }
  });

  describe('a handler that emits something other than a Buffer', () => {
    const faulty: [string, unknown[], string][] = [
      ['strings, two in one read', ['a', 'b'], 'handler error: emitted string, expected Buffer'],
      ['a number', [42], 'handler error: emitted number, expected Buffer'],
      ['null', [null], 'handler error: emitted null, expected Buffer'],
    ];
    for (const [what, values, line] of faulty) {
      it(`ends only its own connection for ${what}; a bystander goes on`, async () => {
        const handler: Handler = (input) => input.pipe(mergeMap((chunk) => (chunk.toString() === 'fault' ? (from(values) as Observable<Buffer>) : of(chunk))));
        const server = await startServer(handler);
        try {
          const bystander = await dial({ port: server.port });
          const faultyPeer = await dial({ port: server.port });
          const echoed = new Promise<string>((resolve) => bystander.once('data', (chunk) => resolve(chunk.toString())));
          faultyPeer.write('fault');
          await closed(faultyPeer);
          await eventually(() => server.logs.some((l) => l.endsWith(line)), 2000, line);
          bystander.write('still here');
          expect(await echoed).to.equal('still here');
          bystander.destroy();
        } finally {
          await server.close();
        }
      });
    }
  });

  it('answers a 5,000-deep JSON array with an error line, not a stack overflow', async () => {
    const echoJson = pipe(
      lines({ maxLength: 1 << 20 }),
      json(t.unknown),
      map(E.match((err): unknown => ({ error: err.message }), (value) => value)),
      encodeJson(),
      encodeLines(),
    );
    const server = await startServer(echoJson);
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      socket.end(`${'['.repeat(5000)}${']'.repeat(5000)}\n[[1]]\n`);
      expect((await reply).toString()).to.equal('{"error":"nested deeper than 64 levels"}\n[[1]]\n');
    } finally {
      await server.close();
    }
  });

  it('escapes peer bytes in log lines: one event, one line, no terminal escapes', async () => {
    const server = await startServer((input) => input.pipe(mergeMap((chunk) => throwError(() => new Error(`bad input ${chunk.toString()}`)))));
    try {
      const socket = await dial({ port: server.port });
      socket.write('\u001b[2J\r\nforged line \u2028');
      await eventually(() => server.logs.some((line) => line.includes('bad input')));
      const line = server.logs.find((l) => l.includes('bad input'))!;
      expect(line).to.equal(`${line.slice(0, line.indexOf('handler error'))}handler error: bad input \\x1b[2J\\x0d\\x0aforged line \\u2028`);
      socket.destroy();
    } finally {
      await server.close();
    }
    expect(escapeLine('plain')).to.equal('plain');
  });

  it('summarises a storm of refused connections instead of a line each', async () => {
    const server = await startServer(upper, { maxConnections: 1 });
    try {
      const holder = await dial({ port: server.port });
      await eventually(() => server.connections === 1);
      const refused = await Promise.all(Array.from({ length: 30 }, () => dial({ port: server.port }).catch(() => undefined)));
      await delay(1300);
      const lines = server.logs.filter((line) => line.startsWith('refused'));
      expect(lines.length).to.be.within(2, 5);
      expect(lines.some((line) => /^refused \d+ more connection\(s\) in the last 1 s$/.test(line))).to.equal(true);
      refused.forEach((socket) => socket?.destroy());
      holder.destroy();
    } finally {
      await server.close();
    }
  });

  it('logs the connections cut at the grace deadline', async () => {
    const server = await startServer(upper);
    const socket = await dial({ port: server.port });
    await eventually(() => server.connections === 1);
    await server.close(100);
    expect(server.logs).to.include('grace period of 100 ms over: cutting 1 connection(s)');
    await closed(socket);
  });

  it('limits connections from one address with maxConnectionsPerAddress', async () => {
    const server = await startServer(upper, { maxConnectionsPerAddress: 2 });
    try {
      const allowed = await Promise.all([dial({ port: server.port }), dial({ port: server.port })]);
      await eventually(() => server.connections === 2);
      const third = await dial({ port: server.port });
      await closed(third);
      expect(server.logs.some((line) => /^refused 127\.0\.0\.1:\d+: 2 connections open from 127\.0\.0\.1$/.test(line))).to.equal(true);
      allowed.forEach((socket) => socket.destroy());
    } finally {
      await server.close();
    }
  });

  it('holds a line trickled one byte per read in a small multiple of its size, not a Buffer per read', async () => {
    const WARM_UP = 2000;
    const BYTES = 20_000;
    // Each byte is sent once the server has read the one before: one read per byte.
    let onRead: (() => void) | undefined;
    const server = await startServer(pipe(tap(() => onRead?.()), lines({ maxLength: 2 * (WARM_UP + BYTES) }), encodeLines()));
    try {
      const socket = await dial({ port: server.port });
      socket.setNoDelay(true);
      const trickle = async (bytes: number) => {
        for (let i = 0; i < bytes; i++) await new Promise<void>((read) => ((onRead = read), socket.write('a')));
      };
      // The first bytes compile the code they run: measured after them.
      await trickle(WARM_UP);
      const before = await collected();
      await trickle(BYTES);
      const held = (await collected()) - before;
      const answer = readAll(socket);
      socket.end('\n');
      expect((await answer).length).to.equal(WARM_UP + BYTES + 1);
      // Before decoders copied small reads: ~190 bytes per byte; the test process's own noise is ~10.
      expect(held).to.be.below(32 * BYTES, `${held} bytes held for ${BYTES} bytes of a line`);
    } finally {
      await server.close();
    }
  });

  it('ends a frame trickled past frameTimeoutMs, as a protocol error', async () => {
    const server = await startServer(pipe(lines({ frameTimeoutMs: 300 }), encodeLines()));
    try {
      const socket = await dial({ port: server.port });
      const ended = closed(socket);
      for (let i = 0; i < 10 && !socket.destroyed && !socket.readableEnded; i++) {
        socket.write('z');
        await delay(60);
      }
      await eventually(() => server.logs.some((line) => line.endsWith('protocol error: frame not complete within 300 ms')), 3000);
      socket.destroy();
      await ended;
    } finally {
      await server.close();
    }
  });

  it('ends connections whose frames would pass the server-wide maxBufferedBytes, sparing the others', async () => {
    const server = await startServer(pipe(lengthPrefixed({ headerBytes: 4 }), encodeLines()), { maxBufferedBytes: 1 << 20 });
    try {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(4 << 20);
      const hogs = await Promise.all(Array.from({ length: 4 }, () => dial({ port: server.port })));
      for (const hog of hogs) hog.write(Buffer.concat([header, Buffer.alloc(600 << 10, 'h')]));
      await eventually(() => server.logs.some((line) => line.includes('maxBufferedBytes')), 5000, 'a connection refused by the budget');
      const bystander = await dial({ port: server.port });
      const reply = readAll(bystander);
      const small = Buffer.alloc(4);
      small.writeUInt32BE(2);
      bystander.end(Buffer.concat([small, Buffer.from('ok')]));
      hogs.forEach((hog) => hog.destroy());
      await delay(100);
      expect((await reply).toString()).to.equal('ok\n');
    } finally {
      await server.close();
    }
  });

  it('counts pending output against maxBufferedBytes: a peer that never reads cannot make the server queue without bound', async () => {
    // Each read is answered with 256 KiB and there is no backpressure(): without the budget, the
    // server would queue all of it for a peer that never reads.
    const amplify = Buffer.alloc(256 << 10, 'a');
    const server = await startServer(mergeMap(() => of(amplify)), { maxBufferedBytes: 2 << 20 });
    try {
      const hog = await dial({ port: server.port });
      hog.pause();
      const exceeded = () => server.logs.some((line) => line.includes('maxBufferedBytes'));
      for (let i = 0; i < 400 && !exceeded(); i++) {
        hog.write('x');
        await delay(5);
      }
      await eventually(exceeded, 5000, 'the hog refused by the budget');
      const bystander = await dial({ port: server.port });
      const reply = readAll(bystander);
      bystander.end('b');
      expect((await reply).length).to.equal(amplify.length);
      hog.destroy();
    } finally {
      await server.close();
    }
  });

  it("refuses and logs connections past the process's descriptor limit, instead of libuv dropping them unsaid", async function () {
    this.timeout(40000);
    // 128 open files: the server holds at most 64 sockets, keeping the rest for everything else.
    const program = await listening(
      runCommand('prlimit', ['--nofile=128:128', process.execPath, ...transpileFlags, path.join(root, 'examples/upper.ts'), '--port', '0', '--host', '127.0.0.1']),
    );
    const peers: net.Socket[] = [];
    try {
      const port = portOf(program.address);
      const bystander = await dial({ port });
      const reply = readAll(bystander);
      for (let i = 0; i < 150; i++) {
        const peer = net.connect({ port, host: '127.0.0.1' });
        peer.on('error', () => {});
        peers.push(peer);
      }
      await eventually(() => program.stderr.some((line) => /Z refused 127\.0\.0\.1:\d+: near the process's limit of 128 open files$/.test(line)), 10000, 'a refusal');
      await eventually(() => program.stderr.some((line) => /Z refused \d+ more connection\(s\) in the last 1 s$/.test(line)), 10000, 'the summary');
      bystander.end('still served');
      expect((await reply).toString()).to.equal('STILL SERVED');
    } finally {
      peers.forEach((peer) => peer.destroy());
      program.child.kill('SIGTERM');
      expect(await program.exit).to.equal(0);
    }
  });

  describe('on a Unix socket', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'rxwire-hostile-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('treats a busy server (full backlog) as alive: refuses to take over its socket file', async () => {
      const socketPath = path.join(dir, 'busy.sock');
      // A live server that never accepts, with its backlog filled: connecting gets EAGAIN, not ECONNREFUSED.
      const busy = spawn('python3', ['-c', `import socket,time\ns=socket.socket(socket.AF_UNIX)\ns.bind(${JSON.stringify(socketPath)})\ns.listen(0)\nprint('up',flush=True)\ntime.sleep(30)`], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise((resolve) => busy.stdout!.once('data', resolve));
        const fillers: net.Socket[] = [];
        for (let i = 0; i < 3; i++) {
          const filler = net.connect({ path: socketPath });
          filler.on('error', () => {});
          fillers.push(filler);
        }
        await delay(100);
        const error = await serve({ path: socketPath, log: false }, upper).then(
          (server) => (server.close(), undefined),
          (err: Error) => err,
        );
        expect(error?.message).to.equal(`listen EADDRINUSE: a server is already listening on ${socketPath}`);
        expect(existsSync(socketPath)).to.equal(true);
        fillers.forEach((filler) => filler.destroy());
      } finally {
        busy.kill('SIGKILL');
      }
    });
  });

  /** Runs examples/upper.ts under a shell (as npx runs it), kills the shell on `listening on`, and expects the orphan to exit. */
  async function orphanExits(preload: string[]): Promise<void> {
    // A launcher like npx: a shell that runs the server as its child, killed with SIGKILL.
    const node = [process.execPath, ...transpileFlags, ...preload].join(' ');
    const launcher = spawn('bash', ['-c', `${node} examples/upper.ts --port 0 --host 127.0.0.1; true`], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise((resolve) => launcher.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening on') && resolve(undefined)));
    const serverPid = Number(readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'utf8').trim());
    launcher.kill('SIGKILL');
    try {
      await eventually(() => !isAlive(serverPid), 10000, 'the orphaned server to exit');
    } finally {
      // A failure must not leave the orphan behind, listening, for the rest of the machine's life.
      if (serverPid > 0 && isAlive(serverPid)) process.kill(serverPid, 'SIGKILL');
    }
  }

  it('stops when the launcher that started it dies without passing a signal on', async function () {
    this.timeout(40000);
    await orphanExits([]);
  });

  it('stops too when the launcher dies before the lines after `listening on` have run (a server preempted there)', async function () {
    this.timeout(40000);
    await orphanExits(['-r', path.join(root, 'spec/support/stallAfterListening.js')]);
  });

  it('stops accepting when the npx launcher alone gets SIGTERM, as a supervisor sends it', async function () {
    this.timeout(40000);
    const npx = await listening(runCommand('npx', ['ts-node', 'examples/upper.ts', '--port', '0', '--host', '127.0.0.1']));
    const port = portOf(npx.address);
    try {
      process.kill(npx.child.pid!, 'SIGTERM'); // npx only, not its process group
      await eventually(() => npx.child.exitCode !== null || npx.child.signalCode !== null, 10000, 'npx to exit');
      const refused = async () => dial({ port }).then((socket) => (socket.destroy(), false), () => true);
      const deadline = Date.now() + 10000;
      while (!(await refused())) {
        if (Date.now() > deadline) expect.fail('the server went on accepting after its launcher was stopped');
        await delay(100);
      }
    } finally {
      process.kill(-npx.child.pid!, 'SIGKILL');
    }
  });
});
