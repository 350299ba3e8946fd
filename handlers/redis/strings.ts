// SET, INCR and their kind: the string commands with more to them than a lookup.

import { RespCommand, RespValue } from 'rxwire';
import { bulkOrNil, error, INT64_MAX, INT64_MIN, int64, integer, nil, NOT_INTEGER, OK, SYNTAX, word } from './replies';
import { Context } from './session';

export function set(args: RespCommand, context: Context): RespValue {
  const { keyspace } = context;
  let nx = false;
  let xx = false;
  let get = false;
  let keepTtl = false;
  let expire: { unit: string; value: string } | undefined;
  for (let i = 3; i < args.length; i++) {
    const option = word(args[i]);
    const next = args[i + 1];
    if (option === 'nx' && !xx) nx = true;
    else if (option === 'xx' && !nx) xx = true;
    else if (option === 'get') get = true;
    else if (option === 'keepttl' && expire === undefined) keepTtl = true;
    else if ((option === 'ex' || option === 'px' || option === 'exat' || option === 'pxat') && !keepTtl && expire === undefined && next !== undefined) {
      expire = { unit: option, value: next };
      i++;
    } else return error(SYNTAX);
  }
  let expiresAt: number | undefined;
  if (expire !== undefined) {
    const at = expiryTime(expire.value, expire.unit === 'ex' || expire.unit === 'exat' ? 1000n : 1n, expire.unit.length === 2, keyspace.now(), true);
    if (typeof at === 'string') return error(at === NOT_INTEGER ? at : `ERR invalid expire time in 'set' command`);
    expiresAt = at;
  }
  const key = args[1]!;
  // A plain SET needs no lookup first (set() drops the old expiry); KEEPTTL must not keep an expired key's.
  const old = nx || xx || get || keepTtl ? keyspace.get(key) : undefined;
  if ((nx && old !== undefined) || (xx && old === undefined)) return get ? bulkOrNil(old, context) : nil(context);
  keyspace.set(key, args[2]!, keepTtl);
  if (expiresAt !== undefined) keyspace.expireAt(key, expiresAt);
  return get ? bulkOrNil(old, context) : OK;
}

/**
 * When an expiry given as `value` × `unit` ms (from now when `relative`) falls, or why it cannot:
 * `NOT_INTEGER`, or `invalid` for a time that is not positive (SET only) or overflows 64 bits.
 */
export function expiryTime(value: string, unit: bigint, relative: boolean, now: number, positive: boolean): number | string {
  const given = int64(value);
  if (given === undefined) return NOT_INTEGER;
  if ((positive && given <= 0n) || given > INT64_MAX / unit || given < INT64_MIN / unit) return 'invalid';
  const at = given * unit + (relative ? BigInt(now) : 0n);
  if (at > INT64_MAX || (positive && at <= 0n)) return 'invalid';
  return Number(at);
}

export function incrementBy(name: string, by: bigint, context: Context): RespValue {
  const { keyspace } = context;
  const old = keyspace.get(name);
  const current = old === undefined ? 0n : int64(old);
  if (current === undefined) return error(NOT_INTEGER);
  const value = current + by;
  if (value < INT64_MIN || value > INT64_MAX) return error('ERR increment or decrement would overflow');
  keyspace.set(name, value.toString(), true);
  return integer(value);
}

export function increment(args: RespCommand, context: Context, sign: 1n | -1n): RespValue {
  const by = int64(args[2]!);
  if (by === undefined) return error(NOT_INTEGER);
  if (sign < 0n && by === INT64_MIN) return error('ERR decrement would overflow');
  return incrementBy(args[1]!, sign * by, context);
}
