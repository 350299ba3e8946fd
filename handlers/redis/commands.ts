// The commands the redis handler answers, each a function from its arguments to its reply, with
// Redis's arity and Redis's words for every error, so a client cannot tell the difference. The
// commands with more to them than a line live by family: strings.ts, expiry.ts, keys.ts,
// connection.ts; their replies in replies.ts.

import { RespCommand, RespValue } from 'rxwire';
import { hello, setName } from './connection';
import { expire, ttl } from './expiry';
import { globMatch } from './glob';
import { Keyspace } from './keyspace';
import { flush, scan } from './keys';
import { array, arityError, bulkOrNil, error, int64, integer, map, NOT_INTEGER, OK, ONE, OOM, PONG, text, word, ZERO } from './replies';
import { Command, Context } from './session';
import { increment, incrementBy, set } from './strings';

export type { Context, Session } from './session';
export { error } from './replies';

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
