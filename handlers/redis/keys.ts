// SCAN and FLUSHDB/FLUSHALL.

import { RespCommand, RespValue } from 'rxwire';
import { array, error, int64, NOT_INTEGER, OK, SYNTAX, text, word } from './replies';
import { Context } from './session';

export function scan(args: RespCommand, context: Context): RespValue {
  const cursorText = args[1]!;
  if (!/^[0-9]{1,20}$/.test(cursorText) || BigInt(cursorText) >= 2n ** 64n) return error('ERR invalid cursor');
  let count = 10;
  let pattern: string | undefined;
  let type: string | undefined;
  for (let i = 2; i < args.length; i += 2) {
    const option = word(args[i]);
    const value = args[i + 1];
    if (value === undefined) return error(SYNTAX);
    if (option === 'count') {
      const given = int64(value);
      if (given === undefined) return error(NOT_INTEGER);
      if (given < 1n) return error(SYNTAX);
      count = Number(given);
    } else if (option === 'match') {
      pattern = value;
    } else if (option === 'type') {
      type = word(value);
    } else return error(SYNTAX);
  }
  // Every key here is a string; cursors past the last bucket end the scan.
  const cursor = Number(BigInt(cursorText) % 2n ** 32n);
  const { next, keys } = type === undefined || type === 'string' ? context.keyspace.scan(cursor, count, pattern) : { next: 0, keys: [] };
  return array([text(String(next)), array(keys.map(text))]);
}

export function flush(args: RespCommand, { keyspace }: Context): RespValue {
  if (args.length > 2 || (args.length === 2 && word(args[1]) !== 'async' && word(args[1]) !== 'sync')) return error(SYNTAX);
  keyspace.clear();
  return OK;
}
