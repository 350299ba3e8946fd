import { setTimeout as delay } from 'node:timers/promises';
import { formatBytes, formatCount, KiB, MiB } from './format';
import { Dialer, runLimited } from './load/dialer';
import { greet, IdleConnection, oneShot, pingPong, streamEcho } from './load/echo';
import { lengthPrefixedFrames, mixedBytes, Payload, textLines } from './load/payload';
import { ServerProcess } from './serverProcess';
import { FRAME_HEADER_BYTES, Protocol, ServerSetup } from './servers/protocol';
import { percentile } from './stats';

export interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
}

/** Issue #10's budget line for a scenario: a bound on rxwire/baseline, or on rxwire's own figure; none for a comparison of two setups. */
export type Budget =
  | { readonly kind: 'none' }
  | { readonly kind: 'ratioAtLeast'; readonly ratio: number }
  | { readonly kind: 'ratioAtMost'; readonly ratio: number }
  | { readonly kind: 'rxwireAtMost'; readonly value: number };

export interface Measurement {
  /** The scenario's metric. */
  readonly value: number;
  /** Figures kept beside it: latency percentiles, CPU use, memory before and after. */
  readonly details: Readonly<Record<string, number>>;
}

/** The server under test, fresh for each run, and a way to open connections to it. */
export interface Target {
  readonly server: ServerProcess;
  readonly dialer: Dialer;
}

export interface Scenario {
  /** As the README numbers them: 8 is line framing, 9 length-prefixed framing. */
  readonly number: string;
  readonly title: string;
  readonly protocol: Protocol;
  readonly metric: Metric;
  readonly budget: Budget;
  /** A bound on rxwire/baseline of the p99 latency too, for ping-pong. */
  readonly p99Budget?: Budget;
  /** A run that takes longer has failed. */
  readonly timeoutMs: number;
  /** Where the scenario compares two setups of the rxwire server (issue #14): what its rxwire and baseline columns run. */
  readonly setups?: Comparison['setups'];
  run(target: Target): Promise<Measurement>;
}

/** Two setups of the rxwire server side by side instead of rxwire and the bar: `label` says which is which. */
export interface Comparison {
  readonly label: string;
  readonly setups: { readonly rxwire: ServerSetup; readonly baseline: ServerSetup };
}

/** How much work each scenario does: `--quick` scales these down. */
export interface Sizes {
  /** 1, 8a and 9a: bytes through one connection. */
  readonly streamBytes: number;
  /** 2, 8c and 9b: bytes through each of 64 connections. */
  readonly streamBytesEach: number;
  /** 3 and 8b: round trips on one connection. */
  readonly pingPongTrips: number;
  /** 4: round trips on each of 100 connections. */
  readonly pingPongTripsEach: number;
  /** 5: connections opened and closed. */
  readonly connects: number;
  /** 6: connections held open at once. */
  readonly idleConnections: number;
  /** 7: bytes the slow reader's peer writes, and how long it reads nothing. */
  readonly slowReaderBytes: number;
  readonly slowReaderPauseMs: number;
}

const MESSAGE_SIZE = 64;
const GREETING_SIZE = 16;
const CONNECTS_IN_FLIGHT = 50;
const IDLE_DIALS_IN_FLIGHT = 100;
// Deadlines: a fixed allowance plus the work at a rate far below any healthy server's.
const DEADLINE_BASE_MS = 20_000;
const SLOWEST_MiB_PER_S = 5;
const SLOWEST_MS_PER_TRIP = 1;
const SLOWEST_MS_PER_CONNECTION = 2;

