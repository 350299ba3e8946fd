import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatCount, MiB } from './format';
import { ephemeralPorts, openFileLimit } from './machine';
import { Sizes } from './scenarios';

export const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--only 1,3,8b] [--profile]

  --quick      smaller volumes and one round: under 2 minutes
  --rounds N   rounds of rxwire, baseline, asyncio per scenario (default 3, 1 with --quick)
  --only LIST  run only these scenarios, by number (1 … 7, 8a, 8b, 8c, 9a, 9b, 10a, 10b, 11a, 11b)
  --profile    record a CPU profile of each server while it serves (V8's, as node --cpu-prof),
               into bench/profiles/; read one with bench/profile.ts`;

const FULL: Sizes = {
  streamBytes: 256 * MiB,
  streamBytesEach: 8 * MiB,
  pingPongTrips: 20_000,
  pingPongTripsEach: 2_000,
  connects: 5_000,
  idleConnections: 10_000,
  slowReaderBytes: 512 * MiB,
  slowReaderPauseMs: 5_000,
};

const QUICK: Sizes = {
  streamBytes: 64 * MiB,
  streamBytesEach: 2 * MiB,
  pingPongTrips: 5_000,
  pingPongTripsEach: 500,
  connects: 2_000,
  idleConnections: 5_000,
  slowReaderBytes: 128 * MiB,
  slowReaderPauseMs: 2_000,
};

// Descriptors and ports kept free for everything but the idle connections.
const SPARE_FILES = 256;
const SPARE_PORTS = 1024;

export interface Plan {
  readonly mode: 'full' | 'quick';
  readonly rounds: number;
  readonly sizes: Sizes;
  /** Scenario numbers to run; undefined for all. */
  readonly only?: ReadonlySet<string>;
  readonly profileDir?: string;
  /** Where the machine made the plan smaller than asked, in a line each. */
  readonly notes: readonly string[];
}

/** Instead of a plan: the usage (code 0), or a line saying what is wrong with the flags (code 2). */
export interface Exit {
  readonly exitCode: 0 | 2;
  readonly message: string;
}

export function planFromArgs(argv: string[]): Plan | Exit {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        rounds: { type: 'string' },
        only: { type: 'string' },
        profile: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    return { exitCode: 2, message: `bench: ${(err as Error).message}\n${USAGE}` };
  }
  if (values.help) return { exitCode: 0, message: USAGE };
  const rounds = values.rounds === undefined ? (values.quick ? 1 : 3) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 15) {
    return { exitCode: 2, message: `bench: --rounds: expected a whole number from 1 to 15, got ${values.rounds}` };
  }
  const notes: string[] = [];
  const requested = values.quick ? QUICK : FULL;
  const idleConnections = Math.min(requested.idleConnections, openFileLimit() - SPARE_FILES, ephemeralPorts() - SPARE_PORTS);
  if (idleConnections < requested.idleConnections) {
    notes.push(
      `scenario 6 holds ${formatCount(idleConnections)} connections, not ${formatCount(requested.idleConnections)}: ` +
        `raise the open-file limit (ulimit -Hn, now ${openFileLimit()}) or net.ipv4.ip_local_port_range (${formatCount(ephemeralPorts())} ports)`,
    );
  }
  return {
    mode: values.quick ? 'quick' : 'full',
    rounds,
    sizes: { ...requested, idleConnections },
    only: values.only === undefined ? undefined : new Set(values.only.split(',').map((n) => n.trim())),
    profileDir: values.profile ? path.resolve(__dirname, 'profiles') : undefined,
    notes,
  };
}
