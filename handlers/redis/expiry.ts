// EXPIRE, PEXPIRE, TTL and PTTL.

import { RespCommand, RespValue } from 'rxwire';
import { error, integer, NOT_INTEGER, ONE, word, ZERO } from './replies';
import { Context } from './session';
import { expiryTime } from './strings';

export function expire(unit: bigint, name: string) {
  return (args: RespCommand, { keyspace }: Context): RespValue => {
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    for (const arg of args.slice(3)) {
      const option = word(arg);
      if (option === 'nx') nx = true;
      else if (option === 'xx') xx = true;
      else if (option === 'gt') gt = true;
      else if (option === 'lt') lt = true;
      else return error(`ERR Unsupported option ${arg}`);
    }
    if (nx && (xx || gt || lt)) return error('ERR NX and XX, GT or LT options at the same time are not compatible');
    if (gt && lt) return error('ERR GT and LT options at the same time are not compatible');
    const now = keyspace.now();
    const at = expiryTime(args[2]!, unit, true, now, false);
    if (typeof at === 'string') return error(at === NOT_INTEGER ? at : `ERR invalid expire time in '${name}' command`);
    const key = args[1]!;
    if (!keyspace.has(key)) return ZERO;
    const current = keyspace.expiryOf(key);
    if ((nx && current !== undefined) || (xx && current === undefined)) return ZERO;
    if ((gt && (current === undefined || at <= current)) || (lt && current !== undefined && at >= current)) return ZERO;
    // A time already past deletes the key, as Redis does.
    if (at <= now) keyspace.delete(key);
    else keyspace.expireAt(key, at);
    return ONE;
  };
}

export function ttl(divisor: number) {
  return (args: RespCommand, { keyspace }: Context): RespValue => {
    const key = args[1]!;
    if (!keyspace.has(key)) return integer(-2);
    const at = keyspace.expiryOf(key);
    if (at === undefined) return integer(-1);
    const left = Math.max(0, at - keyspace.now());
    return integer(divisor === 1 ? left : Math.floor((left + 500) / 1000));
  };
}
