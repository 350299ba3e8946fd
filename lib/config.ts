import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';

// ---- Errors as one line -------------------------------------------------------------------

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The path to the value an io-ts error is about, as `.a.b[2]`: keys that only name a member of
 * a union or an intersection are left out, since the data has no such step.
 */
export function errorPath(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1].type;
    if (parent instanceof t.UnionType || parent instanceof t.IntersectionType) continue;
    const key = context[i].key;
    path += /^\d+$/.test(key) && (parent instanceof t.ArrayType || parent instanceof t.TupleType) ? `[${key}]` : `.${key}`;
  }
  return path;
}

/** One readable line for the first failure: `.a: expected number, got "x"`. */
export function formatErrors(errors: t.Errors, name: (path: string) => string = (path) => path): string {
  const [first] = errors;
  if (!first) return 'invalid value';
  const expected = first.message ?? `expected ${first.context[first.context.length - 1].type.name}`;
  const where = name(errorPath(first.context));
  return `${where ? `${where}: ` : ''}${expected}, got ${describe(first.value)}`;
}

/** Decodes `value` or throws a TypeError whose message is the one line from `formatErrors`. */
export function decodeOrThrow<A, O>(codec: t.Type<A, O, unknown>, value: unknown, what: string): A {
  return pipe(
    codec.decode(value),
    E.getOrElseW((errors) => {
      throw new TypeError(`${what}${formatErrors(errors)}`);
    }),
  );
}

// ---- Numbers --------------------------------------------------------------------------------

/** A whole number from `min` to `max`, given as a number. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): t.Type<number, number, unknown> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return new t.Type<number, number, unknown>(
    expected,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) =>
      typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max
        ? t.success(u)
        : t.failure(u, c, `expected ${expected}`),
    (n) => n,
  );
}

/** The same whole number, given as a command-line string such as `"50007"`. */
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

export const Port = wholeNumber(0, 65535);
export const NonEmptyString = new t.Type<string, string, unknown>(
  'a non-empty string',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c, 'expected a non-empty string')),
  (s) => s,
);

// ---- serve() options ------------------------------------------------------------------------

export const ServeOptions = t.partial({
  /** Interface to bind; none = every interface, IPv6 and IPv4 (dual-stack). */
  host: NonEmptyString,
  /** TCP port; 0 = any free port. */
  port: Port,
  /** Unix domain socket path, instead of host and port. */
  path: NonEmptyString,
  /** Connections the OS may queue before they are accepted. */
  backlog: wholeNumber(1),
  /** End a connection once no bytes have moved either way for this long. */
  idleMs: wholeNumber(1),
  /** Connections past this many are closed at once, before any reply. */
  maxConnections: wholeNumber(1),
  /** On close, how long open connections may go on before they are destroyed. */
  graceMs: wholeNumber(0),
  /** Bytes of pending output at which `backpressure()` holds reads. */
  highWaterMark: wholeNumber(1),
  /** Where log lines go; false for none. Default: stderr. */
  log: t.union([t.Function, t.literal(false)]),
});
export type ServeOptions = Omit<t.TypeOf<typeof ServeOptions>, 'log'> & { log?: ((line: string) => void) | false };
