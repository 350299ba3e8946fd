// `npm run bench:redis [-- --requests N --rounds N --keys N]`: the redis handler beside
// redis-server (issue #24). Each server pinned to core 0, redis-benchmark to core 1:
//   redis-benchmark -t set,get -n 200000 -c 50 -P 1 and -P 16, 3 rounds, ratios against the budget;
//   then 100,000 keys of 100 bytes stored in each: their resident memory.
// rxwire runs as users get it, from dist/ (`npm run build` first). What the figures mean: bench/README.md.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const RXWIRE = path.join(ROOT, 'dist', 'lib', 'cli', 'rxwire.js');
const SERVER_CORE = '0';
const LOAD_CORE = '1';
const STARTUP_MS = 30_000;

/** The floors of issue #24: rxwire's requests/s as a share of redis-server's, and its memory as a multiple. */
const BUDGET = { pipeline1: 0.6, pipeline16: 0.35, memory: 2 };

interface Args {
  requests: number;
  rounds: number;
  keys: number;
}

function argsFrom(argv: string[]): Args {
  const args: Args = { requests: 200_000, rounds: 3, keys: 100_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!(name in args) || !Number.isInteger(value) || value < 1) {
      process.stderr.write(`bench/redis: ${argv[i]}: expected --requests N, --rounds N or --keys N with N a whole number ≥ 1\n`);
      process.exit(2);
    }
    args[name as keyof Args] = value;
  }
  return args;
}

type Name = 'redis-server' | 'rxwire';

interface Running {
  readonly name: Name;
  readonly port: number;
  readonly child: ChildProcess;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts a server; `nodeFlags` go to rxwire's node (V8's, for the memory check). */
async function start(name: Name, nodeFlags: string[] = []): Promise<Running> {
  const port = await freePort();
  const command =
    name === 'redis-server'
      ? ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
      : [process.execPath, ...nodeFlags, RXWIRE, '--handler', 'redis', '--port', String(port), '--host', '127.0.0.1', '-q'];
  // taskset execs the server: the child's pid is the server's own, for /proc.
  const child = spawn('taskset', ['-c', SERVER_CORE, ...command], { stdio: 'ignore' });
  const deadline = Date.now() + STARTUP_MS;
  while (!ping(port)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { name, port, child };
}

function ping(port: number): boolean {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { encoding: 'utf8', timeout: 2000 });
  return result.stdout?.trim() === 'PONG';
}

