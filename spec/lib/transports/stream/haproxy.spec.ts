import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { ask, greet, greetNewcomer, oneFromEachOfTwo } from '../../../support/greeting';
import { closed, closedPort, eventually, listening, portOf, Program, runCommand, runProgram, selfSignedCert } from '../../../support/net';

// rxwire behind a real HAProxy in TCP mode, all on 127.0.0.1: the config is the README's.

const installed = !spawnSync('haproxy', ['-v']).error;

interface Backend extends Program {
  port: number;
  pid: number;
}

// A backend with workers is three ts-node processes starting at once.
const STARTUP_MS = 60_000;

/** `rxwire --proxy-protocol` in a process of its own (so that it can be killed), serving the greeting handler. */
async function startBackend(...extra: string[]): Promise<Backend> {
  const args = ['--handler', 'spec/support/greetingHandler.ts', '--proxy-protocol', '--host', '127.0.0.1', '--port', '0', '--grace-ms', '100', ...extra];
  const program = await listening(runProgram('lib/cli/rxwire.ts', args), STARTUP_MS);
  return { ...program, port: portOf(program.address), pid: program.child.pid! };
}

function stop(program: Program): Promise<unknown> {
  if (program.child.exitCode === null && program.child.signalCode === null) process.kill(-program.child.pid!, 'SIGKILL');
  return program.exit;
}

/** The HAProxy config the README shows: a TCP frontend, and `backends` that each get a PROXY header. */
function haproxyConfig(frontendPort: number, backendPorts: number[], sendProxy: 'send-proxy' | 'send-proxy-v2'): string {
  return [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 30s',
    // A connection to a backend that has just died is tried again on another.
    '  option redispatch',
    '  retries 2',
    'frontend rxwire',
    `  bind 127.0.0.1:${frontendPort}`,
    '  default_backend rxwire_servers',
    'backend rxwire_servers',
    '  balance roundrobin',
    ...backendPorts.map((port, i) => `  server s${i} 127.0.0.1:${port} ${sendProxy} check check-send-proxy inter 200ms fall 1 rise 2`),
    '',
  ].join('\n');
}

interface Haproxy extends Program {
  port: number;
  dir: string;
}

/** Starts HAProxy in the foreground with a generated config; resolves once its frontend accepts. */
async function startHaproxy(backendPorts: number[], sendProxy: 'send-proxy' | 'send-proxy-v2'): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-haproxy-'));
  const port = await closedPort();
  const config = path.join(dir, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig(port, backendPorts, sendProxy));
  const program = runCommand('haproxy', ['-db', '-f', config]);
  const haproxy = { ...program, port, dir };
  try {
    await waitForPort(port, 10_000, () => program.child.exitCode !== null);
  } catch (err) {
    await stopHaproxy(haproxy);
    throw new Error(`${(err as Error).message}: ${program.stderr.join(' | ')}`);
  }
  return haproxy;
}

async function stopHaproxy(haproxy: Haproxy): Promise<void> {
  await stop(haproxy);
  rmSync(haproxy.dir, { recursive: true, force: true });
}

