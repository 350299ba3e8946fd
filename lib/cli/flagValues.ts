import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../core/defaults';
import { wholeNumber } from '../core/options';
import { recordDirProblem } from '../testing/recordDir';
import { WorkerCount } from '../transports/stream/cluster';

// Codecs for values as the command line gives them: strings, decoded into what the options take.

/** A whole number given as a string such as `"50007"`. */
export function wholeNumberFromString(min: number, max?: number): t.Type<number, string, unknown> {
  const number = wholeNumber(min, max);
  return new t.Type<number, string, unknown>(
    number.name,
    number.is,
    (u, c) =>
      typeof u === 'string' && /^[+-]?\d+$/.test(u) && number.is(Number(u))
        ? t.success(Number(u))
        : t.failure(u, c, `expected ${number.name}`),
    String,
  );
}

const portNumber = wholeNumberFromString(0, 65535);

/** Where the metrics endpoint listens, as `--metrics` gives it. */
export interface MetricsAddress {
  readonly host?: string;
  readonly port: number;
}

/** `--metrics [HOST:]PORT`: `9464`, `127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`; no host means every interface. */
export const metricsAddressFromString = new t.Type<MetricsAddress, string, unknown>(
  '[HOST:]PORT',
  (u): u is MetricsAddress => typeof u === 'object' && u !== null && typeof (u as MetricsAddress).port === 'number',
  (u, c) => {
    const expected = `expected [HOST:]PORT (an IPv6 host in brackets: [::1]:9464) with PORT ${portNumber.name}`;
    if (typeof u !== 'string') return t.failure(u, c, expected);
    const split = /^\[([^\]]+)\]:([^:]*)$/.exec(u) ?? /^([^:[\]]+):([^:]*)$/.exec(u) ?? /^()([^:]*)$/.exec(u);
    const port = split ? portNumber.decode(split[2]) : undefined;
    if (!split || !port || E.isLeft(port)) return t.failure(u, c, expected);
    return t.success(split[1] === '' ? { port: port.right } : { host: split[1]!, port: port.right });
  },
  ({ host, port }) => (host === undefined ? String(port) : `${host.includes(':') ? `[${host}]` : host}:${port}`),
);

const workerNumber = wholeNumberFromString(1, DEFAULTS.maxWorkers);

/** `--workers`: a whole number of workers given as a string, or `auto` (one per core). */
export const workerCountFromString = new t.Type<number | 'auto', string, unknown>(
  WorkerCount.name,
  WorkerCount.is,
  (u, c) => {
    if (u === 'auto') return t.success('auto');
    const count = workerNumber.decode(u);
    return E.isRight(count) ? t.success(count.right) : t.failure(u, c, `expected ${WorkerCount.name}`);
  },
  String,
);

/**
 * A path, decoded to the PEM text of the file it names, read at once (at startup):
 * `pemFile('CERTIFICATE')`, `pemFile('PRIVATE KEY')`. The file must hold such a PEM block.
 */
export function pemFile(block: 'CERTIFICATE' | 'PRIVATE KEY'): t.Type<Buffer, Buffer, unknown> {
  // Keys come as `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`.
  const begins = new RegExp(`-----BEGIN ([A-Z]+ )?${block}-----`);
  return new t.Type<Buffer, Buffer, unknown>(
    `a PEM file holding a ${block}`,
    Buffer.isBuffer,
    (u, c) => {
      if (typeof u !== 'string' || u.length === 0) return t.failure(u, c, 'expected a readable PEM file');
      let text: Buffer;
      try {
        text = readFileSync(u);
      } catch {
        return t.failure(u, c, 'expected a readable PEM file');
      }
      return begins.test(text.toString('latin1')) ? t.success(text) : t.failure(u, c, `expected a PEM file holding a ${block}`);
    },
    (pem) => pem,
  );
}

/** `--record DIR`: a directory that is, or can be made, for session files; checked before anything is made. */
export const recordDir = new t.Type<string, string, unknown>(
  'a directory for session files',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => {
    if (typeof u !== 'string' || u.length === 0) return t.failure(u, c, 'expected a non-empty string');
    const problem = recordDirProblem(u);
    return problem === undefined ? t.success(u) : t.failure(u, c, problem);
  },
  (dir) => dir,
);
