import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatCount } from './format';
import { ephemeralPorts, openFileLimit } from './machine';

export const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--only NAME,…] [--noisy-retries N] [--profile]

  --quick            one round instead of three (the same sizes as ../shared/bench --quick)
  --rounds N         rounds per scenario, each server fresh in each (1 to 20; default 3)
  --only LIST        only these scenarios, by name: stream-1x256M, stream-64x8M, pingpong-1x20000,
                     pingpong-100x2000, connect-5000, connect-warm-5000, hold-10000, slowread-512M,
                     lines-1x256M, lines-64x8M, frames-1x256M, frames-64x8M, proxy-connect-5000
  --noisy-retries N  redo a run up to N times (0 to 5; default 2) while other processes use over
                     10% of a CPU during it, keeping the quietest
  --profile          record a CPU profile of each Node server (node --cpu-prof) into
                     bench/profiles/; read one with bench/profile.ts`;

const HOLD_CONNECTIONS = 10_000;
// Descriptors and ports kept free for everything but the held connections.
const SPARE_FILES = 256;
const SPARE_PORTS = 1024;

export interface Plan {
  readonly rounds: number;
  /** Scenario names to run; undefined for all. */
  readonly only?: readonly string[];
  readonly noisyRetries: number;
  readonly profileDir?: string;
  readonly holdConnections: number;
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
        'noisy-retries': { type: 'string' },
        profile: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    return { exitCode: 2, message: `bench: ${(err as Error).message}\n${USAGE}` };
  }
  if (values.help) return { exitCode: 0, message: USAGE };
  const rounds = values.rounds === undefined ? (values.quick ? 1 : 3) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) {
    return { exitCode: 2, message: `bench: --rounds: expected a whole number from 1 to 20, got ${values.rounds}` };
  }
  const noisyRetries = values['noisy-retries'] === undefined ? 2 : Number(values['noisy-retries']);
  if (!Number.isInteger(noisyRetries) || noisyRetries < 0 || noisyRetries > 5) {
    return { exitCode: 2, message: `bench: --noisy-retries: expected a whole number from 0 to 5, got ${values['noisy-retries']}` };
  }
  const notes: string[] = [];
  const holdConnections = Math.min(HOLD_CONNECTIONS, openFileLimit() - SPARE_FILES, ephemeralPorts() - SPARE_PORTS);
  if (holdConnections < HOLD_CONNECTIONS) {
    notes.push(
      `hold-10000 holds ${formatCount(holdConnections)} connections, not ${formatCount(HOLD_CONNECTIONS)}: ` +
        `raise the open-file limit (ulimit -Hn, now ${openFileLimit()}) or net.ipv4.ip_local_port_range (${formatCount(ephemeralPorts())} ports)`,
    );
  }
  return {
    rounds,
    only: values.only?.split(',').map((name) => name.trim()),
    noisyRetries,
    profileDir: values.profile ? path.resolve(__dirname, 'profiles') : undefined,
    holdConnections,
    notes,
  };
}