async function stop(server: Running): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** requests/s of SET and GET from one redis-benchmark run, pinned to the load core. */
function benchmark(port: number, pipeline: number, requests: number): { SET: number; GET: number } {
  const args = ['-c', LOAD_CORE, 'redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-t', 'set,get', '-n', String(requests), '-c', '50', '-P', String(pipeline), '--csv'];
  const result = spawnSync('taskset', args, { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) throw new Error(`redis-benchmark exited with ${result.status}: ${result.stderr}`);
  const rps: Record<string, number> = {};
  for (const line of result.stdout.split('\n')) {
    const fields = line.split(',').map((field) => field.replace(/"/g, ''));
    if (fields.length > 1 && Number.isFinite(Number(fields[1]))) rps[fields[0]!] = Number(fields[1]);
  }
  if (rps.SET === undefined || rps.GET === undefined) throw new Error(`redis-benchmark printed no SET and GET figures:\n${result.stdout}`);
  return { SET: rps.SET, GET: rps.GET };
}

function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

/** Stores `count` keys of 100 bytes, 1,000 SETs a write, every reply read. */
async function fill(port: number, count: number): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const value = 'v'.repeat(100);
  const replyBytes = '+OK\r\n'.length;
  let expected = 0;
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  for (let from = 0; from < count; from += 1000) {
    const batch: string[] = [];
    for (let i = from; i < Math.min(count, from + 1000); i++) {
      const key = `key:${String(i).padStart(12, '0')}`;
      batch.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$100\r\n${value}\r\n`);
    }
    expected += batch.length * replyBytes;
    socket.write(batch.join(''));
    while (received < expected) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  socket.destroy();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const figure = (value: number) => Math.round(value).toLocaleString('en');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const args = argsFrom(process.argv.slice(2));
  for (const tool of ['taskset', 'redis-server', 'redis-cli', 'redis-benchmark']) {
    if (spawnSync(tool, ['--version']).error) throw new Error(`${tool} is missing: apt-get install -y util-linux redis-server redis-tools`);
  }
  if (!existsSync(RXWIRE)) throw new Error('dist/ is missing: npm run build first');

  const rounds: Record<string, Record<Name, number[]>> = {};
  for (let round = 1; round <= args.rounds; round++) {
    // Alternated, so neither server always runs on a machine warmed by the other.
    const order: Name[] = round % 2 === 1 ? ['redis-server', 'rxwire'] : ['rxwire', 'redis-server'];
    for (const name of order) {
      const server = await start(name);
      try {
        for (const pipeline of [1, 16]) {
          const rps = benchmark(server.port, pipeline, args.requests);
          for (const test of ['SET', 'GET'] as const) {
            const row = (rounds[`${test} -P ${pipeline}`] ??= { 'redis-server': [], rxwire: [] });
            row[name].push(rps[test]);
            process.stdout.write(`round ${round}  ${name.padEnd(12)}  ${test} -P ${String(pipeline).padEnd(2)}  ${figure(rps[test]).padStart(9)} requests/s\n`);
          }
        }
      } finally {
        await stop(server);
      }
    }
  }

  process.stdout.write(`\nmedian of ${args.rounds} rounds, redis-benchmark -n ${args.requests} -c 50 (requests/s):\n\n`);
  process.stdout.write('| test | redis-server | rxwire | ratio | budget | |\n| --- | ---: | ---: | ---: | ---: | --- |\n');
  for (const [test, figures] of Object.entries(rounds)) {
    const theirs = median(figures['redis-server']);
    const ours = median(figures.rxwire);
    const ratio = ours / theirs;
    const budget = test.endsWith('-P 1') ? BUDGET.pipeline1 : BUDGET.pipeline16;
    process.stdout.write(`| ${test} | ${figure(theirs)} | ${figure(ours)} | ${ratio.toFixed(2)} | ≥ ${budget} | ${ratio >= budget ? 'PASS' : 'MISS'} |\n`);
  }

  process.stdout.write(`\nresident memory, empty and with ${figure(args.keys)} keys of 100 bytes:\n\n`);
  const memory: { name: string; empty: number; full: number }[] = [];
  for (const [name, nodeFlags] of [['redis-server', []], ['rxwire', []], ['rxwire', [SMALL_YOUNG_GENERATION]]] as [Name, string[]][]) {
    const server = await start(name, nodeFlags);
    try {
      const empty = rssOf(server.child.pid!);
      await fill(server.port, args.keys);
      memory.push({ name: [name, ...nodeFlags].join(' '), empty, full: rssOf(server.child.pid!) });
    } finally {
      await stop(server);
    }
  }
  const [theirs, ours] = memory as [(typeof memory)[0], (typeof memory)[0]];
  const ratio = ours.full / theirs.full;
  process.stdout.write('| server | empty | full | growth |\n| --- | ---: | ---: | ---: |\n');
  for (const { name, empty, full } of memory) process.stdout.write(`| ${name} | ${mib(empty)} | ${mib(full)} | ${mib(full - empty)} |\n`);
  process.stdout.write(`\nrxwire / redis-server, full: ${ratio.toFixed(2)} (budget ≤ ${BUDGET.memory}: ${ratio <= BUDGET.memory ? 'PASS' : 'MISS'}); growth: ${((ours.full - ours.empty) / (theirs.full - theirs.empty)).toFixed(2)}\n`);

  process.stdout.write('\nthe floors: what a Node process holds before rxwire stores a key\n\n| process | RSS |\n| --- | ---: |\n');
  for (const [what, script] of FLOORS) process.stdout.write(`| ${what} | ${mib(floor(script, args.keys))} |\n`);
}

/** V8's young generation kept to 1 MiB semi-spaces: what a burst of garbage leaves resident, measured, not set behind users' backs. */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=1';

/**
 * Node processes that store nothing, or only the keys: each prints its own resident memory, in
 * bytes, once it has loaded (and stored) what it says. KEYS is the number of keys.
 */
const FLOORS: [string, string][] = [
  ['node, idle (`node -e`)', ''],
  ['node with rxjs, fp-ts and io-ts loaded', "require('rxjs'); require('fp-ts'); require('io-ts');"],
  ['node with rxwire loaded', "require(process.env.RXWIRE_INDEX);"],
  [
    'node with the keys and values alone in a `Map<string, string>` (latin1, as the handler keeps them)',
    "const store = (globalThis.store = new Map()); const value = Buffer.alloc(100, 'v'); for (let i = 0; i < KEYS; i++) store.set(Buffer.from(`key:${String(i).padStart(12, '0')}`).toString('latin1'), value.toString('latin1'));",
  ],
];

/** The resident memory of a fresh node running `script`, pinned to the server core, a second after it ran. */
function floor(script: string, keys: number): number {
  const program = `const KEYS = ${keys}; ${script} setTimeout(() => { process.stdout.write(/^VmRSS:\\s+(\\d+)/m.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]); process.exit(0); }, 1000);`;
  const result = spawnSync('taskset', ['-c', SERVER_CORE, process.execPath, '-e', program], { encoding: 'utf8', timeout: 60_000, cwd: ROOT, env: { ...process.env, RXWIRE_INDEX: path.join(ROOT, 'dist', 'lib', 'index.js') } });
  if (result.status !== 0) throw new Error(`node -e for a floor exited with ${result.status}: ${result.stderr}`);
  return Number(result.stdout) * 1024;
}

main().catch((err: Error) => {
  process.stderr.write(`bench/redis: ${err.message}\n`);
  process.exit(1);
});