export function scenarios(sizes: Sizes): Scenario[] {
  const bytes = mixedBytes();
  const lines = textLines(8, 120);
  const messageLines = textLines(MESSAGE_SIZE, MESSAGE_SIZE);
  const frames = lengthPrefixedFrames(FRAME_HEADER_BYTES, 8, 120);
  return [
    stream('1', 'upper', bytes, 1, sizes.streamBytes, transformBudget),
    stream('2', 'upper', bytes, MANY_STREAMS, sizes.streamBytesEach, transformBudget),
    pingPongs('3', 'upper', bytes, 1, sizes.pingPongTrips),
    pingPongs('4', 'upper', bytes, 100, sizes.pingPongTripsEach, p99Budget),
    connectClose('5', bytes, sizes.connects),
    idle('6', bytes, sizes.idleConnections),
    slowReader('7', bytes, sizes.slowReaderBytes, sizes.slowReaderPauseMs),
    stream('8a', 'lines', lines, 1, sizes.streamBytes, framedBudget),
    pingPongs('8b', 'lines', messageLines, 1, sizes.pingPongTrips),
    stream('8c', 'lines', lines, MANY_STREAMS, sizes.streamBytesEach, framedBudget),
    stream('9a', 'lengthPrefixed', frames, 1, sizes.streamBytes, framedBudget),
    stream('9b', 'lengthPrefixed', frames, MANY_STREAMS, sizes.streamBytesEach, framedBudget),
    connectClose('10a', bytes, sizes.connects, twoWorkers),
    pingPongs('10b', 'upper', bytes, 100, sizes.pingPongTripsEach, undefined, twoWorkers),
    connectClose('11a', bytes, sizes.connects, proxyHeader(1)),
    connectClose('11b', bytes, sizes.connects, proxyHeader(2)),
  ];
}

// Issue #14: both setups may use both cores, which the load generator shares.
const twoWorkers: Comparison = {
  label: '--workers 2 / 1',
  setups: { rxwire: { workers: 2, allCores: true }, baseline: { workers: 1, allCores: true } },
};

function proxyHeader(version: 1 | 2): Comparison {
  return { label: `PROXY v${version} header / none`, setups: { rxwire: { proxyHeader: version }, baseline: {} } };
}

const unbudgeted: Budget = { kind: 'none' };

function compared(title: string, comparison: Comparison | undefined): string {
  return comparison === undefined ? title : `${title}: ${comparison.label}`;
}

const MANY_STREAMS = 64;
// Issue #10: the default handler's transform must beat the plain table loop; framing must cost
// at most 10% over a hand-written framer; messages and connections must be at parity.
const transformBudget: Budget = { kind: 'ratioAtLeast', ratio: 1.3 };
const framedBudget: Budget = { kind: 'ratioAtLeast', ratio: 0.9 };
const parityBudget: Budget = { kind: 'ratioAtLeast', ratio: 0.95 };
const p99Budget: Budget = { kind: 'ratioAtMost', ratio: 1.05 };

function framing(protocol: Protocol): string {
  return { upper: '', lines: ', line-framed', lengthPrefixed: ', length-prefixed' }[protocol];
}

function stream(number: string, protocol: Protocol, payload: Payload, connections: number, requested: number, budget: Budget): Scenario {
  const bytes = payload.fit(requested);
  return {
    number,
    protocol,
    title: `stream, ${connections} conn × ${formatBytes(bytes)}${framing(protocol)}`,
    metric: { name: 'throughput', unit: 'MiB/s', better: 'higher' },
    budget,
    timeoutMs: DEADLINE_BASE_MS + ((connections * bytes) / MiB / SLOWEST_MiB_PER_S) * 1000,
    async run({ server, dialer }) {
      const sockets = await dialer.dialMany(connections);
      const { seconds, details } = await timed(server, () => Promise.all(sockets.map((socket) => streamEcho(socket, payload, bytes))));
      return { value: (connections * bytes) / MiB / seconds, details };
    },
  };
}

function pingPongs(number: string, protocol: Protocol, payload: Payload, connections: number, trips: number, p99?: Budget, comparison?: Comparison): Scenario {
  return {
    number,
    protocol,
    title: compared(`ping-pong, ${connections} conn × ${formatCount(trips)} × ${MESSAGE_SIZE} B${framing(protocol)}`, comparison),
    metric: { name: 'round trips', unit: 'trips/s', better: 'higher' },
    budget: comparison ? unbudgeted : parityBudget,
    p99Budget: p99,
    setups: comparison?.setups,
    timeoutMs: DEADLINE_BASE_MS + connections * trips * SLOWEST_MS_PER_TRIP,
    async run({ server, dialer }) {
      const sockets = await dialer.dialMany(connections);
      const latencies = new Float64Array(connections * trips);
      const { seconds, details } = await timed(server, () =>
        Promise.all(sockets.map((socket, i) => pingPong(socket, payload, trips, MESSAGE_SIZE, latencies.subarray(i * trips, (i + 1) * trips)))),
      );
      const latency = { p50Micros: percentile(latencies, 0.5) * 1000, p99Micros: percentile(latencies, 0.99) * 1000 };
      return { value: (connections * trips) / seconds, details: { ...details, ...latency } };
    },
  };
}

