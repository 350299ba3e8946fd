import { sleep, until } from './peers';
import { isAlive, ServerUnderTest, Usage } from './server';

// What every row checks the same way: a bystander served, descriptors back to baseline, RSS growth
// within a budget, the process alive, the event's log lines, and no raw control character logged.

const MiB = 1024 * 1024;
const SAMPLE_MS = 100;
// Past the log's own 20 ms buffering: lines of an event are read this long after it.
export const LOG_SETTLE_MS = 300;

export interface Check {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** One row of the table, played: its checks and figures, and its verdict. */
export class RowRun {
  readonly checks: Check[] = [];
  readonly notes: string[] = [];

  constructor(
    readonly id: string,
    readonly title: string,
  ) {}

  check(what: string, ok: boolean, detail: string): boolean {
    this.checks.push({ what, ok, detail });
    return ok;
  }

  note(line: string): void {
    this.notes.push(line);
  }

  get passed(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }
}

/** The server at rest before the attack: its usage, where its log stood, and the peak RSS reset. */
export interface Baseline {
  readonly usage: Usage;
  readonly logFrom: number;
  readonly pid: number;
}

/** One bystander exchange first (so that lazily loaded code is in the baseline), then the figures at rest. */
export async function baseline(server: ServerUnderTest, warmUp: () => Promise<unknown>): Promise<Baseline> {
  await warmUp();
  await sleep(LOG_SETTLE_MS);
  const pid = server.pid;
  server.resetPeak(pid);
  return { usage: server.usage(pid), logFrom: server.stderrLines.length, pid };
}

/** Samples the server's descriptors until `stop()`: the most it held during the attack. */
export function sampleDescriptors(server: ServerUnderTest, pid: number): { stop(): number } {
  let most = 0;
  const timer = setInterval(() => {
    if (isAlive(pid)) most = Math.max(most, server.usage(pid).descriptors);
  }, SAMPLE_MS);
  return {
    stop: () => (clearInterval(timer), most),
  };
}

export function checkServed(run: RowRun, what: string, got: string, expected: string): boolean {
  return run.check(`bystander served (${what})`, got === expected, got === expected ? `${JSON.stringify(short(expected))} answered` : `expected ${JSON.stringify(short(expected))}, got ${JSON.stringify(short(got))}`);
}

/** The server's descriptors back to the baseline within `withinMs` (polled), and how long it took. */
export async function checkDescriptorsBack(run: RowRun, server: ServerUnderTest, base: Baseline, withinMs: number, most?: number): Promise<void> {
  const took = await until(() => !isAlive(base.pid) || server.usage(base.pid).descriptors <= base.usage.descriptors, withinMs);
  const now = isAlive(base.pid) ? server.usage(base.pid).descriptors : NaN;
  const peak = most === undefined ? '' : `, ${most} during the attack`;
  run.check(
    'descriptors back to baseline',
    took !== undefined && isAlive(base.pid),
    took !== undefined ? `${base.usage.descriptors} before${peak}, back to ${now} ${(took / 1000).toFixed(1)} s after` : `${base.usage.descriptors} before${peak}, still ${now} after ${withinMs / 1000} s`,
  );
}

/** RSS growth at its peak (VmHWM) and now, over the baseline, within `budget` bytes. */
export function checkMemory(run: RowRun, server: ServerUnderTest, base: Baseline, budget: number, why: string): void {
  const usage = server.usage(base.pid);
  const peak = usage.peakRssBytes - base.usage.rssBytes;
  const now = usage.rssBytes - base.usage.rssBytes;
  run.check(
    'RSS growth within budget',
    peak <= budget,
    `${mib(base.usage.rssBytes)} before, +${mib(peak)} at peak, ${now >= 0 ? '+' : ''}${mib(now)} now; budget +${mib(budget)} (${why})`,
  );
}

export function checkAlive(run: RowRun, server: ServerUnderTest, base: Baseline): void {
  run.check('process alive', isAlive(base.pid), isAlive(base.pid) ? `pid ${base.pid} still serving` : `pid ${base.pid} is gone: ${server.stderrLines.slice(-2).join(' / ')}`);
}

/**
 * Lines logged since `from` that match `pattern`: as many as `count` (or within [min, max]); one
 * shown. Waits up to LOG_SETTLE_MS for the least count: the server's log lines leave in batches.
 */
export async function checkLog(run: RowRun, server: ServerUnderTest, from: number, what: string, pattern: RegExp, count: number | readonly [number, number]): Promise<string[]> {
  const [min, max] = typeof count === 'number' ? [count, count] : count;
  await until(() => server.linesSince(from, pattern).length >= min, LOG_SETTLE_MS, 20);
  const lines = server.linesSince(from, pattern);
  const wanted = min === max ? `${min}` : `${min}–${max}`;
  run.check(`log: ${what}`, lines.length >= min && lines.length <= max, `${lines.length} line(s), ${wanted} expected${lines[0] ? `; e.g. ${short(lines[0], 160)}` : ''}`);
  return lines;
}

// What escapeLine() writes as \xNN or \uNNNN: a raw one in the log is a forged line or a terminal escape.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** No log line holds a raw control character or line separator. */
export function checkEscaped(run: RowRun, server: ServerUnderTest): void {
  const raw = server.stderrLines.filter((line) => UNSAFE.test(line));
  run.check('log escaped', raw.length === 0, raw.length === 0 ? `${server.stderrLines.length} line(s), none with a raw control character` : `${raw.length} line(s) with raw control characters, e.g. ${JSON.stringify(short(raw[0]!))}`);
}

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

function short(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
