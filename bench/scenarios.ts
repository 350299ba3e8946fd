// The scenarios: ../shared/bench's, with the same loadgen arguments and metrics, so that both
// benches measure alike; plus length-prefixed framing and the PROXY header, which only rxwire's bench runs.
import { Group } from './servers';

export interface Metric {
  readonly key: string;
  readonly label: string;
  readonly better: 'higher' | 'lower';
  readonly digits: number;
}

export interface Scenario {
  /** As `--only` names it, and as ../shared/bench names it where it has it. */
  readonly name: string;
  readonly title: string;
  readonly group: Group;
  readonly kind: 'stream' | 'pingpong' | 'connect' | 'hold' | 'slowread';
  /** loadgen's arguments before `--host`, `--port`, `--timeout`. */
  readonly args: readonly string[];
  /** loadgen's arguments for a run first made on the same server and not measured: its warm-up. */
  readonly warmUp?: readonly string[];
  /** A run that takes longer has failed; loadgen's own deadline is 10 s shorter. */
  readonly timeoutSeconds: number;
  readonly metrics: readonly Metric[];
}

export const HOLD_SECONDS = 3;
const SLOW_READ_PAUSE_SECONDS = 5;

const metric = (key: string, label: string, better: Metric['better'], digits = 1): Metric => ({ key, label, better, digits });
const MBPS = metric('mbps', 'MB/s', 'higher');
const ROUND_TRIP_METRICS = [
  metric('rtps', 'round trips/s', 'higher', 0),
  metric('p50_us', 'p50 latency µs', 'lower'),
  metric('p99_us', 'p99 latency µs', 'lower'),
  metric('cpu_us_per_rt', 'server CPU µs/round trip', 'lower'),
];

/** Every scenario, in the order they run; `holdConnections` is what the machine allows of the 10,000 (see plan.ts). */
export function allScenarios(holdConnections: number): Scenario[] {
  const stream = (group: 'upper' | 'lines' | 'frames', payload: string[], conns: number, bytes: string, timeoutSeconds = 120): Scenario => {
    const prefix = { upper: 'stream', lines: 'lines', frames: 'frames' }[group];
    return {
      name: `${prefix}-${conns}x${bytes}`,
      title: `${prefix} ${conns} conn${conns === 1 ? '' : 's'} x ${bytes.replace('M', ' MB')}`,
      group,
      kind: 'stream',
      args: ['stream', ...payload, '--conns', String(conns), '--bytes', bytes],
      timeoutSeconds,
      metrics: [MBPS],
    };
  };
  const connect: Scenario = {
    name: 'connect-5000',
    title: 'connect 5000, concurrency 50',
    group: 'upper',
    kind: 'connect',
    args: ['connect', '--count', '5000', '--conns', '50'],
    timeoutSeconds: 90,
    metrics: [metric('cps', 'connections/s', 'higher', 0), metric('cpu_us_per_conn', 'server CPU µs/conn', 'lower')],
  };
  return [
    stream('upper', [], 1, '256M'),
    stream('upper', [], 64, '8M'),
    {
      name: 'pingpong-1x20000',
      title: 'pingpong 1 conn x 20000 rt x 64 B',
      group: 'upper',
      kind: 'pingpong',
      args: ['pingpong', '--conns', '1', '--rounds', '20000', '--msg', '64', '--spin'],
      timeoutSeconds: 120,
      metrics: ROUND_TRIP_METRICS,
    },
    {
      name: 'pingpong-100x2000',
      title: 'pingpong 100 conns x 2000 rt x 64 B',
      group: 'upper',
      kind: 'pingpong',
      args: ['pingpong', '--conns', '100', '--rounds', '2000', '--msg', '64'],
      timeoutSeconds: 150,
      metrics: ROUND_TRIP_METRICS,
    },
    connect,
    {
      name: 'hold-10000',
      title: `hold ${holdConnections} conns, ${HOLD_SECONDS} s`,
      group: 'upper',
      kind: 'hold',
      args: ['hold', '--conns', String(holdConnections), '--hold', String(HOLD_SECONDS)],
      timeoutSeconds: 120,
      metrics: [metric('kb_per_conn', 'RSS KB/conn over idle', 'lower', 2), metric('rss_hold_mb', 'server RSS MB while holding', 'lower'), metric('served', 'conns served', 'higher', 0)],
    },
    {
      name: 'slowread-512M',
      title: `slowread 512 MB, ${SLOW_READ_PAUSE_SECONDS} s not reading`,
      group: 'upper',
      kind: 'slowread',
      args: ['slowread', '--bytes', '512M', '--pause', String(SLOW_READ_PAUSE_SECONDS)],
      timeoutSeconds: 150,
      metrics: [metric('peak_rss_mb', 'peak server RSS MB', 'lower'), metric('peak_growth_mb', 'peak RSS MB over idle', 'lower'), metric('paused_mb', 'MB taken while unread', 'lower')],
    },
    stream('lines', ['--lines'], 1, '256M', 150),
    stream('lines', ['--lines'], 64, '8M', 150),
    stream('frames', ['--frames'], 1, '256M', 150),
    stream('frames', ['--frames'], 64, '8M', 150),
    // The same, on a server that has taken 10,000 connections first: connect-5000 is a fresh
    // server's first second, most of it V8 compiling the connection's path; this is its pace after.
    { ...connect, name: 'connect-warm-5000', title: 'connect 5000 after 10000, concurrency 50', warmUp: ['connect', '--count', '10000', '--conns', '50'] },
    { ...connect, name: 'proxy-connect-5000', title: 'connect 5000, concurrency 50, PROXY header or none', group: 'proxy' },
  ];
}
