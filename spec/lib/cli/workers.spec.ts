import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ask, greet, greetNewcomer, oneFromEachOfTwo } from '../../support/greeting';
import { closed, eventually, isAlive, listening, portOf, Program, runProgram } from '../../support/net';

// `rxwire --workers`: node:cluster workers on one port, restarted when they die, closed together.
// Every process is real and every socket on 127.0.0.1; workers answer with their PID (spec/support/greetingHandler.ts).

// Three ts-node processes starting at once on a busy machine take a while.
const STARTUP_MS = 60_000;
const GRACE_MS = 1000;

function rxwire(...args: string[]): Program {
  return runProgram('lib/cli/rxwire.ts', args);
}

function startWorkers(): Promise<Program & { address: string }> {
  const args = ['--workers', '2', '--handler', 'spec/support/greetingHandler.ts', '--host', '127.0.0.1', '--port', '0', '--grace-ms', String(GRACE_MS)];
  return listening(rxwire(...args), STARTUP_MS);
}

/** Kills the program and its workers (its process group), if still there. */
function stop(program: Program): Promise<unknown> {
  if (isAlive(-program.child.pid!)) process.kill(-program.child.pid!, 'SIGKILL');
  return program.exit;
}

describe('rxwire --workers', function () {
  this.timeout(120_000);
  const clients: net.Socket[] = [];
  let server: Program & { address: string };
  let port: number;

  before(async () => {
    server = await startWorkers();
    port = portOf(server.address);
  });

  afterEach(() => clients.splice(0).forEach((socket) => socket.destroy()));
  after(() => stop(server));

  it('serves from two worker processes, announced by one listening line with the port they share', async () => {
    expect(server.stdout).to.deep.equal([`listening on ${server.address}`]);
    expect(server.address).to.match(/^127\.0\.0\.1:\d+$/);
    expect(port).to.be.greaterThan(0);
    const [first, second, all] = await oneFromEachOfTwo(port);
    clients.push(...all.map((g) => g.socket));
    expect([first.pid, second.pid]).not.to.include(server.child.pid);
    for (const greeted of all) expect(greeted.remote).to.equal(`127.0.0.1:${greeted.socket.localPort}`);
  });

  it("restarts a worker killed by SIGKILL: only its connections drop, the other's go on, new ones are served", async () => {
    const [doomed, survivor, all] = await oneFromEachOfTwo(port);
    clients.push(...all.map((g) => g.socket));
    process.kill(doomed.pid, 'SIGKILL');
    await closed(doomed.socket);
    expect(await ask(survivor.socket, 'still here')).to.equal('STILL HERE');
    // Until the primary has seen the worker exit, node:cluster may still hand it a new
    // connection, which is then lost with it: new clients are asked for once it has.
    const death = new RegExp(`server: worker [12] \\(pid ${doomed.pid}\\) was killed by SIGKILL after \\d+\\.\\d s: restarting it in 100 ms$`);
    await eventually(() => server.stderr.some((line) => death.test(line)), 5000, 'the line saying the worker died');
    for (let i = 0; i < 4; i++) clients.push((await greet(port)).socket);
    const back = await greetNewcomer(port, [survivor.pid], STARTUP_MS, clients);
    expect(back.pid, 'a new worker').not.to.be.oneOf([doomed.pid, server.child.pid]);
    expect(await ask(survivor.socket, 'untouched')).to.equal('UNTOUCHED');
    expect(server.stderr.filter((line) => / server: worker /.test(line))).to.have.length(1);
  });

  it('on SIGTERM stops accepting, gives open connections --grace-ms in every worker, then exits 0 with no worker left', async () => {
    const [first, second, all] = await oneFromEachOfTwo(port);
    clients.push(...all.map((g) => g.socket));
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await ask(first.socket, 'bye')).to.equal('BYE');
    expect(await ask(second.socket, 'bye')).to.equal('BYE');
    await Promise.all([closed(first.socket), closed(second.socket)]);
    expect(await server.exit).to.equal(0);
    const took = Date.now() - signalled;
    expect(took).to.be.within(GRACE_MS - 100, GRACE_MS + 5000);
    expect(server.stderr).to.include('SIGTERM: closing, 2 worker(s) serving');
    await eventually(() => !isAlive(first.pid) && !isAlive(second.pid), 5000, 'the workers to exit');
    await new Promise((resolve, reject) => net.connect(port, '127.0.0.1').once('connect', reject).once('error', resolve));
  });
});

describe('rxwire --workers, failing', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rxwire-workers-'));
    writeFileSync(path.join(dir, 'wrong.ts'), 'export default 42;');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ends its workers when the primary dies: no orphans', async () => {
    const server = await startWorkers();
    try {
      const [first, second, all] = await oneFromEachOfTwo(portOf(server.address));
      all.forEach((g) => g.socket.destroy());
      process.kill(server.child.pid!, 'SIGKILL');
      await eventually(() => !isAlive(first.pid) && !isAlive(second.pid), 10_000, 'the workers to exit');
    } finally {
      await stop(server);
    }
  });

  it('fails fast when the port cannot be bound: the same line and exit 1 as without workers, no worker left', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const where = ['--host', '127.0.0.1', '--port', String(port)];
      const [clustered, single] = [rxwire('--workers', '2', ...where), rxwire(...where)];
      expect(await clustered.exit).to.equal(1);
      expect(await single.exit).to.equal(1);
      expect(clustered.stderr).to.deep.equal([`rxwire: listen EADDRINUSE: address already in use 127.0.0.1:${port}`]).and.deep.equal(single.stderr);
      await eventually(() => !isAlive(-clustered.child.pid!), 5000, 'every worker to exit');
    } finally {
      taken.close();
    }
  });

  it('refuses a bad --workers, --udp or --rdm with --workers, and a handler that cannot load: one line, exit 2', async () => {
    const cases: [string[], string][] = [
      // Every bad value and combination is in spec/lib/cli/flags.spec.ts; here, that the command exits on them.
      [['--workers', 'abc'], 'rxwire: --workers: expected a whole number from 1 to 1024 or "auto", got "abc"'],
      [['--udp', '--workers', '2'], 'rxwire: --udp: cannot be combined with --workers'],
      [['--workers', '2', '--handler', path.join(dir, 'wrong.ts')], `rxwire: ${path.join(dir, 'wrong.ts')}: default export must be a handler function, got number`],
    ];
    const programs = cases.map(([args]) => rxwire(...args, '--port', '0'));
    for (const [i, program] of programs.entries()) {
      expect(await program.exit, cases[i]![0].join(' ')).to.equal(2);
      expect(program.stderr).to.deep.equal([cases[i]![1]]);
    }
  });
});
