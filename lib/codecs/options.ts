import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { formatErrors } from '../config';

/**
 * Checks a codec's options when the codec is made, not when a connection first uses it:
 * a RangeError with one line naming the codec and the option (`lines: maxLength: expected …`).
 */
export function checkOptions<A>(codecName: string, type: t.Decoder<unknown, A>, options: unknown): A {
  return pipe(
    type.decode(options),
    E.getOrElseW((errors) => {
      throw new RangeError(`${codecName}: ${formatErrors(errors, (path) => path.replace(/^\./, ''))}`);
    }),
  );
}

/** One of a few numbers, with one error naming them all (a union of literals would name only the first). */
export function oneOf<N extends number>(choices: readonly N[]): t.Type<N, N, unknown> {
  const expected = `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
  const is = (u: unknown): u is N => choices.includes(u as N);
  const validate = (u: unknown, c: t.Context) => (is(u) ? t.success(u) : t.failure<N>(u, c, `expected ${expected}`));
  return new t.Type<N, N, unknown>(expected, is, validate, (n) => n);
}

/** A non-empty byte string, given as a string (UTF-8) or a Buffer; decodes to the Buffer. */
export const Delimiter = new t.Type<Buffer, Buffer, unknown>(
  'a non-empty string or Buffer',
  (u): u is Buffer => Buffer.isBuffer(u) && u.length > 0,
  (u, c) =>
    (typeof u === 'string' || Buffer.isBuffer(u)) && u.length > 0
      ? t.success(Buffer.from(u))
      : t.failure(u, c, 'expected a non-empty string or Buffer'),
  (b) => b,
);
