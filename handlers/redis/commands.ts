// The commands the redis handler answers, each a function from its arguments to its reply, with
// Redis's arity and Redis's words for every error, so a client cannot tell the difference.

import { RespCommand, RespValue } from 'rxwire';
import { globMatch } from './glob';
import { Keyspace } from './keyspace';

/** What one connection has chosen: its protocol (HELLO), its name (CLIENT SETNAME), and whether it asked to QUIT. */
export interface Session {
  readonly id: number;
  protocol: 2 | 3;
  /** Latin1, a byte per character, as keys and values are kept. */
  name: string | undefined;
  quit: boolean;
}

export interface Context {
  readonly keyspace: Keyspace;
  readonly session: Session;
}

interface Command {
  /** Redis's arity: N exactly N words, -N at least N, the command's name included. */
  readonly arity: number;
  /** Refused past the memory budget, as Redis's `denyoom` commands are. */
  readonly denyoom?: boolean;
  readonly run: (args: RespCommand, context: Context) => RespValue;
}

// ---- Replies --------------------------------------------------------------------------------

const OK: RespValue = { type: 'simple', value: 'OK' };
const PONG: RespValue = { type: 'simple', value: 'PONG' };
const ZERO: RespValue = { type: 'integer', value: 0n };
const ONE: RespValue = { type: 'integer', value: 1n };
const NOT_INTEGER = 'ERR value is not an integer or out of range';
const SYNTAX = 'ERR syntax error';
export const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** An error reply; CR and LF become spaces, as Redis makes them, so a reply never ends early. */
export const error = (message: string): RespValue => ({ type: 'error', message: message.replace(/[\r\n]/g, ' ') });
const integer = (value: number | bigint): RespValue => ({ type: 'integer', value: BigInt(value) });
/** A bulk string of a latin1 string's bytes: an argument, a stored value, a key. */
const text = (value: string): RespValue => ({ type: 'bulk', value: Buffer.from(value, 'latin1') });
const array = (items: RespValue[]): RespValue => ({ type: 'array', items });
/** A null bulk string in RESP2 (`$-1`), RESP3's null (`_`) once the client said HELLO 3. */
const nil = ({ session }: Context): RespValue => (session.protocol === 3 ? { type: 'null' } : { type: 'bulk', value: null });
/** A stored value (latin1) as a bulk string, or nil for none. */
const bulkOrNil = (value: string | undefined, context: Context) => (value === undefined ? nil(context) : text(value));
/** A map in RESP3; RESP2 has none, and gets its pairs flat in an array, as Redis sends them. */
const map = (pairs: [RespValue, RespValue][], { session }: Context): RespValue =>
  session.protocol === 3 ? { type: 'map', entries: pairs } : array(pairs.flat());

const word = (arg: string | undefined) => arg?.toLowerCase();
const arityError = (name: string) => error(`ERR wrong number of arguments for '${name}' command`);

// ---- Numbers as Redis reads them ----------------------------------------------------------------

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^(?:0|-?[1-9][0-9]{0,19})$/;

