import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { concat, finalize, map, mergeMap, Observable, of, take, throwError, timer } from 'rxjs';
import { flowOf, Handler, serve } from 'rxwire';
import upper, { upperBytes } from '../../../../handlers/upper';
import { closed, delay, dial, eventually, hasIPv6, readAll, roundTrip, startServer } from '../../../support/net';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('serve', () => {
  it('reports the real address and port when asked for port 0', async () => {
    const server = await startServer(upper);
    try {
      expect(server.port).to.be.greaterThan(0);
      expect(server.address).to.equal(`127.0.0.1:${server.port}`);
    } finally {
      await server.close();
    }
  });

  it('streams 64 MB through while the client reads concurrently, byte for byte', async function () {
    this.timeout(60000);
    const server = await startServer(upper);
    try {
      const data = randomBytes(64 * 1024 * 1024);
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      // Written in 1 MB pieces as the socket drains, so neither side holds it all at once.
      for (let offset = 0; offset < data.length; offset += 1 << 20) {
        if (!socket.write(data.subarray(offset, offset + (1 << 20)))) await new Promise((r) => socket.once('drain', r));
      }
      socket.end();
      expect(sha(await reply)).to.equal(sha(upperBytes(data)));
    } finally {
      await server.close();
    }
  });

  it('flushes output that follows the client half-close, then ends', async () => {
    // Answers only after the input has ended, and slowly.
    const late: Handler = (input) => concat(input.pipe(map(upperBytes)), timer(100).pipe(map(() => Buffer.from(' bye'))));
    const server = await startServer(late);
    try {
      expect((await roundTrip({ port: server.port }, Buffer.from('hello'))).toString()).to.equal('HELLO bye');
    } finally {
      await server.close();
    }
  });

  it('ends the connection after flushing when the handler completes first', async () => {
    const server = await startServer((input) => input.pipe(take(1), map(upperBytes)));
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      socket.write('first');
      // The client never half-closes; the server ends anyway, and its FIN arrives after the data.
      expect((await reply).toString()).to.equal('FIRST');
      socket.destroy();
      await eventually(() => server.connections === 0, 5000, 'the connection to close');
    } finally {
      await server.close();
    }
  });

  it('serves 500 concurrent clients, each its own reply', async function () {
    this.timeout(60000);
    const server = await startServer(upper, { backlog: 511 });
    try {
      const replies = await Promise.all(
        Array.from({ length: 500 }, (_, i) => roundTrip({ port: server.port }, Buffer.from(`client ${i} says hi`))),
      );
      replies.forEach((reply, i) => expect(reply.toString()).to.equal(`CLIENT ${i} SAYS HI`));
    } finally {
      await server.close();
    }
  });

  it("ends only the connection whose handler errors; the others go on", async () => {
    const picky: Handler = (input) =>
      input.pipe(mergeMap((chunk) => (chunk.includes('boom') ? throwError(() => new Error('boom received')) : of(upperBytes(chunk)))));
    const server = await startServer(picky);
    try {
      const calm = await dial({ port: server.port });
      const calmReplies: Buffer[] = [];
      calm.on('data', (chunk: Buffer) => calmReplies.push(chunk));
      calm.write('one');
      await eventually(() => Buffer.concat(calmReplies).toString() === 'ONE', 5000, 'the calm reply');

      const failing = await dial({ port: server.port });
      failing.on('error', () => {});
      failing.write('boom');
      await closed(failing);
      await eventually(() => server.logs.some((l) => /^#\d+ handler error: boom received$/.test(l)), 5000, 'the error log line');

      calm.write('two');
      await eventually(() => Buffer.concat(calmReplies).toString() === 'ONETWO', 5000, 'the calm connection to go on');
      expect((await roundTrip({ port: server.port }, Buffer.from('new'))).toString()).to.equal('NEW');
      calm.destroy();
    } finally {
      await server.close();
    }
  });

  it('ends only its connection when a handler throws before returning', async () => {
    let calls = 0;
    const server = await startServer((input) => {
      if (++calls === 1) throw new Error('no pipeline for you');
      return input.pipe(map(upperBytes));
    });
    try {
      const first = await dial({ port: server.port });
      first.on('error', () => {});
      await closed(first);
      expect((await roundTrip({ port: server.port }, Buffer.from('ok'))).toString()).to.equal('OK');
      expect(server.logs.some((l) => l.endsWith('handler error: no pipeline for you'))).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it("gives the log the Error that ended a connection with its line, and a one-argument log only the line", async () => {
    const lines: [string, Error | undefined][] = [];
    const failing: Handler = (input) => input.pipe(map(() => { throw new RangeError('kaboom'); }));
    const server = await serve({ host: '127.0.0.1', port: 0, log: (line, error) => lines.push([line, error]) }, failing);
    const oneArgument: unknown[][] = [];
    const plain = await serve({ host: '127.0.0.1', port: 0, log: (...args: unknown[]) => oneArgument.push(args) }, upper);
    try {
      await roundTrip({ port: server.port }, Buffer.from('x')).catch(() => Buffer.alloc(0));
      await eventually(() => lines.some(([line]) => / closed /.test(line)), 5000, 'the close line');
      const failure = lines.find(([line]) => /handler error: kaboom$/.test(line));
      expect(failure?.[1]).to.be.instanceOf(RangeError).and.have.property('stack').that.includes('kaboom');
      expect(lines.filter(([line]) => !/handler error/.test(line)).every(([, error]) => error === undefined)).to.equal(true);
      await roundTrip({ port: plain.port }, Buffer.from('y'));
      await eventually(() => oneArgument.length >= 2, 5000, 'the open and close lines');
      expect(oneArgument.every((args) => args.length === 1)).to.equal(true);
    } finally {
      await Promise.all([server.close(), plain.close()]);
    }
  });

  it("refuses a module object for a handler at once, in one line naming its default export", async () => {
    const module = { default: upper } as unknown as Handler;
    await serve({ port: 0, log: false }, module).then(
      () => expect.fail('served a module object'),
      (err: Error) => expect(err.message).to.equal("serve: handler: expected a handler function, got a module object: pass its default export (require('…').default)"),
    );
    await serve({ port: 0, log: false }, 42 as unknown as Handler).then(
      () => expect.fail('served a number'),
      (err: Error) => expect(err.message).to.equal('serve: handler: expected a handler function, got number'),
    );
  });

  it('ends only its connection when a handler returns something other than an Observable', async () => {
    const server = await startServer((() => 'not an observable') as unknown as Handler);
    try {
      const socket = await dial({ port: server.port });
      socket.on('error', () => {});
      await closed(socket);
      await eventually(() => server.logs.some((l) => l.endsWith('handler error: the handler must return an Observable, got string')), 2000, 'the log line');
    } finally {
      await server.close();
    }
    // A Promise is the likeliest such value: its line says what to return instead.
    const promising = await startServer((() => Promise.resolve(of(Buffer.from('late')))) as unknown as Handler);
    try {
      const socket = await dial({ port: promising.port });
      socket.on('error', () => {});
      await closed(socket);
      const line = 'handler error: the handler must return an Observable, got a Promise: a handler returns an Observable, not a Promise (from(promise), or defer(async () => …))';
      await eventually(() => promising.logs.some((l) => l.endsWith(line)), 2000, 'the log line');
    } finally {
      await promising.close();
    }
    // An async function never returns an Observable: refused when the server starts.
    await serve({ port: 0, log: false }, (async () => of(Buffer.from('late'))) as unknown as Handler).then(
      () => expect.fail('served an async function'),
      (err: Error) =>
        expect(err.message).to.equal('serve: handler: expected a handler function, got an async function: a handler returns an Observable, not a Promise (from(promise), or defer(async () => …))'),
    );
    await serve({ port: 0, log: false }, async function* (input: unknown) { yield input; } as unknown as Handler).then(
      () => expect.fail('served an async generator function'),
      (err: Error) => expect(err.message).to.equal('serve: handler: expected a handler function, got an async generator function: serve it as fromAsyncGenerator(generator)'),
    );
  });

  it("ends only its connection when a pipeline's teardown throws, however the pipeline ends", async () => {
    // A teardown that throws (finalize) while the socket resets, while the handler fails, and
    // once the input ends: each is this connection's handler error, never the process's.
    const server = await startServer((input) =>
      input.pipe(
        finalize(() => {
          throw new Error('teardown threw');
        }),
        map((chunk) => {
          if (chunk.includes('fail')) throw new Error('handler failed');
          return upperBytes(chunk);
        }),
      ),
    );
    try {
      const reset = await dial({ port: server.port });
      reset.on('error', () => {});
      reset.write('hello');
      await eventually(() => server.connections === 1, 5000, 'the connection to open');
      reset.resetAndDestroy();

      const failing = await dial({ port: server.port });
      failing.on('error', () => {});
      failing.write('fail');
      await closed(failing);

      const ending = await dial({ port: server.port });
      const replies = readAll(ending);
      ending.end('last');
      expect((await replies).toString()).to.equal('LAST');

      await eventually(() => server.connections === 0, 5000, 'every connection to close');
      expect(server.logs.filter((l) => / handler error: (handler failed|teardown threw)$/.test(l)), server.logs.join('\n')).to.have.length(2);
      expect((await roundTrip({ port: server.port }, Buffer.from('still here'))).toString()).to.equal('STILL HERE');
    } finally {
      await server.close();
    }
  });

  it("calls a pipeline's close listener with no argument, as Flow.onClose promises", async () => {
    let given: unknown[] | undefined;
    const server = await startServer(
      (input) =>
        new Observable<Buffer>((subscriber) => {
          flowOf(subscriber, 'spec')!.onClose((...args: unknown[]) => (given = args));
          return input.subscribe(subscriber);
        }),
    );
    try {
      expect((await roundTrip({ port: server.port }, Buffer.from('echo'))).toString()).to.equal('echo');
      await eventually(() => given !== undefined, 5000, 'the close listener');
      expect(given).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });

  it('survives clients that reset their connections mid-stream', async () => {
    const server = await startServer(upper);
    try {
      for (let i = 0; i < 20; i++) {
        const socket = await dial({ port: server.port });
        socket.on('error', () => {});
        socket.write(randomBytes(256 * 1024));
        await delay(2);
        socket.resetAndDestroy();
      }
      await eventually(() => server.connections === 0, 5000, 'reset connections to close');
      expect((await roundTrip({ port: server.port }, Buffer.from('still here'))).toString()).to.equal('STILL HERE');
      expect(server.logs.filter((l) => l.includes('handler error'))).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });

  it('logs a line when each connection opens and closes, with bytes in and out', async () => {
    const server = await startServer(upper);
    try {
      await roundTrip({ port: server.port }, Buffer.from('12345'));
      await eventually(() => server.logs.length >= 2, 5000, 'two log lines');
      expect(server.logs[0]).to.match(/^#\d+ open 127\.0\.0\.1:\d+$/);
      expect(server.logs[1]).to.match(/^#\d+ closed 127\.0\.0\.1:\d+: 5 bytes in, 5 bytes out, \d+ ms$/);
    } finally {
      await server.close();
    }
  });

  it('closes connections past maxConnections at once, before any reply, and spares the open ones', async () => {
    const server = await startServer(upper, { maxConnections: 2 });
    try {
      const open = [await dial({ port: server.port }), await dial({ port: server.port })];
      await eventually(() => server.connections === 2, 5000, 'two connections');
      const extra = await dial({ port: server.port });
      extra.on('error', () => {});
      const extraReply = readAll(extra).catch(() => Buffer.alloc(0));
      extra.write('too many');
      await closed(extra);
      expect((await extraReply).length).to.equal(0);
      expect(server.logs.some((l) => /^refused 127\.0\.0\.1:\d+: 2 connections open$/.test(l))).to.equal(true);
      for (const [i, socket] of open.entries()) {
        const reply = readAll(socket);
        socket.end(`still ${i}`);
        expect((await reply).toString()).to.equal(`STILL ${i}`);
      }
    } finally {
      await server.close();
    }
  });

  it('closes a silent connection after idleMs and spares a chatty one', async () => {
    const server = await startServer(upper, { idleMs: 300 });
    try {
      const silent = await dial({ port: server.port });
      const chatty = await dial({ port: server.port });
      const chattyReply = readAll(chatty);
      const silentClosedAt = closed(silent).then(() => Date.now());
      const started = Date.now();
      for (let i = 0; i < 8; i++) {
        chatty.write('x');
        await delay(100);
      }
      const silentAt = await silentClosedAt;
      expect(silentAt - started).to.be.within(250, 800);
      expect(chatty.destroyed).to.equal(false);
      chatty.end();
      expect((await chattyReply).toString()).to.equal('XXXXXXXX');
      expect(server.logs.some((l) => /^#\d+ idle for 300 ms, closing$/.test(l))).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it('holds no timer per idle connection under idleMs: one timer for the server, which keeps no process alive', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const server = await startServer(upper, { idleMs: 60_000, log: false });
    const peers: Awaited<ReturnType<typeof dial>>[] = [];
    try {
      const before = timers();
      for (let i = 0; i < 50; i++) {
        const peer = await dial({ port: server.port });
        peers.push(peer);
        const reply = new Promise<Buffer>((resolve) => peer.once('data', resolve));
        peer.write('ping');
        expect((await reply).toString()).to.equal('PING');
      }
      expect(server.connections).to.equal(50);
      expect(timers() - before).to.equal(0);
    } finally {
      peers.forEach((peer) => peer.destroy());
      await server.close();
    }
  });

  it('serves IPv6 on ::1 where the machine has it', async function () {
    if (!(await hasIPv6())) this.skip();
    const server = await startServer(upper, { host: '::1' });
    try {
      expect(server.address).to.equal(`[::1]:${server.port}`);
      expect((await roundTrip({ host: '::1', port: server.port }, Buffer.from('six'))).toString()).to.equal('SIX');
    } finally {
      await server.close();
    }
  });

  it('listens on every interface, IPv4 and IPv6, when no host is given', async () => {
    const server = await serve({ port: 0, log: false }, upper);
    try {
      expect(server.address).to.match(/^(\[::\]|0\.0\.0\.0):\d+$/);
      expect((await roundTrip({ host: '127.0.0.1', port: server.port }, Buffer.from('four'))).toString()).to.equal('FOUR');
    } finally {
      await server.close();
    }
  });

  it('tells a handler on every interface the address the client connected to, not the wildcard', async () => {
    const whereTo: Handler = (input, info) => input.pipe(take(1), map(() => Buffer.from(info.local)));
    const ipv6 = await hasIPv6();
    // No host (`::`, every address), IPv4's wildcard, and IPv4's as an IPv4-mapped IPv6 address.
    for (const wildcard of [undefined, '0.0.0.0', ...(ipv6 ? ['::ffff:0.0.0.0'] : [])]) {
      const server = await serve({ host: wildcard, port: 0, log: false }, whereTo);
      try {
        // Back and forth: the text of the address the connection before arrived at is reused.
        const hosts = ipv6 && wildcard === undefined ? ['127.0.0.1', '127.0.0.1', '::1', '127.0.0.1'] : ['127.0.0.1', '127.0.0.1'];
        for (const host of hosts) {
          const local = (await roundTrip({ host, port: server.port }, Buffer.from('where?'))).toString();
          expect(local, `bound to ${wildcard ?? 'no host'}`).to.equal(host.includes(':') ? `[${host}]:${server.port}` : `${host}:${server.port}`);
        }
      } finally {
        await server.close();
      }
    }
  });

  describe('on a Unix domain socket', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'rxwire-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('serves a round trip', async () => {
      const socketPath = path.join(dir, 'upper.sock');
      const server = await startServer(upper, { host: undefined, port: undefined, path: socketPath });
      try {
        expect(server.address).to.equal(`unix:${socketPath}`);
        expect((await roundTrip({ path: socketPath }, Buffer.from('unix'))).toString()).to.equal('UNIX');
      } finally {
        await server.close();
      }
    });

    it('names a peer refused past maxConnections by the socket path, as its connection would be', async () => {
      const socketPath = path.join(dir, 'full.sock');
      const server = await startServer(upper, { host: undefined, port: undefined, path: socketPath, maxConnections: 1 });
      try {
        const open = await dial({ path: socketPath });
        await eventually(() => server.connections === 1, 5000, 'one connection');
        const extra = await dial({ path: socketPath });
        extra.on('error', () => {});
        await closed(extra);
        await eventually(() => server.logs.some((l) => l.startsWith('refused ')), 5000, 'the refusal line');
        expect(server.logs.filter((l) => l.startsWith('refused '))).to.deep.equal([`refused unix:${socketPath}: 1 connections open`]);
        open.destroy();
      } finally {
        await server.close();
      }
    });

    it('replaces a stale socket file left by a dead server', async () => {
      const socketPath = path.join(dir, 'stale.sock');
      // A server killed outright leaves its socket file behind.
      const dead = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`]);
      await new Promise((resolve) => dead.stdout.once('data', resolve));
      dead.kill('SIGKILL');
      await new Promise((resolve) => dead.once('exit', resolve));
      expect(existsSync(socketPath)).to.equal(true);
      const server = await startServer(upper, { host: undefined, port: undefined, path: socketPath });
      try {
        expect((await roundTrip({ path: socketPath }, Buffer.from('fresh'))).toString()).to.equal('FRESH');
      } finally {
        await server.close();
      }
    });

    it('refuses a path a live server is listening on, and a file that is not a socket', async () => {
      const socketPath = path.join(dir, 'live.sock');
      const live = await startServer(upper, { host: undefined, port: undefined, path: socketPath });
      try {
        await serve({ path: socketPath, log: false }, upper).then(
          () => expect.fail('a second server listened on a live socket'),
          (err: Error) => expect(err.message).to.equal(`listen EADDRINUSE: a server is already listening on ${socketPath}`),
        );
        expect((await roundTrip({ path: socketPath }, Buffer.from('alive'))).toString()).to.equal('ALIVE');
      } finally {
        await live.close();
      }
      const filePath = path.join(dir, 'plain-file');
      writeFileSync(filePath, 'not a socket');
      await serve({ path: filePath, log: false }, upper).then(
        () => expect.fail('listened over a regular file'),
        (err: Error) => expect(err.message).to.equal(`listen EADDRINUSE: ${filePath} exists and is not a socket`),
      );
    });
  });

  describe('close', () => {
    it('stops accepting at once, lets open connections finish, and resolves when they have', async () => {
      const server = await startServer(upper);
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      socket.write('before ');
      const closing = server.close(5000);
      await dial({ port: server.port }).then(
        (s) => (s.destroy(), expect.fail('a new connection was accepted while closing')),
        (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ECONNREFUSED'),
      );
      socket.end('after');
      expect((await reply).toString()).to.equal('BEFORE AFTER');
      await closing;
    });

    it('destroys connections still open when the grace period ends', async () => {
      const server = await startServer(upper);
      const socket = await dial({ port: server.port });
      socket.on('error', () => {});
      const started = Date.now();
      await server.close(200);
      expect(Date.now() - started).to.be.within(150, 2000);
      await closed(socket);
    });
  });

  it('refuses options that make no sense, in one line', async () => {
    await serve({ port: 70000 }, upper).then(
      () => expect.fail('listened on port 70000'),
      (err: Error) => expect(err.message).to.equal('serve: port: expected a whole number from 0 to 65535, got 70000'),
    );
    await serve({ port: 0, path: '/tmp/x.sock' }, upper).then(
      () => expect.fail('accepted both port and path'),
      (err: Error) => expect(err.message).to.equal('serve: path cannot be combined with host or port'),
    );
  });

  it('does not read from a connection before its handler subscribes', async () => {
    // A handler that subscribes to its input only after 200 ms still gets every byte.
    const late: Handler = (input) => new Observable<Buffer>((subscriber) => {
      const t = setTimeout(() => input.pipe(map(upperBytes)).subscribe(subscriber), 200);
      return () => clearTimeout(t);
    });
    const server = await startServer(late);
    try {
      expect((await roundTrip({ port: server.port }, Buffer.from('early'), Buffer.from(' bytes'))).toString()).to.equal('EARLY BYTES');
    } finally {
      await server.close();
    }
  });
});
