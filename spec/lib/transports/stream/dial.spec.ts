import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as ts from 'typescript';
import { lastValueFrom, map, NEVER, pipe } from 'rxjs';
import { dial, encodeLines, Handler, InvalidOption, lines, ReplyTimeout, WriteTimeout } from 'rxwire';
import { closedPort, collectBytes, delay, eventually, root, runCommand, startServer, steady, transpileFlags } from '../../../support/net';

/** The README's line server: each line answered in capitals. */
const shout: Handler = pipe(lines(), map((line) => line.toString().toUpperCase()), encodeLines());

/** Everything `for await` gives until the server ends. */
async function readToEnd(conn: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

/**
 * A README ```ts block as a CommonJS program, the way a user's build would compile it (TypeScript,
 * `await using` brought down to ES2022): its imports at the top, the rest in an async function,
 * since CommonJS has no top-level await.
 */
function readmeProgram(snippet: string): string {
  const imports = snippet.split('\n').filter((line) => line.startsWith('import '));
  const body = snippet.split('\n').filter((line) => !line.startsWith('import '));
  const source = [...imports, '(async () => {', ...body, '})().catch((err) => { console.error(err); process.exit(1); });'].join('\n');
  return ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true } }).outputText;
}

describe('dial', () => {
  it("runs the README's client example against the line server it starts: for await, requester, await using", async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const snippet = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((code) => code.includes('await dial('));
    expect(snippet, 'a ts block with await dial( in README.md').to.be.a('string');
    // Inside the project, so that it finds rxjs (and rxwire, as the source) as a user's program would.
    mkdirSync(path.join(root, 'node_modules', '.cache'), { recursive: true });
    const dir = mkdtempSync(path.join(root, 'node_modules', '.cache', 'rxwire-readme-'));
    try {
      const file = path.join(dir, 'client.js');
      writeFileSync(file, readmeProgram(snippet!));
      const program = runCommand(process.execPath, [...transpileFlags, file]);
      expect(await program.exit, program.stderr.join('\n')).to.equal(0);
      expect(program.stdout).to.deep.equal(['HELLO', 'WORLD', 'PING PONG']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loses no write made before anything reads the replies, and gives them to for await', async () => {
    const server = await startServer(shout);
    try {
      await using conn = await dial({ port: server.port });
      void conn.write('one\n');
      void conn.write('two\n');
      await delay(100); // the replies wait, reading paused, until the loop below asks for them
      await conn.end();
      expect(await readToEnd(conn)).to.equal('ONE\nTWO\n');
    } finally {
      await server.close();
    }
  });

  it('gives the replies as an Observable too', async () => {
    const server = await startServer(shout);
    try {
      const conn = await dial({ port: server.port });
      await conn.write('three\n');
      await conn.end();
      expect((await lastValueFrom(conn.replies.pipe(collectBytes))).toString()).to.equal('THREE\n');
      await conn.closed;
    } finally {
      await server.close();
    }
  });

  it('answers pipelined requests in order with requester(lines()), each its own reply', async () => {
    const server = await startServer(shout);
    try {
      await using conn = await dial({ port: server.port, replyTimeoutMs: 5000 });
      const request = conn.requester(lines());
      const replies = await Promise.all(['a', 'b', 'c'].map((line) => request(`${line}\n`)));
      expect(replies.map(String)).to.deep.equal(['A', 'B', 'C']);
      expect((await request('again\n')).toString()).to.equal('AGAIN');
    } finally {
      await server.close();
    }
  });

  it('fails a request with ReplyTimeout when no reply comes within replyTimeoutMs, and closes the connection', async () => {
    const server = await startServer(() => NEVER);
    try {
      const conn = await dial({ port: server.port, replyTimeoutMs: 200 });
      const request = conn.requester(lines());
      const started = Date.now();
      const failure = await request('hello?\n').then(() => undefined, (err: unknown) => err);
      expect(failure).to.be.instanceOf(ReplyTimeout);
      expect((failure as Error).message).to.equal(`no reply from ${conn.info.remote} within 200 ms`);
      expect(Date.now() - started).to.be.within(150, 2000);
      await conn.closed;
      expect(await request('more?\n').then(() => undefined, (err: unknown) => err)).to.equal(failure);
    } finally {
      await server.close(0); // the handler never ends: no grace to wait for
    }
  });

  it('fails a step of for await with ReplyTimeout when the server says nothing for replyTimeoutMs', async () => {
    const server = await startServer(() => NEVER);
    try {
      const conn = await dial({ port: server.port, replyTimeoutMs: 200 });
      await readToEnd(conn).then(
        () => expect.fail('the loop ended without a reply'),
        (err: unknown) => expect(err).to.be.instanceOf(ReplyTimeout),
      );
      await conn.closed;
    } finally {
      await server.close(0); // the handler never ends: no grace to wait for
    }
  });

  describe('against a server that accepts and never reads', () => {
    let server: net.Server;
    let port: number;
    const accepted: net.Socket[] = [];
    beforeEach(async () => {
      server = net.createServer({ pauseOnConnect: true }, (socket) => accepted.push(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    afterEach(async () => {
      accepted.splice(0).forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    });

    it('fails the write that waits past writeTimeoutMs with WriteTimeout, and closes the connection', async () => {
      const conn = await dial({ host: '127.0.0.1', port, writeTimeoutMs: 300 });
      const chunk = Buffer.alloc(1 << 20, 'x');
      let failure: unknown;
      let stalledAt = 0;
      // The kernel's buffers take a few MiB; then a write waits, and its deadline runs.
      for (let written = 0; failure === undefined && written < 512; written++) {
        stalledAt = Date.now();
        failure = await conn.write(chunk).then(() => undefined, (err: unknown) => err);
      }
      expect(failure).to.be.instanceOf(WriteTimeout);
      expect((failure as WriteTimeout).code).to.equal('ERR_WRITE_TIMEOUT');
      expect((failure as Error).message).to.match(new RegExp(`^${conn.info.remote.replace(/[.[\]]/g, '\\$&')} read none of \\d+ pending bytes within 300 ms$`));
      expect(Date.now() - stalledAt).to.be.within(250, 3000);
      await conn.closed;
      expect(await conn.write('more').then(() => undefined, (err: unknown) => err)).to.equal(failure);
    });

    it("fails end() with WriteTimeout when what was written is not flushed within writeTimeoutMs", async () => {
      const conn = await dial({ host: '127.0.0.1', port, writeTimeoutMs: 300 });
      const chunk = Buffer.alloc(1 << 20, 'x');
      // More than loopback's buffers hold: some of it is still ours to send when end() is called.
      for (let i = 0; i < 64; i++) void conn.write(chunk).catch(() => {});
      const started = Date.now();
      const failure = await conn.end().then(() => undefined, (err: unknown) => err);
      expect(failure).to.be.instanceOf(WriteTimeout);
      expect(Date.now() - started).to.be.within(250, 3000);
      await conn.closed;
    });
  });

  it('rejects a request when the server closes before replying', async () => {
    const server = await startServer(() => NEVER, { idleMs: 100 });
    try {
      await using conn = await dial({ port: server.port });
      const reply = await conn.requester(lines())('anyone?\n').then(() => undefined, (err: Error) => err.message);
      expect(reply).to.equal(`connection #${conn.info.id}: the server closed the connection before replying`);
    } finally {
      await server.close(0); // the handler never ends: no grace to wait for
    }
  });

  it('rejects with the signal\'s reason when aborted while connecting, and closes an open connection gracefully when aborted later', async () => {
    // Takes TCP connections and never finishes a TLS handshake.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const server = await startServer(shout);
    try {
      const connecting = dial({ port: silentPort, tls: {} }, { signal: AbortSignal.timeout(150) });
      expect(await connecting.then(() => undefined, (err: Error) => err.name)).to.equal('TimeoutError');
      const controller = new AbortController();
      const conn = await dial({ port: server.port }, { signal: controller.signal });
      controller.abort();
      await conn.closed;
      expect(await conn.write('late\n').then(() => undefined, (err: unknown) => err)).to.equal(controller.signal.reason);
      const aborted = new AbortController();
      aborted.abort();
      expect(await dial({ port: server.port }, { signal: aborted.signal }).then(() => undefined, (err: Error) => err.name)).to.equal('AbortError');
    } finally {
      silent.close();
      await server.close();
    }
  });

  it('rejects when the connection cannot be made: refused, or not within timeoutMs', async () => {
    const port = await closedPort();
    expect(await dial({ port }).then(() => undefined, (err: Error) => err.message)).to.equal(`connect ECONNREFUSED 127.0.0.1:${port}`);
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      expect(await dial({ port: silentPort, tls: {}, timeoutMs: 200 }).then(() => undefined, (err: Error) => err.message)).to.equal(`connect ETIMEDOUT 127.0.0.1:${silentPort}`);
    } finally {
      silent.close();
    }
  });

  it('holds reads while for await does not take the replies: a fast server is paced to the loop', async function () {
    this.timeout(20000);
    const total = 32 * 1024 * 1024;
    let written = 0;
    // A server that writes as fast as its socket takes the bytes.
    const flood = net.createServer((socket) => {
      const block = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < total) {
          written += block.length;
          if (!socket.write(block)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => flood.listen(0, '127.0.0.1', resolve));
    try {
      await using conn = await dial({ port: (flood.address() as net.AddressInfo).port, highWaterMark: 64 * 1024 });
      const iterator = conn[Symbol.asyncIterator]();
      let read = (await iterator.next()).value!.length;
      // The loop is busy: the server must be held back, its writes standing still for 200 ms.
      const heldAt = await steady(() => written, 200);
      expect(heldAt).to.be.below(total / 2);
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) read += step.value.length;
      expect(read).to.equal(total);
    } finally {
      flood.close();
    }
  });

  it('refuses bad options in one line', async () => {
    await dial({ port: 1, replyTimeoutMs: -1 }).then(
      () => expect.fail('dialled'),
      (err: Error) => {
        expect(err).to.be.instanceOf(InvalidOption);
        expect(err.message).to.equal('dial: replyTimeoutMs: expected a whole number ≥ 0, got -1');
      },
    );
    await dial({ port: 1 }, { signal: 'soon' as never }).then(
      () => expect.fail('dialled'),
      (err: Error) => expect(err.message).to.equal('dial: signal: expected an AbortSignal, got "soon"'),
    );
  });

  it('writes after close() are refused, and close() resolves once the socket has closed', async () => {
    const server = await startServer(shout);
    try {
      const conn = await dial({ port: server.port });
      await conn.close();
      expect(await conn.write('x').then(() => undefined, (err: Error) => err.message)).to.equal(`connection #${conn.info.id}: write after end() or close()`);
      await eventually(() => server.connections === 0, 2000, 'the server to see the close');
    } finally {
      await server.close();
    }
  });
});



