import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { InvalidOption } from './errors';

// Every public function that takes options checks them here, when it is called: an unknown key
// or a bad value is one InvalidOption line naming it (`serve: idleMs: expected …`).

// ---- Errors as one line -------------------------------------------------------------------

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  let text: string;
  try {
    // Methods shown, not dropped: an object with only some of those asked for is not `{}`.
    text = JSON.stringify(value, (_key, member: unknown) => (typeof member === 'function' ? '[function]' : member)) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value); // a cycle, or a BigInt inside: `[object Object]`
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The path to the value an io-ts error is about, as `a.b[2]`: keys that only name a member of
 * a union or an intersection are left out, since the data has no such step.
 */
export function errorPath(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]!.type;
    if (parent instanceof t.UnionType || parent instanceof t.IntersectionType) continue;
    const key = context[i]!.key;
    if (key === '') continue; // a step into a wrapped type, not into the data
    const indexed = /^\d+$/.test(key) && (parent instanceof t.ArrayType || parent instanceof t.TupleType);
    path += indexed ? `[${key}]` : path ? `.${key}` : key;
  }
  return path;
}

/**
 * One readable line for the first failure: `a: expected number, got "x"`. A failure whose message
 * is a whole sentence (`unknown option "x"`) is given as it is.
 */
export function formatErrors(errors: t.Errors, name: (path: string) => string = (path) => path): string {
  const [first] = errors;
  if (!first) return 'invalid value';
  const where = name(errorPath(first.context));
  const prefix = where ? `${where}: ` : '';
  if (first.message !== undefined && !first.message.startsWith('expected ')) return `${prefix}${first.message}`;
  const expected = first.message ?? `expected ${first.context[first.context.length - 1]!.type.name}`;
  return `${prefix}${expected}, got ${describe(first.value)}`;
}

/** Decodes a function's options, or throws InvalidOption: `serve: port: expected …, got 70000`. */
export function decodeOptions<A, O>(fn: string, codec: t.Type<A, O, unknown>, value: unknown): A {
  return pipe(
    codec.decode(value),
    E.getOrElseW((errors) => {
      throw new InvalidOption(`${fn}: ${formatErrors(errors)}`);
    }),
  );
}

// ---- Objects that refuse unknown keys ---------------------------------------------------------

/** Edits to turn `a` into `b` (Levenshtein), for suggesting the key a typo meant. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** The known key a typo most likely meant: a few edits away (`maxLen`), or the same start (`idleTimeout` → `idleMs`). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const scored = known.map((k) => ({ k, edits: distance(lower, k.toLowerCase()), prefix: commonPrefix(lower, k.toLowerCase()) }));
  const byEdits = scored.filter((s) => s.edits <= Math.max(2, Math.floor(key.length / 3))).sort((a, b) => a.edits - b.edits)[0];
  if (byEdits) return byEdits.k;
  return scored.filter((s) => s.prefix >= 3).sort((a, b) => b.prefix - a.prefix)[0]?.k;
}

/**
 * An options object: `required` keys, `optional` ones, and no others. An unknown key fails as
 * `unknown option "idleTimeout" (did you mean "idleMs"?)`, so a typo cannot silently drop a limit.
 */
export function strictOptions<R extends t.Props, P extends t.Props>(
  required: R,
  optional: P,
): t.Type<t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<P>>, t.OutputOf<t.TypeC<R>> & t.OutputOf<t.PartialC<P>>, unknown> {
  const known = [...Object.keys(required), ...Object.keys(optional)];
  const shape = t.intersection([t.type(required), t.partial(optional)]);
  return new t.Type(
    'options',
    shape.is,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, 'expected an options object');
      for (const key of Object.keys(u)) {
        if (known.includes(key)) continue;
        const meant = closestKey(key, known);
        return t.failure(u, c, `unknown option "${key}"${meant ? ` (did you mean "${meant}"?)` : ''}`);
      }
      return shape.validate(u, t.appendContext(c, '', shape, u));
    },
    shape.encode,
  );
}

/**
 * The options of an API rxwire hands on (Node's `tls.createServer`, `tls.connect`): any of the
 * `known` names that API documents, whose values it checks itself; `typed` ones checked here too;
 * the names rxwire sets itself (`owned`, each with what to use instead) refused, as is any other,
 * with the known name it most likely meant.
 */
