import { formatFigure } from './format';
import { Run } from './runner';
import { Budget, Metric, Scenario } from './scenarios';
import { Implementation } from './servers/protocol';
import { median } from './stats';

export type Verdict = 'PASS' | 'MISS' | 'SKIP' | 'ERROR';

/** A run during which other processes took more than this share of a core may be off. */
export const DISTURBED_CPU_SHARE = 0.05;

export function disturbed(run: Run): boolean {
  return (run.othersCpu ?? 0) > DISTURBED_CPU_SHARE;
}

/** One implementation's runs of a scenario. */
export interface Side {
  /** The metric, in run order. */
  readonly values: number[];
  readonly median: number;
  /** The median of each detail (latency percentiles, CPU share, …). */
  readonly details: Record<string, number>;
}

export interface ScenarioResult {
  readonly number: string;
  readonly title: string;
  readonly metric: Metric;
  readonly budget: Budget;
  readonly verdict: Verdict;
  /** Why it was skipped or failed. */
  readonly reason?: string;
  readonly rxwire?: Side;
  readonly baseline?: Side;
  /** rxwire's median over the baseline's. */
  readonly ratio?: number;
  readonly runs: readonly Run[];
}

/** Details that get a line of their own under their scenario. */
const DETAIL_LINES: readonly { key: string; label: string; unit: string; better: Metric['better'] }[] = [
  { key: 'p50Micros', label: 'p50 latency', unit: 'µs', better: 'lower' },
  { key: 'p99Micros', label: 'p99 latency', unit: 'µs', better: 'lower' },
];

export function skipped(scenario: Scenario, reason: string): ScenarioResult {
  return { ...describe(scenario), verdict: 'SKIP', reason, runs: [] };
}

export function summarize(scenario: Scenario, runs: readonly Run[]): ScenarioResult {
  const failed = runs.find((run) => run.error !== undefined);
  if (failed) return { ...describe(scenario), verdict: 'ERROR', reason: `${failed.implementation}, round ${failed.round}: ${failed.error}`, runs };
  const rxwire = side(runs, 'rxwire');
  const baseline = side(runs, 'baseline');
  const ratio = rxwire.median / baseline.median;
  const verdict = meetsBudget(scenario.budget, rxwire.median, ratio) ? 'PASS' : 'MISS';
  return { ...describe(scenario), verdict, rxwire, baseline, ratio, runs };
}

function describe({ number, title, metric, budget }: Scenario) {
  return { number, title, metric, budget };
}

function side(runs: readonly Run[], implementation: Implementation): Side {
  const measurements = runs.filter((run) => run.implementation === implementation).map((run) => run.measurement!);
  const values = measurements.map((m) => m.value);
  const details: Record<string, number> = {};
  for (const key of Object.keys(measurements[0]?.details ?? {})) details[key] = median(measurements.map((m) => m.details[key]));
  return { values, median: median(values), details };
}

function meetsBudget(budget: Budget, rxwire: number, ratio: number): boolean {
  switch (budget.kind) {
    case 'ratioAtLeast':
      return ratio >= budget.ratio;
    case 'ratioAtMost':
      return ratio <= budget.ratio;
    case 'rxwireAtMost':
      return rxwire <= budget.value;
  }
}

function describeBudget(budget: Budget, metric: Metric): string {
  switch (budget.kind) {
    case 'ratioAtLeast':
      return `ratio ≥ ${budget.ratio.toFixed(2)}`;
    case 'ratioAtMost':
      return `ratio ≤ ${budget.ratio.toFixed(2)}`;
    case 'rxwireAtMost':
      return `rxwire ≤ ${budget.value} ${metric.unit}`;
  }
}

const arrow = (better: Metric['better']) => (better === 'higher' ? '↑' : '↓');
const percent = (share: number | undefined) => (share === undefined ? '' : `${Math.round(share * 100)}%`);

/** The results as a table: both medians, their ratio, the budget and whether it is met, per scenario. */
export function formatReport(results: readonly ScenarioResult[], rounds: number): string {
  const header = ['#', 'scenario', 'metric', 'rxwire', 'baseline', 'ratio', 'budget', 'result', 'server CPU rx/base'];
  const rows: string[][] = [];
  for (const result of results) {
    const { rxwire, baseline } = result;
    const unit = `${result.metric.unit} ${arrow(result.metric.better)}`;
    const budget = describeBudget(result.budget, result.metric);
    if (rxwire === undefined || baseline === undefined) {
      rows.push([result.number, result.title, unit, '', '', '', budget, result.verdict === 'SKIP' ? `skipped: ${result.reason}` : 'ERROR, see below', '']);
      continue;
    }
    const cpu = 'serverCpu' in rxwire.details ? `${percent(rxwire.details.serverCpu)}/${percent(baseline.details.serverCpu)}` : '';
    rows.push([result.number, result.title, unit, formatFigure(rxwire.median), formatFigure(baseline.median), result.ratio!.toFixed(3), budget, result.verdict, cpu]);
    for (const line of DETAIL_LINES.filter(({ key }) => key in rxwire.details)) {
      const mine = rxwire.details[line.key];
      const theirs = baseline.details[line.key];
      rows.push(['', `  ${line.label}`, `${line.unit} ${arrow(line.better)}`, formatFigure(mine), formatFigure(theirs), (mine / theirs).toFixed(3), '', '', '']);
    }
  }
  const counts = (['PASS', 'MISS', 'SKIP', 'ERROR'] as const)
    .map((verdict) => [verdict, results.filter((r) => r.verdict === verdict).length] as const)
    .filter(([, count]) => count > 0)
    .map(([verdict, count]) => `${count} ${verdict}`);
  return [
    table([header, ...rows]),
    '',
    `Medians of ${rounds} round${rounds === 1 ? '' : 's'}; ratio = rxwire / baseline. ↑ higher is better, ↓ lower is better.`,
    `Budget: ${counts.join(', ')}.`,
    ...results.filter((r) => r.verdict === 'ERROR').map((r) => `Scenario ${r.number} failed: ${r.reason}`),
    ...disturbance(results),
  ].join('\n');
}

function disturbance(results: readonly ScenarioResult[]): string[] {
  const runs = results.flatMap((result) =>
    result.runs.filter(disturbed).map((run) => `${result.number} ${run.implementation} round ${run.round} (${percent(run.othersCpu)})`),
  );
  if (runs.length === 0) return [];
  return [`Other processes took over ${percent(DISTURBED_CPU_SHARE)} of a core during: ${runs.join(', ')}. Rerun on a quiet machine for figures to keep.`];
}

function table(rows: readonly string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const numeric = new Set([3, 4, 5]);
  return rows
    .map((row) =>
      row
        .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
