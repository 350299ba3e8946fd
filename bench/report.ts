import { formatFigure } from './format';
import { Run } from './runner';
import { Budget, Metric, Scenario } from './scenarios';
import { Implementation } from './servers/protocol';
import { median } from './stats';

/** INFO: a comparison of two rxwire setups, which has no budget line. */
export type Verdict = 'PASS' | 'MISS' | 'SKIP' | 'ERROR' | 'INFO';

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
  readonly p99Budget?: Budget;
  readonly verdict: Verdict;
  /** Why it was skipped or failed. */
  readonly reason?: string;
  readonly rxwire?: Side;
  readonly baseline?: Side;
  /** For scale: not part of the budget; absent where python3 is not. */
  readonly asyncio?: Side;
  /** rxwire's median over the baseline's. */
  readonly ratio?: number;
  readonly runs: readonly Run[];
}

/** Details that get a line of their own under their scenario. */
const DETAIL_LINES: readonly { key: string; label: string; unit: string; better: Metric['better'] }[] = [
  { key: 'p50Micros', label: 'p50 latency', unit: 'µs', better: 'lower' },
  { key: 'p99Micros', label: 'p99 latency', unit: 'µs', better: 'lower' },
];

export function summarize(scenario: Scenario, runs: readonly Run[]): ScenarioResult {
  const failed = runs.find((run) => run.error !== undefined);
  if (failed) return { ...describe(scenario), verdict: 'ERROR', reason: `${failed.implementation}, round ${failed.round}: ${failed.error}`, runs };
  const rxwire = side(runs, 'rxwire')!;
  const baseline = side(runs, 'baseline')!;
  const ratio = rxwire.median / baseline.median;
  const p99Met = scenario.p99Budget === undefined || meetsBudget(scenario.p99Budget, NaN, p99Ratio(rxwire, baseline));
  const verdict = scenario.budget.kind === 'none' ? 'INFO' : meetsBudget(scenario.budget, rxwire.median, ratio) && p99Met ? 'PASS' : 'MISS';
  return { ...describe(scenario), verdict, rxwire, baseline, asyncio: side(runs, 'asyncio'), ratio, runs };
}

function describe({ number, title, metric, budget, p99Budget }: Scenario) {
  return { number, title, metric, budget, p99Budget };
}

function p99Ratio(rxwire: Side, baseline: Side): number {
  return rxwire.details.p99Micros / baseline.details.p99Micros;
}

function side(runs: readonly Run[], implementation: Implementation): Side | undefined {
  const measurements = runs.filter((run) => run.implementation === implementation).map((run) => run.measurement!);
  if (measurements.length === 0) return undefined;
  const values = measurements.map((m) => m.value);
  const details: Record<string, number> = {};
  for (const key of Object.keys(measurements[0]?.details ?? {})) details[key] = median(measurements.map((m) => m.details[key]));
  return { values, median: median(values), details };
}

function meetsBudget(budget: Budget, rxwire: number, ratio: number): boolean {
  switch (budget.kind) {
    case 'none':
      return true;
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
    case 'none':
      return '';
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

/** The results as a table: the medians, rxwire's ratio to the baseline, the budget and whether it is met, asyncio's for scale. */
export function formatReport(results: readonly ScenarioResult[], rounds: number): string {
  const header = ['#', 'scenario', 'metric', 'rxwire', 'baseline', 'ratio', 'budget', 'result', 'asyncio', 'py/base', 'server CPU rx/base/py'];
  const rows: string[][] = [];
  for (const result of results) {
    const { rxwire, baseline, asyncio } = result;
    const unit = `${result.metric.unit} ${arrow(result.metric.better)}`;
    const budget = describeBudget(result.budget, result.metric);
    if (rxwire === undefined || baseline === undefined) {
      rows.push([result.number, result.title, unit, '', '', '', budget, result.verdict === 'SKIP' ? `skipped: ${result.reason}` : 'ERROR, see below', '', '', '']);
      continue;
    }
    const cpu = 'serverCpu' in rxwire.details ? [rxwire, baseline, asyncio].filter((s) => s !== undefined).map((s) => percent(s.details.serverCpu)).join('/') : '';
    const scale = asyncio === undefined ? ['', ''] : [formatFigure(asyncio.median), (asyncio.median / baseline.median).toFixed(3)];
    const mainBudgetMet = meetsBudget(result.budget, rxwire.median, result.ratio!);
    rows.push([result.number, result.title, unit, formatFigure(rxwire.median), formatFigure(baseline.median), result.ratio!.toFixed(3), budget, result.verdict === 'INFO' ? 'INFO' : mainBudgetMet ? 'PASS' : 'MISS', ...scale, cpu]);
    for (const line of DETAIL_LINES.filter(({ key }) => key in rxwire.details)) {
      const mine = rxwire.details[line.key];
      const theirs = baseline.details[line.key];
      const lineBudget = line.key === 'p99Micros' ? result.p99Budget : undefined;
      const judged = lineBudget === undefined ? ['', ''] : [describeBudget(lineBudget, result.metric), meetsBudget(lineBudget, NaN, mine / theirs) ? 'PASS' : 'MISS'];
      const py = asyncio === undefined ? ['', ''] : [formatFigure(asyncio.details[line.key]), (asyncio.details[line.key] / theirs).toFixed(3)];
      rows.push(['', `  ${line.label}`, `${line.unit} ${arrow(line.better)}`, formatFigure(mine), formatFigure(theirs), (mine / theirs).toFixed(3), ...judged, ...py, '']);
    }
  }
  const counts = (['PASS', 'MISS', 'SKIP', 'ERROR', 'INFO'] as const)
    .map((verdict) => [verdict, results.filter((r) => r.verdict === verdict).length] as const)
    .filter(([, count]) => count > 0)
    .map(([verdict, count]) => `${count} ${verdict}`);
  return [
    table([header, ...rows]),
    '',
    `Medians of ${rounds} round${rounds === 1 ? '' : 's'}; ratio = rxwire / baseline, py/base = asyncio / baseline (for scale, not budgeted). ↑ higher is better, ↓ lower is better.`,
    'INFO rows compare two rxwire setups (issue #14): the rxwire column is the first named after the colon, the baseline column the second.',
    `Budget (a scenario passes when all its budget lines do): ${counts.join(', ')}.`,
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
  const numeric = new Set([3, 4, 5, 8, 9]);
  return rows
    .map((row) =>
      row
        .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
