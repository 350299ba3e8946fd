// The replies commands give, in Redis's words, and Redis's reading of numbers.

import { RespValue } from 'rxwire';
import { Context } from './session';

export const OK: RespValue = { type: 'simple', value: 'OK' };
export const PONG: RespValue = { type: 'simple', value: 'PONG' };
export const ZERO: RespValue = { type: 'integer', value: 0n };
export const ONE: RespValue = { type: 'integer', value: 1n };
export const NOT_INTEGER = 'ERR value is not an integer or out of range';
export const SYNTAX = 'ERR syntax error';
export const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** An error reply; CR and LF become spaces, as Redis makes them, so a reply never ends early. */
export const error = (message: string): RespValue => ({ type: 'error', message: message.replace(/[\r\n]/g, ' ') });
export const integer = (value: number | bigint): RespValue => ({ type: 'integer', value: BigInt(value) });
/** A bulk string of a latin1 string's bytes: an argument, a stored value, a key. */
export const text = (value: string): RespValue => ({ type: 'bulk', value: Buffer.from(value, 'latin1') });
export const array = (items: RespValue[]): RespValue => ({ type: 'array', items });
/** A null bulk string in RESP2 (`$-1`), RESP3's null (`_`) once the client said HELLO 3. */
export const nil = ({ session }: Context): RespValue => (session.protocol === 3 ? { type: 'null' } : { type: 'bulk', value: null });
/** A stored value (latin1) as a bulk string, or nil for none. */
export const bulkOrNil = (value: string | undefined, context: Context) => (value === undefined ? nil(context) : text(value));
/** A map in RESP3; RESP2 has none, and gets its pairs flat in an array, as Redis sends them. */
export const map = (pairs: [RespValue, RespValue][], { session }: Context): RespValue =>
  session.protocol === 3 ? { type: 'map', entries: pairs } : array(pairs.flat());

export const word = (arg: string | undefined) => arg?.toLowerCase();
export const arityError = (name: string) => error(`ERR wrong number of arguments for '${name}' command`);

// ---- Numbers as Redis reads them ----------------------------------------------------------------

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^(?:0|-?[1-9][0-9]{0,19})$/;

/** A 64-bit integer written as Redis's string2ll() takes it (no sign, no spaces, no leading zeros), or undefined. */
export function int64(text: string): bigint | undefined {
  if (text.length > 20 || !DECIMAL.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}
