// Where a server spent its CPU, from a profile that `npm run bench -- --profile` wrote:
//   node -r ts-node/register bench/profile.ts bench/profiles/rxwire-lines-….cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The parts of V8's .cpuprofile format read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = `${path.resolve(__dirname, '..')}/`;

/** Which layer a function belongs to, by where its code lives. */
function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native and V8 builtins';
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/node_modules/rxjs/')) return 'rxjs';
  if (url.includes('/node_modules/')) return 'other packages';
  const where = url.replace('file://', '').replace(ROOT, '');
  // The bench runs rxwire from dist/, as users do.
  return /^(dist\/)?lib\//.test(where) ? 'rxwire lib/' : `${where.split('/')[0]}/`;
}

function place(url: string, lineNumber: number): string {
  return url === '' ? '' : `${url.replace('file://', '').replace(ROOT, '').replace(/^.*\/node_modules\//, '')}:${lineNumber + 1}`;
}

function tally(totals: Map<string, number>, key: string, micros: number): void {
  totals.set(key, (totals.get(key) ?? 0) + micros);
}

function printTop(title: string, totals: Map<string, number>, all: number, top: number): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...totals].sort((x, y) => y[1] - x[1]).slice(0, top);
  for (const [key, micros] of rows) {
    process.stdout.write(`${(micros / 1000).toFixed(0).padStart(8)} ms ${((100 * micros) / all).toFixed(1).padStart(5)}%  ${key}\n`);
  }
}

function main(): void {
  const [file, topArg = '25'] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node -r ts-node/register bench/profile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parents = new Map(profile.nodes.flatMap((node) => (node.children ?? []).map((child) => [child, node.id] as const)));
  const name = (id: number) => {
    const frame = frames.get(id)!;
    return `${frame.functionName || '(anonymous)'}  ${place(frame.url, frame.lineNumber)}`;
  };
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  // A sample's time is the gap to the next one.
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    const frame = frames.get(profile.samples[i])!;
    const micros = profile.timeDeltas[i + 1];
    if (frame.functionName === '(idle)') continue;
    busy += micros;
    tally(byFunction, name(profile.samples[i]), micros);
    tally(byArea, area(frame.url, frame.functionName), micros);
    // Each function on the stack once, however deep it recurses.
    const onStack = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parents.get(id)) onStack.add(name(id));
    for (const key of onStack) tally(inclusive, key, micros);
  }
  inclusive.delete(name(profile.nodes[0].id));
  process.stdout.write(`${file}: ${(busy / 1000).toFixed(0)} ms busy (idle left out)\n`);
  const top = parseTop(topArg);
  printTop('Self time by area', byArea, busy, top);
  printTop('Self time by function', byFunction, busy, top);
  printTop('Total time by function, callees included', inclusive, busy, top);
}

function parseTop(arg: string): number {
  const n = Number(arg);
  return Number.isInteger(n) && n > 0 ? n : 25;
}

main();