function connectClose(number: string, payload: Payload, connects: number, comparison?: Comparison): Scenario {
  return {
    number,
    protocol: 'upper',
    title: compared(`connect, ${GREETING_SIZE} B each way, close: ${formatCount(connects)}, ${CONNECTS_IN_FLIGHT} in flight`, comparison),
    metric: { name: 'connection rate', unit: 'conn/s', better: 'higher' },
    budget: comparison ? unbudgeted : parityBudget,
    setups: comparison?.setups,
    timeoutMs: DEADLINE_BASE_MS + connects * SLOWEST_MS_PER_CONNECTION,
    async run({ server, dialer }) {
      const { seconds, details } = await timed(server, () =>
        runLimited(connects, CONNECTS_IN_FLIGHT, async () => oneShot(await dialer.dial(), payload, GREETING_SIZE)),
      );
      return { value: connects / seconds, details };
    },
  };
}

function idle(number: string, payload: Payload, connections: number): Scenario {
  return {
    number,
    protocol: 'upper',
    title: `${formatCount(connections)} idle connections, each after a ${GREETING_SIZE} B echo`,
    metric: { name: 'server memory per connection', unit: 'KiB/conn', better: 'lower' },
    budget: { kind: 'ratioAtMost', ratio: 1.1 },
    timeoutMs: DEADLINE_BASE_MS + connections * SLOWEST_MS_PER_CONNECTION,
    async run({ server, dialer }) {
      const before = await server.probe(true);
      const open: IdleConnection[] = [];
      await runLimited(connections, IDLE_DIALS_IN_FLIGHT, async () => {
        open.push(await greet(await dialer.dial(), payload, GREETING_SIZE));
      });
      const held = await server.probe(true);
      await Promise.all(open.map((connection) => connection.close()));
      return {
        value: (held.rss - before.rss) / connections / KiB,
        details: { idleRssMiB: before.rss / MiB, heldRssMiB: held.rss / MiB },
      };
    },
  };
}

function slowReader(number: string, payload: Payload, bytes: number, pauseMs: number): Scenario {
  return {
    number,
    protocol: 'upper',
    title: `slow reader: ${formatBytes(bytes)} written, nothing read for ${pauseMs / 1000} s`,
    metric: { name: 'peak server RSS growth', unit: 'MiB', better: 'lower' },
    budget: { kind: 'rxwireAtMost', value: 64 },
    timeoutMs: DEADLINE_BASE_MS + pauseMs + (bytes / MiB / SLOWEST_MiB_PER_S) * 1000,
    async run({ server, dialer }) {
      const socket = await dialer.dial();
      await server.probe(true);
      await server.resetPeak();
      const before = await server.probe();
      socket.pause();
      const echoed = streamEcho(socket, payload, bytes);
      // `echoed` can only settle this early by failing.
      await Promise.race([delay(pauseMs), echoed]);
      // What the writer got through before it stalled: the server's buffers and both kernels'.
      const stalledAfter = socket.bytesWritten - socket.writableLength;
      const stalled = await server.probe();
      socket.resume();
      await echoed;
      const after = await server.probe();
      return {
        value: (after.peakRss - before.rss) / MiB,
        details: {
          stalledAfterMiB: stalledAfter / MiB,
          // The growth while nothing was read; the rest came when the reader caught up at full speed.
          stallPeakGrowthMiB: (stalled.peakRss - before.rss) / MiB,
          rssBeforeMiB: before.rss / MiB,
        },
      };
    },
  };
}

/**
 * Times `work` and the CPU share both processes spent on it (1 = one core busy all along). A Node
 * server's startup garbage (ts-node compiling its sources) is collected first, so that a full GC
 * of it does not land in one server's measurement and not the other's.
 */
async function timed(server: ServerProcess, work: () => Promise<unknown>): Promise<{ seconds: number; details: Record<string, number> }> {
  const serverBefore = await server.probe(true);
  const loadBefore = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const load = process.cpuUsage(loadBefore);
  const serverAfter = await server.probe();
  return {
    seconds,
    details: {
      seconds,
      serverCpu: (serverAfter.cpuMicros - serverBefore.cpuMicros) / 1e6 / seconds,
      loadCpu: (load.user + load.system) / 1e6 / seconds,
    },
  };
}
