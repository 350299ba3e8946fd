// What one connection costs a server, in measures that a busy machine does not spoil: heap
// retained per idle connection by constructor, bytes allocated per connection's life by function,
// and (noisier) CPU self time per connection by function.
//   node -r ts-node/register bench/connectionCost.ts [--hold N] [--lives N] [--top N] -- node dist/lib/cli/rxwire.js
//   node -r ts-node/register bench/connectionCost.ts -- node ../shared/bench/peers/rx-min.js
// The server is started with `--port 0` and bench/connectionCostProbe.js preloaded; the load is
// this process's, connect + 16 bytes echoed (uppercased) + close, as the shared bench's.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
if (split < 0 || split === argv.length - 1) {
  process.stderr.write('usage: connectionCost.ts [--hold N] [--lives N] [--top N] -- COMMAND...\n');
  process.exit(2);
}
const own = argv.slice(0, split);
const command = argv.slice(split + 1);
const flag = (name: string, fallback: number) => {
  const i = own.indexOf(`--${name}`);
  return i >= 0 ? Number(own[i + 1]) : fallback;
};
const HOLD = flag('hold', 2000);
const LIVES = flag('lives', 2000);
const TOP = flag('top', 25);
const MESSAGE = Buffer.from('hello, connection');
const REPLY = Buffer.from(MESSAGE.toString('latin1').toUpperCase(), 'latin1');

