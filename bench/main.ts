// `npm run bench [-- --quick]`: rxwire as users run it (compiled, from dist/) beside the design's
// floor, plain Node, a C server and asyncio, driven by a C epoll load generator that is never the
// bottleneck: the method of ../shared/bench, in the repository. What it measures: bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildCPrograms } from './build';
import { describeMachine, pinToCore } from './machine';
import { planFromArgs } from './plan';
import { formatBudgets, formatGroupTable, formatNoise, judgeBudgets, noisy } from './report';
import { percent, Run, runRound } from './runner';
import { allScenarios } from './scenarios';
import { Group, serversOf, ServerSpec } from './servers';

const SERVER_CORE = 0;
const LOAD_CORE = 1;
const STARTUP_MS = 60_000;
const ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(__dirname, 'results.json');
const GROUPS: readonly Group[] = ['upper', 'lines', 'frames', 'proxy'];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const plan = planFromArgs(process.argv.slice(2));
  if ('exitCode' in plan) {
    (plan.exitCode === 0 ? process.stdout : process.stderr).write(`${plan.message}\n`);
    return plan.exitCode;
  }
  const machine = describeMachine();
  if (machine.cpus < 2) {
    process.stderr.write('bench: needs 2 CPUs, one for the servers and one for the load generator\n');
    return 1;
  }
  for (const tool of ['gcc', 'taskset']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) {
      process.stderr.write(`bench: '${tool}' not found\n`);
      return 1;
    }
  }
  if (!existsSync(path.join(ROOT, 'dist', 'lib', 'cli', 'rxwire.js'))) {
    process.stderr.write('bench: dist/lib/cli/rxwire.js is missing: run `npm run build` (the bench measures rxwire as installed)\n');
    return 1;
  }
  const scenarios = allScenarios(plan.holdConnections);
  const unknown = (plan.only ?? []).filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: --only: no scenario ${unknown.join(', ')} (there are ${scenarios.map((s) => s.name).join(', ')})\n`);
    return 2;
  }
  const chosen = scenarios.filter((s) => plan.only?.includes(s.name) ?? true);
  const { loadgen, upperEpoll } = buildCPrograms(say);
  pinToCore(LOAD_CORE);
  if (plan.profileDir !== undefined) mkdirSync(plan.profileDir, { recursive: true });
  const python = pythonVersion();
  const servers = new Map(GROUPS.map((group) => [group, serversOf(group, upperEpoll, python !== undefined)]));
  const scratchDir = mkdtempSync(path.join(tmpdir(), 'rxwire-bench-'));
  const started = Date.now();

  say(`rxwire bench: ${plan.rounds} round(s), each server fresh for every run, A B A B …; servers on CPU ${SERVER_CORE}, loadgen on CPU ${LOAD_CORE}`);
  say(`${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, node ${machine.node}, ${python ?? 'no python3: asyncio left out'}`);
  for (const group of GROUPS.filter((g) => chosen.some((s) => s.group === g))) {
    for (const server of servers.get(group)!) say(`  ${server.name.padEnd(16)} ${[...server.command, '--port', '0'].join(' ')}  (${server.role})`);
  }
  for (const note of plan.notes) say(`note: ${note}`);

  const runs: Run[] = [];
  try {
    for (const scenario of chosen) {
      say(`== ${scenario.name} (${scenario.title}): loadgen ${scenario.args.join(' ')}`);
      for (let round = 1; round <= plan.rounds; round++) {
        for (const server of servers.get(scenario.group)!) {
          const options = { core: SERVER_CORE, loadCore: LOAD_CORE, loadgen, startupMs: STARTUP_MS, scratchDir, noisyRetries: plan.noisyRetries, nodeFlags: profileFlags(plan.profileDir, server, scenario.name, round) };
          const run = await runRound(scenario, server, round, options, say);
          runs.push(run);
          say(progress(run, scenario.metrics.map((m) => m.key)));
        }
      }
    }
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
  }
  const elapsedSeconds = Math.round((Date.now() - started) / 1000);
  const budgets = judgeBudgets(runs);
  for (const group of GROUPS) {
    const inGroup = chosen.filter((s) => s.group === group);
    if (inGroup.length > 0) say(`\n${formatGroupTable(inGroup, servers.get(group)!, runs)}`);
  }
  say(`\nMedians of ${plan.rounds} round(s); the ratio columns divide the medians.\n`);
  say(formatBudgets(budgets));
  say(formatNoise(runs));
  const failed = runs.filter((r) => !r.ok);
  for (const run of failed) say(`FAILED: ${run.scenario} ${run.server} round ${run.round}: ${run.error}${run.loadgenStderr.length ? ` / ${run.loadgenStderr.slice(0, 3).join(' / ')}` : ''}`);
  say(`Took ${elapsedSeconds} s; results in ${path.relative(process.cwd(), RESULTS_FILE)}.`);
  const record = { date: new Date().toISOString(), machine, python, rounds: plan.rounds, elapsedSeconds, servers: Object.fromEntries(servers), budgets, runs };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(record, null, 1)}\n`);
  return failed.length > 0 ? 1 : 0;
}

function progress(run: Run, keys: readonly string[]): string {
  const values = keys.filter((key) => key in run.values).map((key) => `${key}=${Number(run.values[key].toFixed(2))}`);
  const noise = noisy(run) ? `  NOISY: other processes used ${percent(run.othersCpu)} of a CPU` : '';
  return `  round ${run.round} ${run.server.padEnd(16)} ${run.ok ? 'ok  ' : 'FAIL'} ${values.join(' ')}  [server pid ${run.pids.join(',')}]${run.error ? `  error: ${run.error}` : ''}${noise}`;
}

/** With --profile, what makes a Node server write a V8 CPU profile of its run when it exits. */
function profileFlags(profileDir: string | undefined, server: ServerSpec, scenario: string, round: number): string[] | undefined {
  if (profileDir === undefined) return undefined;
  return ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${server.name}-${scenario}-${round}.cpuprofile`];
}

/** `Python 3.11.7`, or undefined where there is no python3 to run the asyncio servers. */
function pythonVersion(): string | undefined {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
