import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuMicrosOf } from './procStatus';
import { HOLD_SECONDS, Scenario } from './scenarios';
import { processTree, ServerProcess, StartOptions } from './serverProcess';
import { ServerSpec } from './servers';

/** A run during which other processes used more than this share of a CPU is redone, or flagged `noisy`. */
export const NOISY_CPU_SHARE = 0.1;
const SETTLE_MS = 500;
const SAMPLE_MS = 50;
const LOADGEN_SLACK_SECONDS = 10;
const TICKS_PER_SECOND = 100;

export interface Run {
  readonly scenario: string;
  readonly server: string;
  readonly round: number;
  readonly ok: boolean;
  readonly error?: string;
  /** The metrics of the scenario, by key, where the run produced them. */
  readonly values: Readonly<Record<string, number>>;
  /** Share of a CPU that other processes used meanwhile. */
  readonly othersCpu: number;
  readonly attempts: number;
  readonly pids: readonly number[];
  readonly loadgenStderr: readonly string[];
}

export interface RunOptions extends StartOptions {
  readonly loadgen: string;
  readonly loadCore: number;
  readonly noisyRetries: number;
}

/** One round of `scenario` on `server`: redone up to `noisyRetries` times while other processes spoil it, keeping the quietest. */
export async function runRound(scenario: Scenario, server: ServerSpec, round: number, options: RunOptions, say: (line: string) => void): Promise<Run> {
  let run = await runOnce(scenario, server, round, options);
  let attempts = 1;
  while (run.othersCpu > NOISY_CPU_SHARE && attempts <= options.noisyRetries) {
    say(`  round ${round} ${server.name.padEnd(16)} noisy (other processes used ${percent(run.othersCpu)} of a CPU), retry ${attempts}/${options.noisyRetries}`);
    await delay(2_000);
    const again = await runOnce(scenario, server, round, options);
    attempts++;
    if (again.othersCpu < run.othersCpu) run = again;
  }
  return { ...run, attempts };
}

export const percent = (share: number): string => `${Math.round(share * 100)}%`;

async function runOnce(scenario: Scenario, spec: ServerSpec, round: number, options: RunOptions): Promise<Run> {
  const base = { scenario: scenario.name, server: spec.name, round, attempts: 1 };
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start(spec, options);
    await delay(SETTLE_MS);
    if (scenario.warmUp) {
      const warm = await drive({ ...scenario, args: scenario.warmUp }, spec, server, options);
      const failed = warm.error ?? (warm.result.ok !== 1 ? 'loadgen reported ok=0' : undefined);
      if (failed) throw new Error(`warm-up: ${failed}`);
      // Its last connections closed and collected before the measured run, as after a start.
      await delay(SETTLE_MS);
    }
    const idleKiB = server.rssKiB() ?? 0;
    const cpuBefore = server.cpuSeconds();
    const watch = new CpuWatch(server);
    const load = await drive(scenario, spec, server, options);
    const cpu = server.cpuSeconds() - cpuBefore;
    const othersCpu = watch.othersShare();
    const died = !server.alive();
    const values: Record<string, number> = {};
    for (const m of scenario.metrics) if (typeof load.result[m.key] === 'number') values[m.key] = load.result[m.key];
    let error = load.error ?? (died ? 'server died during the run' : load.result.ok !== 1 ? 'loadgen reported ok=0' : undefined);
    if (scenario.kind === 'pingpong' && load.result.roundtrips) values.cpu_us_per_rt = (cpu * 1e6) / load.result.roundtrips;
    if (scenario.kind === 'connect' && load.result.conns_ok) values.cpu_us_per_conn = (cpu * 1e6) / load.result.conns_ok;
    if (scenario.kind === 'hold') {
      if (load.heldKiB === undefined || !load.result.served) error ??= 'no RSS sample while holding';
      else {
        values.kb_per_conn = (load.heldKiB - idleKiB) / load.result.served;
        values.rss_hold_mb = load.heldKiB / 1024;
      }
    }
    if (scenario.kind === 'slowread') {
      values.peak_rss_mb = load.peakKiB / 1024;
      values.peak_growth_mb = (load.peakKiB - idleKiB) / 1024;
    }
    return { ...base, ok: error === undefined, error, values, othersCpu, pids: server.pids, loadgenStderr: load.stderr };
  } catch (err) {
    return { ...base, ok: false, error: (err as Error).message, values: {}, othersCpu: 0, pids: server?.pids ?? [], loadgenStderr: [] };
  } finally {
    await server?.stop();
  }
}