async function waitForPort(port: number, ms: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = net.connect({ port, host: '127.0.0.1' });
      const settle = (accepted: boolean) => {
        clearTimeout(timer);
        probe.destroy();
        resolve(accepted);
      };
      const timer = setTimeout(() => settle(false), 500);
      probe.once('connect', () => settle(true)).once('error', () => settle(false));
    });
    if (ok) return;
    if (gaveUp() || Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

(installed ? describe : describe.skip)(installed ? 'behind HAProxy' : 'behind HAProxy (skipped: haproxy is not installed; apt-get install -y haproxy)', function () {
  this.timeout(60_000);
  const backends: Backend[] = [];
  const clients: net.Socket[] = [];
  let haproxy: Haproxy | undefined;

  before(async () => {
    backends.push(...(await Promise.all([startBackend(), startBackend()])));
  });

  afterEach(async () => {
    clients.splice(0).forEach((socket) => socket.destroy());
    if (haproxy) await stopHaproxy(haproxy);
    haproxy = undefined;
  });

  after(async () => {
    await Promise.all(backends.map(stop));
  });

  for (const sendProxy of ['send-proxy', 'send-proxy-v2'] as const) {
    it(`with ${sendProxy}, conn.remote is the client's own address and port`, async () => {
      haproxy = await startHaproxy([backends[0]!.port], sendProxy);
      for (let i = 0; i < 3; i++) {
        const greeted = await greet(haproxy.port);
        clients.push(greeted.socket);
        expect(greeted.remote).to.equal(`127.0.0.1:${greeted.socket.localPort}`);
        expect(greeted.pid).to.equal(backends[0]!.pid);
        expect(await ask(greeted.socket, 'hello')).to.equal('HELLO');
      }
    });
  }

  it('passes TLS through to a TLS backend, the header sent before the handshake', async () => {
    const { cert, certFile, keyFile } = selfSignedCert();
    const tlsBackend = await startBackend('--tls-cert', certFile, '--tls-key', keyFile);
    try {
      haproxy = await startHaproxy([tlsBackend.port], 'send-proxy-v2');
      const secure = tls.connect({ host: '127.0.0.1', port: haproxy.port, ca: cert, servername: 'localhost' });
      clients.push(secure);
      const greeting = new Promise<string>((resolve, reject) => {
        secure.once('data', (chunk: Buffer) => resolve(chunk.toString())).once('error', reject);
      });
      await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
      expect(await greeting).to.equal(`${tlsBackend.pid} 127.0.0.1:${secure.localPort}\n`);
    } finally {
      await stop(tlsBackend);
    }
  });

  it('when one of two backends is killed, only its connections are lost and new ones go to the other', async () => {
    const [doomed, survivor] = backends as [Backend, Backend];
    haproxy = await startHaproxy([doomed.port, survivor.port], 'send-proxy-v2');
    const before = [];
    for (let i = 0; i < 4; i++) before.push(await greet(haproxy.port));
    clients.push(...before.map((g) => g.socket));
    expect(new Set(before.map((g) => g.pid))).to.deep.equal(new Set([doomed.pid, survivor.pid]));

    process.kill(doomed.pid, 'SIGKILL');
    await doomed.exit;
    for (const greeted of before) {
      if (greeted.pid === doomed.pid) await closed(greeted.socket);
      else expect(await ask(greeted.socket, 'still here')).to.equal('STILL HERE');
    }
    for (let i = 0; i < 6; i++) {
      const greeted = await greet(haproxy.port);
      clients.push(greeted.socket);
      expect(greeted.pid).to.equal(survivor.pid);
      expect(greeted.remote).to.equal(`127.0.0.1:${greeted.socket.localPort}`);
    }
    await eventually(() => haproxy!.stderr.some((l) => /Server rxwire_servers\/s0 is DOWN/.test(l)), 5000, 'haproxy to mark the killed backend down');
  });

  it("in front of --workers 2: a worker killed by SIGKILL comes back, new connections are served, the other worker's go on", async function () {
    this.timeout(2 * STARTUP_MS);
    const clustered = await startBackend('--workers', '2');
    try {
      haproxy = await startHaproxy([clustered.port], 'send-proxy-v2');
      const [doomed, survivor, all] = await oneFromEachOfTwo(haproxy.port);
      clients.push(...all.map((g) => g.socket));
      expect([doomed.pid, survivor.pid]).not.to.include(clustered.pid);
      process.kill(doomed.pid, 'SIGKILL');
      await closed(doomed.socket);
      expect(await ask(survivor.socket, 'still here')).to.equal('STILL HERE');
      for (let i = 0; i < 4; i++) {
        const greeted = await greet(haproxy.port);
        clients.push(greeted.socket);
        expect(greeted.remote).to.equal(`127.0.0.1:${greeted.socket.localPort}`);
      }
      const back = await greetNewcomer(haproxy.port, [survivor.pid], STARTUP_MS, clients);
      expect(back.pid).not.to.be.oneOf([doomed.pid, clustered.pid]);
      expect(back.remote).to.equal(`127.0.0.1:${back.socket.localPort}`);
      expect(await ask(survivor.socket, 'untouched')).to.equal('UNTOUCHED');
    } finally {
      await stop(clustered);
    }
  });
});
