import { BUDGET_LINES, BudgetLine, describeBound, meets, RATIOS } from './budgets';
import { NOISY_CPU_SHARE, percent, Run } from './runner';
import { Scenario } from './scenarios';
import { ServerSpec } from './servers';
import { median } from './stats';

export type Verdict = 'PASS' | 'MISS' | 'ERROR';

export interface BudgetResult extends BudgetLine {
  readonly figure?: number;
  readonly verdict: Verdict;
  /** Some run it rests on had other processes using over 10% of a CPU: not a figure to keep. */
  readonly noisy: boolean;
}

export const noisy = (run: Run): boolean => run.othersCpu > NOISY_CPU_SHARE;

/** The median of `metric` over the good runs of `server` in `scenario`; undefined if there are none. */
function medianOf(runs: readonly Run[], scenario: string, server: string, metric: string): number | undefined {
  const values = runs.filter((r) => r.scenario === scenario && r.server === server && r.ok && metric in r.values).map((r) => r.values[metric]);
  return values.length === 0 ? undefined : median(values);
}

/** Each budget line whose scenario ran, judged on the medians. */
export function judgeBudgets(runs: readonly Run[]): BudgetResult[] {
  const ran = new Set(runs.map((r) => r.scenario));
  return BUDGET_LINES.filter((line) => ran.has(line.scenario)).map((line) => {
    const mine = medianOf(runs, line.scenario, line.server, line.metric);
    const theirs = line.peer === undefined ? 1 : medianOf(runs, line.scenario, line.peer, line.metric);
    const involved = runs.filter((r) => r.scenario === line.scenario && (r.server === line.server || r.server === line.peer));
    const figure = mine === undefined || theirs === undefined || theirs === 0 ? undefined : mine / theirs;
    const verdict: Verdict = figure === undefined ? 'ERROR' : meets(line, figure) ? 'PASS' : 'MISS';
    return { ...line, figure, verdict, noisy: involved.some(noisy) };
  });
}

/** A group's table as ../shared/bench prints it: medians per server, then the ratios of RATIOS. */
export function formatGroupTable(scenarios: readonly Scenario[], servers: readonly ServerSpec[], runs: readonly Run[]): string {
  const names = servers.map((s) => s.name);
  const ratios = (RATIOS[scenarios[0].group] ?? []).filter(([a, b]) => names.includes(a) && names.includes(b));
  const header = ['scenario', 'metric', 'better', ...names, ...ratios.map(([a, b]) => `${a}/${b}`)];
  const rows: string[][] = [];
  for (const scenario of scenarios) {
    for (const m of scenario.metrics) {
      const cells = names.map((name) => {
        const mine = runs.filter((r) => r.scenario === scenario.name && r.server === name);
        const value = medianOf(runs, scenario.name, name, m.key);
        const failed = mine.filter((r) => !r.ok).length;
        const noisyRuns = mine.filter(noisy).length;
        return [value === undefined ? 'FAIL' : value.toFixed(m.digits), failed > 0 && value !== undefined ? `(${failed}/${mine.length} FAIL)` : '', noisyRuns > 0 ? `(${noisyRuns} noisy)` : '']
          .filter(Boolean)
          .join(' ');
      });
      const ratioCells = ratios.map(([a, b]) => {
        const x = medianOf(runs, scenario.name, a, m.key);
        const y = medianOf(runs, scenario.name, b, m.key);
        return x === undefined || !y ? '-' : (x / y).toFixed(2);
      });
      rows.push([scenario.title, m.label, m.better, ...cells, ...ratioCells]);
    }
  }
  return markdownTable([header, ...rows]);
}

export function formatBudgets(results: readonly BudgetResult[]): string {
  if (results.length === 0) return 'No budget line among the scenarios run.';
  const rows = results.map((r) => [r.issue, r.scenario, r.metric, describeBound(r), r.figure === undefined ? '-' : r.figure.toFixed(r.peer === undefined ? 1 : 2), r.noisy ? `${r.verdict} (noisy)` : r.verdict]);
  const counts = (['PASS', 'MISS', 'ERROR'] as const).map((v) => `${results.filter((r) => r.verdict === v).length} ${v}`).join(', ');
  return [markdownTable([['issue', 'scenario', 'metric', 'budget', 'figure', 'verdict'], ...rows]), '', `Budget: ${counts}.`].join('\n');
}

export function formatNoise(runs: readonly Run[]): string {
  const spoiled = runs.filter(noisy);
  if (spoiled.length === 0) return `Other processes' CPU use stayed below ${percent(NOISY_CPU_SHARE)} of a CPU in every run.`;
  const worst = Math.max(...spoiled.map((r) => r.othersCpu));
  return `NOTE: ${spoiled.length} of ${runs.length} runs had other processes using over ${percent(NOISY_CPU_SHARE)} of a CPU (up to ${percent(worst)}): noisy figures, rerun on a quiet machine.`;
}

function markdownTable(rows: readonly string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