/** A 64-bit integer written as Redis's string2ll() takes it (no sign, no spaces, no leading zeros), or undefined. */
function int64(text: string): bigint | undefined {
  if (text.length > 20 || !DECIMAL.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

// ---- Strings ------------------------------------------------------------------------------------

function set(args: RespCommand, context: Context): RespValue {
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
function expiryTime(value: string, unit: bigint, relative: boolean, now: number, positive: boolean): number | string {
  const given = int64(value);
  if (given === undefined) return NOT_INTEGER;
  if ((positive && given <= 0n) || given > INT64_MAX / unit || given < INT64_MIN / unit) return 'invalid';
  const at = given * unit + (relative ? BigInt(now) : 0n);
  if (at > INT64_MAX || (positive && at <= 0n)) return 'invalid';
  return Number(at);
}

function incrementBy(name: string, by: bigint, context: Context): RespValue {
  const { keyspace } = context;
  const old = keyspace.get(name);
  const current = old === undefined ? 0n : int64(old);
  if (current === undefined) return error(NOT_INTEGER);
  const value = current + by;
  if (value < INT64_MIN || value > INT64_MAX) return error('ERR increment or decrement would overflow');
  keyspace.set(name, value.toString(), true);
  return integer(value);
}

function increment(args: RespCommand, context: Context, sign: 1n | -1n): RespValue {
  const by = int64(args[2]!);
  if (by === undefined) return error(NOT_INTEGER);
  if (sign < 0n && by === INT64_MIN) return error('ERR decrement would overflow');
  return incrementBy(args[1]!, sign * by, context);
}

// ---- Expiry -------------------------------------------------------------------------------------

function expire(unit: bigint, name: string) {
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

function ttl(divisor: number) {
  return (args: RespCommand, { keyspace }: Context): RespValue => {
    const key = args[1]!;
    if (!keyspace.has(key)) return integer(-2);
    const at = keyspace.expiryOf(key);
    if (at === undefined) return integer(-1);
    const left = Math.max(0, at - keyspace.now());
    return integer(divisor === 1 ? left : Math.floor((left + 500) / 1000));
  };
}

// ---- Keys ---------------------------------------------------------------------------------------

function scan(args: RespCommand, context: Context): RespValue {
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

function flush(args: RespCommand, { keyspace }: Context): RespValue {
  if (args.length > 2 || (args.length === 2 && word(args[1]) !== 'async' && word(args[1]) !== 'sync')) return error(SYNTAX);
  keyspace.clear();
  return OK;
}

// ---- Connection ---------------------------------------------------------------------------------

/** Sets the connection's name, or says why Redis would not. */
function setName(name: string, session: Session): RespValue | undefined {
  for (let i = 0; i < name.length; i++) {
    const byte = name.charCodeAt(i);
    if (byte < 0x21 || byte > 0x7e) return error('ERR Client names cannot contain spaces, newlines or special characters.');
  }
  session.name = name.length === 0 ? undefined : name;
  return undefined;
}

function hello(args: RespCommand, context: Context): RespValue {
  const { session } = context;
  let protocol = session.protocol;
  if (args.length >= 2) {
    const version = int64(args[1]!);
    if (version === undefined) return error('ERR Protocol version is not an integer or out of range');
    if (version < 2n || version > 3n) return error('NOPROTO unsupported protocol version');
    protocol = Number(version) as 2 | 3;
  }
  let name: string | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = word(args[i]);
    const more = args.length - 1 - i;
    if (option === 'auth' && more >= 2) {
      // There are no users but Redis's default one, which takes any password.
      if (word(args[i + 1]) !== 'default') return error('WRONGPASS invalid username-password pair or user is disabled.');
      i += 2;
    } else if (option === 'setname' && more >= 1) {
      name = args[++i];
    } else return error(`ERR Syntax error in HELLO option '${args[i]!}'`);
  }
  if (name !== undefined) {
    const refused = setName(name, session);
    if (refused) return refused;
  }
  session.protocol = protocol;
  return map(
    [
      [text('server'), text('redis')],
      [text('version'), text(REDIS_VERSION)],
      [text('proto'), integer(protocol)],
      [text('id'), integer(session.id)],
      [text('mode'), text('standalone')],
      [text('role'), text('master')],
      [text('modules'), array([])],
    ],
    context,
  );
}

/** The Redis release whose replies these commands give, word for word. */
export const REDIS_VERSION = '7.0.15';

/** A command with subcommands (CLIENT, CONFIG, COMMAND): each with its own arity, errors named `client|setname`. */
function container(name: string, subcommands: Record<string, Command>): Command {
  return {
    arity: -2,
    run: (args, context) => {
      const sub = word(args[1])!;
      const command = subcommands[sub];
      if (command === undefined) return error(`ERR unknown subcommand '${args[1]!.slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`);
      if (!arityHolds(command.arity, args.length)) return arityError(`${name}|${sub}`);
      return command.run(args, context);
    },
  };
}

const arityHolds = (arity: number, words: number) => (arity >= 0 ? words === arity : words >= -arity);

/** What CONFIG GET answers: what redis-benchmark and clients ask about. */
function configValues(keyspace: Keyspace): [string, string][] {
  return [
    ['appendonly', 'no'],
    ['databases', '1'],
    ['maxmemory', String(keyspace.maxMemory)],
    ['maxmemory-policy', 'noeviction'],
    ['save', ''],
  ];
}

// ---- The table ----------------------------------------------------------------------------------

const commands: Record<string, Command> = {
  ping: {
    arity: -1,
    run: (args) => (args.length > 2 ? arityError('ping') : args.length === 2 ? text(args[1]!) : PONG),
  },
  echo: { arity: 2, run: (args) => text(args[1]!) },
  hello: { arity: -1, run: hello },
  select: {
    arity: 2,
    run: (args) => {
      const index = int64(args[1]!);
      if (index === undefined || index > 2n ** 31n - 1n || index < -(2n ** 31n)) return error(NOT_INTEGER);
      return index === 0n ? OK : error('ERR DB index is out of range');
    },
  },
  quit: {
    arity: -1,
    run: (_, { session }) => {
      session.quit = true;
      return OK;
    },
  },
  get: { arity: 2, run: (args, context) => bulkOrNil(context.keyspace.get(args[1]!), context) },
  set: { arity: -3, denyoom: true, run: set },
  getdel: {
    arity: 2,
    run: (args, context) => {
      const key = args[1]!;
      const value = context.keyspace.get(key);
      if (value !== undefined) context.keyspace.delete(key);
      return bulkOrNil(value, context);
    },
  },
  del: { arity: -2, run: (args, { keyspace }) => integer(args.slice(1).filter((key) => keyspace.has(key) && keyspace.delete(key)).length) },
  exists: { arity: -2, run: (args, { keyspace }) => integer(args.slice(1).filter((key) => keyspace.has(key)).length) },
  incr: { arity: 2, denyoom: true, run: (args, context) => incrementBy(args[1]!, 1n, context) },
  decr: { arity: 2, denyoom: true, run: (args, context) => incrementBy(args[1]!, -1n, context) },
  incrby: { arity: 3, denyoom: true, run: (args, context) => increment(args, context, 1n) },
  decrby: { arity: 3, denyoom: true, run: (args, context) => increment(args, context, -1n) },
  append: {
    arity: 3,
    denyoom: true,
    run: (args, { keyspace }) => {
      const key = args[1]!;
      const old = keyspace.get(key);
      // Copied into one flat string: a chain of appends kept as V8 cons strings would cost a node each.
      const value = old === undefined ? args[2]! : Buffer.from(old + args[2]!, 'latin1').toString('latin1');
      keyspace.set(key, value, true);
      return integer(value.length);
    },
  },
  strlen: { arity: 2, run: (args, { keyspace }) => integer(keyspace.get(args[1]!)?.length ?? 0) },
  mget: { arity: -2, run: (args, context) => array(args.slice(1).map((key) => bulkOrNil(context.keyspace.get(key), context))) },
  mset: {
    arity: -3,
    denyoom: true,
    run: (args, { keyspace }) => {
      if (args.length % 2 === 0) return arityError('mset');
      for (let i = 1; i < args.length; i += 2) keyspace.set(args[i]!, args[i + 1]!);
      return OK;
    },
  },
  expire: { arity: -3, run: expire(1000n, 'expire') },
  pexpire: { arity: -3, run: expire(1n, 'pexpire') },
  ttl: { arity: 2, run: ttl(1000) },
  pttl: { arity: 2, run: ttl(1) },
  persist: {
    arity: 2,
    run: (args, { keyspace }) => {
      const key = args[1]!;
      return keyspace.has(key) && keyspace.persist(key) ? ONE : ZERO;
    },
  },
  keys: { arity: 2, run: (args, { keyspace }) => array(keyspace.keys(args[1]!).map(text)) },
  scan: { arity: -2, run: scan },
  type: { arity: 2, run: (args, { keyspace }) => ({ type: 'simple', value: keyspace.has(args[1]!) ? 'string' : 'none' }) },
  dbsize: { arity: 1, run: (_, { keyspace }) => integer(keyspace.size) },
  flushdb: { arity: -1, run: flush },
  flushall: { arity: -1, run: flush },
  client: container('client', {
    setname: { arity: 3, run: (args, { session }) => setName(args[2]!, session) ?? OK },
    getname: { arity: 2, run: (_, context) => bulkOrNil(context.session.name, context) },
    id: { arity: 2, run: (_, { session }) => integer(session.id) },
  }),
  config: container('config', {
    get: {
      arity: -3,
      run: (args, context) => {
        const patterns = args.slice(2).map((pattern) => pattern.toLowerCase());
        const found = configValues(context.keyspace).filter(([name]) => patterns.some((pattern) => globMatch(pattern, name, true)));
        return map(
          found.map(([name, value]) => [text(name), text(value)]),
          context,
        );
      },
    },
  }),
  command: container('command', {
    count: { arity: 2, run: () => integer(Object.keys(commands).length) },
  }),
};

/** Each command's name as clients send it, lower or upper case: a lookup, not a lower-cased copy per command. */
const NAMES = new Map(Object.keys(commands).flatMap((name) => [[name, name] as const, [name.toUpperCase(), name] as const]));

/** Runs one command (its name and arguments, latin1) and gives its reply. */
export function execute(args: RespCommand, context: Context): RespValue {
  const name = NAMES.get(args[0]!) ?? args[0]!.toLowerCase();
  const command = Object.hasOwn(commands, name) ? commands[name]! : undefined;
  if (command === undefined || (name === 'command' && args.length === 1)) return unknownCommand(args);
  if (!arityHolds(command.arity, args.length)) return arityError(name);
  if (command.denyoom) {
    let incoming = 0;
    for (const arg of args) incoming += arg.length;
    if (context.keyspace.wouldExceed(incoming)) return error(OOM);
  }
  return command.run(args, context);
}

/** Redis's line for a command it does not have, quoting the first 128 characters of the arguments. */
function unknownCommand(args: RespCommand): RespValue {
  let quoted = '';
  for (const arg of args.slice(1)) {
    if (quoted.length >= 128) break;
    quoted += `'${arg.slice(0, 128 - quoted.length)}' `;
  }
  return error(`ERR unknown command '${args[0]!.slice(0, 128)}', with args beginning with: ${quoted}`);
}
