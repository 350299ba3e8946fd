// What the bench and a server process it started say to each other over Node's IPC channel.

/** rxwire, the hand-written Node bar it is measured against, and Python's asyncio beside them for scale. */
export const IMPLEMENTATIONS = ['rxwire', 'baseline', 'asyncio'] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];

/**
 * `upper`: every chunk uppercased. `lines`: framed by `\n`, each line uppercased.
 * `lengthPrefixed`: frames behind a 2-byte big-endian length, each payload uppercased.
 */
export const PROTOCOLS = ['upper', 'lines', 'lengthPrefixed'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const FRAME_HEADER_BYTES = 2;

/**
 * How the rxwire server is set up where a scenario compares two of its setups (issue #14) rather
 * than rxwire with the hand-written bar. Given to the server process as JSON in BENCH_SETUP.
 */
export interface ServerSetup {
  /** `serveClustered()` with this many workers instead of `serve()`. */
  readonly workers?: number;
  /** Every connection starts with a PROXY header of this version (`proxyProtocol: true`). */
  readonly proxyHeader?: 1 | 2;
  /** The server's processes may run on both cores, which the load generator shares, not on core 0 alone. */
  readonly allCores?: boolean;
}

export const SETUP_ENV = 'BENCH_SETUP';

/** The server process's own view of its cost, read from /proc/self and `process.cpuUsage()`. */
export interface Probe {
  /** Resident memory now, in bytes. */
  readonly rss: number;
  /** Highest resident memory since start or since the last `resetPeak`, in bytes. */
  readonly peakRss: number;
  /** User plus system CPU time used so far, in microseconds. */
  readonly cpuMicros: number;
}

export type Request = { readonly type: 'probe'; readonly collectGarbage: boolean } | { readonly type: 'resetPeak' } | { readonly type: 'stop' };

export type Reply =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'failed'; readonly reason: string }
  | ({ readonly type: 'probe' } & Probe)
  | { readonly type: 'peakReset' };
