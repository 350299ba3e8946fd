// The budget lines `npm run bench` checks: issue #27's (against the design's floor and plain
// Node) and #10's slow-reader bound. Ratios of medians taken in the same run, as the issues state them.

export interface BudgetLine {
  readonly scenario: string;
  readonly metric: string;
  /** The server measured, and the peer it is divided by; no peer for a bound on the server's own figure. */
  readonly server: string;
  readonly peer?: string;
  readonly atLeast?: number;
  readonly atMost?: number;
  readonly issue: string;
}

const againstFloor = (scenario: string, metric: string, bound: Pick<BudgetLine, 'atLeast' | 'atMost'>): BudgetLine => ({ scenario, metric, server: 'rxwire', peer: 'rx-min', ...bound, issue: '#27' });
const againstNode = (scenario: string, metric: string, atLeast: number): BudgetLine => ({ scenario, metric, server: 'rxwire-q', peer: 'raw-node', atLeast, issue: '#27' });

export const BUDGET_LINES: readonly BudgetLine[] = [
  // rxwire with its default logging against the design's floor, which logs alike.
  againstFloor('connect-5000', 'cps', { atLeast: 0.95 }),
  againstFloor('hold-10000', 'kb_per_conn', { atMost: 1.1 }),
  againstFloor('hold-10000', 'rss_hold_mb', { atMost: 1.1 }),
  againstFloor('pingpong-100x2000', 'rtps', { atLeast: 0.98 }),
  againstFloor('pingpong-100x2000', 'p99_us', { atMost: 1.15 }),
  // rxwire -q against plain node:net, which logs nothing.
  againstNode('connect-5000', 'cps', 0.8),
  againstNode('pingpong-1x20000', 'rtps', 0.95),
  againstNode('stream-1x256M', 'mbps', 1.5),
  againstNode('stream-64x8M', 'mbps', 1.5),
  { scenario: 'lines-1x256M', metric: 'mbps', server: 'rxwire-lines', peer: 'raw-node-lines', atLeast: 0.85, issue: '#27' },
  { scenario: 'lines-64x8M', metric: 'mbps', server: 'rxwire-lines', peer: 'raw-node-lines', atLeast: 0.85, issue: '#27' },
  { scenario: 'frames-1x256M', metric: 'mbps', server: 'rxwire-frames', peer: 'raw-node-frames', atLeast: 0.85, issue: '#27' },
  { scenario: 'frames-64x8M', metric: 'mbps', server: 'rxwire-frames', peer: 'raw-node-frames', atLeast: 0.85, issue: '#27' },
  // Backpressure: a reader that reads nothing costs rxwire a bounded buffer, not the writer's bytes.
  { scenario: 'slowread-512M', metric: 'peak_growth_mb', server: 'rxwire', atMost: 64, issue: '#10' },
];

/** The ratio columns of each group's table: what each budget and floor compares. */
export const RATIOS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  upper: [
    ['rxwire', 'rx-min'],
    ['rxwire', 'raw-node-logged'],
    ['rxwire-q', 'raw-node'],
    ['rxwire-q', 'rx-min-quiet'],
    ['rx-min', 'raw-node-logged'],
    ['rx-min-quiet', 'raw-node'],
  ],
  lines: [
    ['rxwire-lines', 'raw-node-lines'],
    ['rxwire-lines', 'rx-min-lines'],
    ['rx-min-lines', 'raw-node-lines'],
    ['rxwire-lines', 'readline-lines'],
  ],
  frames: [
    ['rxwire-frames', 'raw-node-frames'],
    ['rxwire-frames', 'rx-min-frames'],
    ['rx-min-frames', 'raw-node-frames'],
  ],
  proxy: [
    ['rxwire-proxy-v1', 'rxwire'],
    ['rxwire-proxy-v2', 'rxwire'],
  ],
};

export function describeBound(line: BudgetLine): string {
  const what = line.peer === undefined ? line.server : `${line.server}/${line.peer}`;
  return line.atLeast !== undefined ? `${what} ≥ ${line.atLeast}` : `${what} ≤ ${line.atMost}`;
}

export function meets(line: BudgetLine, figure: number): boolean {
  return (line.atLeast === undefined || figure >= line.atLeast) && (line.atMost === undefined || figure <= line.atMost);
}