const dir = mkdtempSync(path.join(tmpdir(), 'connection-cost-'));

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const [node, ...args] = command;
  const child = spawn(node!, ['-r', path.join(__dirname, 'connectionCostProbe.js'), ...args, '--port', '0'], {
    env: { ...process.env, COST_PROBE_DIR: dir },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /listening on .*:(\d+)\s*$/m.exec(out)?.[1];
      if (port) resolve({ child, port: Number(port) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

/** Has the probe run `step`, and waits for it to finish. */
async function probe(child: ChildProcess, step: string): Promise<unknown> {
  const done = path.join(dir, 'done');
  rmSync(done, { force: true });
  writeFileSync(path.join(dir, 'step'), step);
  child.kill('SIGUSR2');
  for (let waited = 0; !existsSync(done); waited += 50) {
    if (waited > 120_000) throw new Error(`probe step ${step}: no answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 50));
  const answer = JSON.parse(readFileSync(done, 'utf8'));
  if (answer.error) throw new Error(`probe step ${step}: ${answer.error}`);
  return answer.result;
}

/** Connects, has 16 bytes echoed uppercased, and resolves with the open socket. */
function roundTrip(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let got = Buffer.alloc(0);
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < REPLY.length) return;
      if (!got.equals(REPLY)) reject(new Error(`wrong reply ${JSON.stringify(got.toString())}`));
      socket.removeAllListeners('data');
      resolve(socket);
    });
    socket.write(MESSAGE);
  });
}

async function inBatches(count: number, inFlight: number, each: () => Promise<void>): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await each();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function closeAll(sockets: net.Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
    s.once('close', () => resolve());
    s.resume();
    s.end();
  })));
}

// ---- reading what the probe wrote --------------------------------------------------------------

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * Self size and count by constructor (objects), function name (closures) or kind (strings, arrays,
 * code…); with `byOwner`, the key is prefixed by the first object that holds it and the property
 * it is held in (`OperatorSubscriber._finalizers → Array`), which tells whose an array or a closure is.
 */
function byConstructor(file: string, byOwner = false): Map<string, { size: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { node_fields: fields, node_types: [types], edge_fields: edgeFields, edge_types: [edgeTypes] } = snap.snapshot.meta;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => fields.indexOf(f));
  const kindOf = (i: number) => {
    const type = types[snap.nodes[i + typeAt!]!]!;
    const name = snap.strings[snap.nodes[i + nameAt!]!]!;
    return type === 'object' ? name : type === 'closure' ? `(closure) ${name || '(anonymous)'}` : type === 'hidden' || type === 'native' ? `(${type}) ${name.slice(0, 60)}` : `(${type})`;
  };
  const owner = new Map<number, string>();
  if (byOwner) {
    const ew = edgeFields.length;
    const [eTypeAt, eNameAt, eToAt] = ['type', 'name_or_index', 'to_node'].map((f) => edgeFields.indexOf(f));
    let e = 0;
    for (let i = 0; i < snap.nodes.length; i += width) {
      const from = kindOf(i);
      for (let k = snap.nodes[i + edgeCountAt!]!; k > 0; k--, e += ew) {
        const edgeType = edgeTypes[snap.edges[e + eTypeAt!]!]!;
        if (edgeType === 'weak' || edgeType === 'shortcut') continue;
        const to = snap.edges[e + eToAt!]!;
        if (owner.has(to)) continue;
        const label = edgeType === 'element' || edgeType === 'hidden' ? `[${edgeType}]` : String(snap.strings[snap.edges[e + eNameAt!]!] ?? '');
        owner.set(to, `${from}.${label.slice(0, 40)}`);
      }
    }
  }
  const totals = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const key = byOwner ? `${owner.get(i) ?? '(root)'} → ${kindOf(i)}` : kindOf(i);
    const t = totals.get(key) ?? { size: 0, count: 0 };
    t.size += snap.nodes[i + sizeAt!]!;
    t.count++;
    totals.set(key, t);
  }
  return totals;
}

interface HeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapProfileNode[];
}

/** Bytes allocated by the function that allocated them (file:line), and by what called into rxwire. */
function allocationsBySite(file: string): Map<string, number> {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapProfileNode };
  const totals = new Map<string, number>();
  const walk = (node: HeapProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize > 0) {
      const where = url ? `${url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(`${process.cwd()}/`, '')}:${lineNumber + 1}` : '';
      const key = `${functionName || '(anonymous)'} ${where}`;
      totals.set(key, (totals.get(key) ?? 0) + node.selfSize);
    }
    node.children.forEach(walk);
  };
  walk(head);
  return totals;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function cpuBySite(file: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(`${process.cwd()}/`, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`;
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return totals;
}

function printTop(title: string, rows: [string, number][], unit: string, top = TOP): void {
  const sum = rows.reduce((s, [, v]) => s + v, 0);
  process.stdout.write(`\n${title}: ${sum.toFixed(0)} ${unit} in all\n`);
  for (const [key, value] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${value.toFixed(1).padStart(9)} ${unit}  ${key}\n`);
  }
}

async function main(): Promise<void> {
  const { child, port } = await startServer();
  try {
    // Warm up: the first connections compile the code paths, and Node's pools fill.
    for (let i = 0; i < 200; i++) (await roundTrip(port)).destroy();
    await new Promise((r) => setTimeout(r, 300));

    // Idle: what HOLD connections, each after one round trip, keep on the heap.
    const before = (await probe(child, 'snapshot before')) as NodeJS.MemoryUsage;
    const held: net.Socket[] = [];
    await inBatches(HOLD, 100, async () => void held.push(await roundTrip(port)));
    await new Promise((r) => setTimeout(r, 300));
    const holding = (await probe(child, 'snapshot holding')) as NodeJS.MemoryUsage;
    await closeAll(held);
    await new Promise((r) => setTimeout(r, 300));

    // A whole life: connect, 16 bytes each way, close, LIVES times, 50 at a time.
    await probe(child, 'alloc-start');
    await probe(child, 'cpu-start');
    await inBatches(LIVES, 50, async () => closeAll([await roundTrip(port)]));
    await new Promise((r) => setTimeout(r, 100));
    await probe(child, 'cpu-stop lives');
    await probe(child, 'alloc-stop lives');

    const perConn = (a: number, b: number) => ((b - a) / HOLD).toFixed(0);
    process.stdout.write(`${command.join(' ')}\n`);
    process.stdout.write(`idle, per connection (${HOLD} held, after gc): heapUsed ${perConn(before.heapUsed, holding.heapUsed)} B, external ${perConn(before.external, holding.external)} B, rss ${perConn(before.rss, holding.rss)} B\n`);
    for (const byOwner of [false, true]) {
      const a = byConstructor(path.join(dir, 'before.heapsnapshot'), byOwner);
      const b = byConstructor(path.join(dir, 'holding.heapsnapshot'), byOwner);
      const diff: [string, number][] = [];
      for (const [key, { size, count }] of b) {
        const was = a.get(key) ?? { size: 0, count: 0 };
        diff.push([`${key}  (×${((count - was.count) / HOLD).toFixed(2)})`, (size - was.size) / HOLD]);
      }
      printTop(`retained per idle connection, by ${byOwner ? 'holder and constructor' : 'constructor'}`, diff, 'B', byOwner ? 2 * TOP : TOP);
    }
    printTop('allocated per connection life, by function', [...allocationsBySite(path.join(dir, 'lives.heapprofile'))].map(([k, v]) => [k, v / LIVES]), 'B');
    printTop('CPU self time per connection life, by function (noisy on a busy machine)', [...cpuBySite(path.join(dir, 'lives.cpuprofile'))].map(([k, v]) => [k, v / LIVES]), 'µs');
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`connectionCost: ${(err as Error).message}\n`);
  process.exit(1);
});