interface Load {
  /** loadgen's RESULT line, numbers only. */
  readonly result: Readonly<Record<string, number>>;
  readonly error?: string;
  readonly stderr: string[];
  /** The server's highest RSS sampled during the run. */
  readonly peakKiB: number;
  /** hold: the server's RSS near the end of the hold. */
  readonly heldKiB?: number;
}

/** Runs loadgen on the load core against `server`, sampling the server's RSS every 50 ms, as ../shared/bench/harness.py does. */
async function drive(scenario: Scenario, spec: ServerSpec, server: ServerProcess, options: RunOptions): Promise<Load> {
  const args = [...scenario.args, ...(spec.loadgenArgs ?? []), '--host', server.host, '--port', String(server.port), '--timeout', String(scenario.timeoutSeconds - LOADGEN_SLACK_SECONDS)];
  const loadgen = spawn('taskset', ['-c', String(options.loadCore), options.loadgen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  let result: Record<string, number> = {};
  let holdingAt: number | undefined;
  let peakKiB = server.rssKiB() ?? 0;
  let heldKiB: number | undefined;
  createInterface({ input: loadgen.stdout! }).on('line', (line) => {
    if (line.startsWith('RESULT ')) result = parseResult(line);
    else if (line.startsWith('HOLDING ')) holdingAt = performance.now();
  });
  createInterface({ input: loadgen.stderr! }).on('line', (line) => stderr.length < 12 && stderr.push(line));
  const sample = () => {
    const rss = server.rssKiB();
    if (rss === undefined) return;
    peakKiB = Math.max(peakKiB, rss);
    // Read near the end of the hold, once every connection is up and served.
    if (holdingAt !== undefined && performance.now() < holdingAt + (HOLD_SECONDS - 0.3) * 1000) heldKiB = rss;
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  const exited = new Promise<void>((resolve) => loadgen.once('close', () => resolve()));
  const timedOut = await Promise.race([exited.then(() => false), delay(scenario.timeoutSeconds * 1000).then(() => true)]);
  clearInterval(sampler);
  if (timedOut) {
    loadgen.kill('SIGKILL');
    await exited;
  }
  sample();
  return { result, error: timedOut ? `harness timeout (${scenario.timeoutSeconds} s)` : Object.keys(result).length === 0 ? 'no RESULT line from loadgen' : undefined, stderr, peakKiB, heldKiB };
}

function parseResult(line: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const token of line.split(' ').slice(1)) {
    const [key, value] = token.split('=');
    if (value !== undefined && value !== '' && !Number.isNaN(Number(value))) fields[key] = Number(value);
  }
  return fields;
}

/**
 * How much CPU processes other than ours used during a run: the machine's busy time (/proc/stat)
 * minus the server's tree, this process, its reaped children (loadgen) and kernel threads (which do
 * the loopback traffic's softirq work). Tick resolution, 10 ms: only large shares mean anything.
 */
class CpuWatch {
  private readonly start: { at: number; busy: number; ours: number };

  constructor(private readonly server: ServerProcess) {
    this.start = this.snapshot();
  }

  othersShare(): number {
    const end = this.snapshot();
    const wallSeconds = Math.max((end.at - this.start.at) / 1000, 1e-3);
    return Math.max(0, end.busy - this.start.busy - (end.ours - this.start.ours)) / wallSeconds;
  }

  private snapshot(): { at: number; busy: number; ours: number } {
    const [user, nice, system] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 4).map(Number);
    const self = statFields('self');
    // utime, stime, and the children's cutime, cstime: loadgen counts here once it is reaped.
    const mine = (Number(self[11]) + Number(self[12]) + Number(self[13]) + Number(self[14])) / TICKS_PER_SECOND;
    const serverTree = processTree(this.server.pids[0]).reduce((sum, pid) => sum + safeCpuSeconds(pid), 0);
    return { at: performance.now(), busy: (user + nice + system) / TICKS_PER_SECOND, ours: mine + serverTree + kernelThreadSeconds() };
  }
}

function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function safeCpuSeconds(pid: number): number {
  try {
    return cpuMicrosOf(pid) / 1e6;
  } catch {
    return 0;
  }
}

// PF_KTHREAD in the flags field of /proc/PID/stat.
const KERNEL_THREAD_FLAG = 0x00200000;

function kernelThreadSeconds(): number {
  let seconds = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = statFields(Number(entry));
      if (Number(fields[6]) & KERNEL_THREAD_FLAG) seconds += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // gone meanwhile
    }
  }
  return seconds;
}
