import * as t from 'io-ts';

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