export function passThroughOptions<P extends t.Props>(
  typed: P,
  known: readonly string[],
  owned: Readonly<Record<string, string>> = {},
): t.Type<t.TypeOf<t.PartialC<P>> & Record<string, unknown>, unknown, unknown> {
  type A = t.TypeOf<t.PartialC<P>> & Record<string, unknown>;
  const names = [...new Set([...Object.keys(typed), ...known])];
  const shape = t.partial(typed);
  return new t.Type<A, unknown, unknown>(
    'options',
    (u): u is A => typeof u === 'object' && u !== null && shape.is(u),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, 'expected an options object');
      for (const key of Object.keys(u)) {
        if (Object.prototype.hasOwnProperty.call(owned, key)) return t.failure(u, c, `option "${key}" is rxwire's to set: ${owned[key]}`);
        if (names.includes(key)) continue;
        const meant = closestKey(key, names);
        return t.failure(u, c, `unknown option "${key}"${meant ? ` (did you mean "${meant}"?)` : ''}`);
      }
      // The typed keys checked, and the object given back whole: the API takes the rest as it is.
      const checked = shape.validate(u, t.appendContext(c, '', shape, u));
      return checked._tag === 'Left' ? checked : t.success(u as A);
    },
    (a) => a,
  );
}

/** The values `is` accepts, taken as they are; anything else is one error, `expected ${expected}`. */
export function checked<A>(expected: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> {
  return new t.Type<A, A, unknown>(expected, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c, `expected ${expected}`)), (a) => a);
}

/** One of a few strings, with one error naming them all. */
export function oneOfStrings<S extends string>(choices: readonly S[]): t.Type<S, S, unknown> {
  const expected = `${choices.slice(0, -1).map((c) => JSON.stringify(c)).join(', ')} or ${JSON.stringify(choices[choices.length - 1])}`;
  return checked(expected, (u): u is S => choices.includes(u as S));
}

// ---- Values ------------------------------------------------------------------------------------

/** A whole number from `min` to `max`, given as a number. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): t.Type<number, number, unknown> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return checked(expected, (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max);
}

export const Port = wholeNumber(0, 65535);

/** A function given as an argument (`fromTransform(factory)`), checked when the operator is made rather than on each connection. */
export const FunctionArgument = checked('a function', (u): u is (...args: never[]) => unknown => typeof u === 'function');

/** An io-ts codec given as an argument (`json(codec)`), known by the method rxwire calls. */
export function ioTsCodec(method: 'decode' | 'encode'): t.Type<unknown, unknown, unknown> {
  return checked(`an io-ts codec (with ${method})`, (u): u is unknown => typeof (u as Record<string, unknown> | null | undefined)?.[method] === 'function');
}

export const NonEmptyString = checked('a non-empty string', (u): u is string => typeof u === 'string' && u.length > 0);

/** One of a few numbers, with one error naming them all (a union of literals would name only the first). */
export function oneOf<N extends number>(choices: readonly N[]): t.Type<N, N, unknown> {
  const expected = `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
  return checked(expected, (u): u is N => choices.includes(u as N));
}

/**
 * A structured logger, as pino's and fastify's: `info`, `warn` and `error`, each taking an object of
 * fields and a message. A pino logger is one; so is anything with those three methods.
 */
export interface StructuredLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const StructuredLoggerOption = checked(
  'a pino logger, or an object with info, warn and error methods',
  (u): u is StructuredLogger =>
    typeof u === 'object' && u !== null && ['info', 'warn', 'error'].every((level) => typeof (u as Record<string, unknown>)[level] === 'function'),
);

/** A log sink: a function taking one line (and, for a connection's failure, the Error), or false for none. */
export const LogOption = t.union([t.Function, t.literal(false)]) as unknown as t.Type<((line: string, error?: Error) => void) | false, unknown, unknown>;

/** The keys of every server's options that say where its log goes. */
export const serverLogKeys = {
  /** Where log lines go; false for none. Default: stderr. */
  log: LogOption,
  /** Where the server's events go as structured records instead of text lines: a pino logger, or anything with `info`, `warn` and `error`. */
  logger: StructuredLoggerOption,
};
