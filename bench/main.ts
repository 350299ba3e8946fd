// `npm run bench [-- --quick]`: rxwire against a hand-written node:net server, side by side, with
// the budget of issue #10, and asyncio beside them where python3 is. What each scenario means: bench/README.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatFigure } from './format';
import { describeMachine, pinToCore } from './machine';
import { planFromArgs } from './plan';
import { disturbed, formatReport, ScenarioResult, summarize } from './report';
import { Run, runRounds } from './runner';
import { Scenario, scenarios } from './scenarios';
import { Implementation } from './servers/protocol';

const SERVER_CORE = 0;
const LOAD_CORE = 1;
const RESULTS_FILE = path.join(__dirname, 'results.json');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function progress(scenario: Scenario, run: Run): string {
  const where = `${scenario.number.padEnd(3)} round ${run.round}  ${run.implementation.padEnd(8)}`;
  if (run.measurement === undefined) return `${where}  failed: ${run.error}`;
  const { value, details } = run.measurement;
  const cpu = 'serverCpu' in details ? `  (server CPU ${Math.round(details.serverCpu * 100)}%, load CPU ${Math.round(details.loadCpu * 100)}%)` : '';
  const noise = disturbed(run) ? `  disturbed: other processes took ${Math.round(run.othersCpu! * 100)}% of a core` : '';
  return `${where}  ${formatFigure(value).padStart(9)} ${scenario.metric.unit}${cpu}${noise}`;
}

async function main(): Promise<number> {
  const plan = planFromArgs(process.argv.slice(2));
  if ('exitCode' in plan) {
    (plan.exitCode === 0 ? process.stdout : process.stderr).write(`${plan.message}\n`);
    return plan.exitCode;
  }
  const machine = describeMachine();
  if (machine.cpus < 2) {
    process.stderr.write('bench: needs 2 cores, one for the server and one for the load generator\n');
    return 1;
  }
  const all = scenarios(plan.sizes);
  const unknown = [...(plan.only ?? [])].filter((number) => !all.some((scenario) => scenario.number === number));
  if (unknown.length > 0) {
    process.stderr.write(`bench: --only: no scenario ${unknown.join(', ')} (there are ${all.map((s) => s.number).join(', ')})\n`);
    return 2;
  }
  pinToCore(LOAD_CORE);
  if (plan.profileDir !== undefined) mkdirSync(plan.profileDir, { recursive: true });
  const python = pythonVersion();
  const implementations: Implementation[] = python === undefined ? ['rxwire', 'baseline'] : ['rxwire', 'baseline', 'asyncio'];
  const started = Date.now();

  say(`rxwire bench, ${plan.mode}: ${plan.rounds} round(s) of ${implementations.join(', ')} per scenario, each run on a fresh server`);
  say(`servers on core ${SERVER_CORE}, load generator on core ${LOAD_CORE}; ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, node ${machine.node}, ${python ?? 'no python3: asyncio left out'}`);
  for (const note of plan.notes) say(`note: ${note}`);
  const results: ScenarioResult[] = [];
  for (const scenario of all.filter((s) => plan.only?.has(s.number) ?? true)) {
    say(`\n${scenario.number}. ${scenario.title}`);
    const runs = await runRounds(scenario, plan.rounds, implementations, { core: SERVER_CORE, profileDir: plan.profileDir }, (run) =>
      say(`    ${progress(scenario, run)}`),
    );
    results.push(summarize(scenario, runs));
  }
  const elapsedSeconds = Math.round((Date.now() - started) / 1000);

  say(`\n${formatReport(results, plan.rounds)}`);
  say(`Took ${elapsedSeconds} s; results in ${path.relative(process.cwd(), RESULTS_FILE)}.`);
  const record = { date: new Date().toISOString(), machine, python, mode: plan.mode, rounds: plan.rounds, sizes: plan.sizes, elapsedSeconds, results };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(record, null, 2)}\n`);
  return results.some((result) => result.verdict === 'ERROR') ? 1 : 0;
}

/** `Python 3.11.7`, or undefined where there is no python3 to run the asyncio server. */
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
