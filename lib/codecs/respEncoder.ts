import * as E from 'fp-ts/Either';
import { DecodeError } from '../core/errors';
import { Encoder } from './codec';
import { RespValue } from './respValue';

const CR = 0x0d;
const LF = 0x0a;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Writes RESP values. A simple string or error holding CR or LF cannot be written (it would
 * end early), nor a verbatim string whose format is not three bytes: both are `DecodeError`s.
 */
export function respEncoder(): Encoder<RespValue> {
  return (value) => {
    const invalid = check(value);
    if (invalid !== undefined) return E.left(new DecodeError(invalid));
    const bytes = Buffer.allocUnsafe(sizeOf(value));
    const end = write(value, bytes, 0);
    return E.right(end === bytes.length ? bytes : bytes.subarray(0, end));
  };
}

const LINE_BREAK = /[\r\n]/;

function check(value: RespValue): string | undefined {
  switch (value.type) {
    case 'simple':
      return LINE_BREAK.test(value.value) ? 'a simple string cannot hold CR or LF' : undefined;
    case 'error':
      return LINE_BREAK.test(value.message) ? 'an error cannot hold CR or LF' : undefined;
    case 'verbatim':
      return Buffer.byteLength(value.format) !== 3 ? `a verbatim string's format must be 3 bytes, got ${JSON.stringify(value.format)}` : undefined;
    case 'array':
    case 'set':
    case 'push':
      for (const item of value.items ?? []) {
        const invalid = check(item);
        if (invalid !== undefined) return invalid;
      }
      return undefined;
    case 'map':
      for (const [key, item] of value.entries) {
        const invalid = check(key) ?? check(item);
        if (invalid !== undefined) return invalid;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** A double as RESP3 writes it: `inf`, `-inf`, `nan`, or the shortest decimal that reads back the same. */
function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (Object.is(value, -0)) return '-0';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/** An upper bound on the bytes `value` takes: strings are counted exactly, numbers at their longest. */
function sizeOf(value: RespValue): number {
  switch (value.type) {
    case 'simple':
    case 'error':
      return 3 + Buffer.byteLength(value.type === 'simple' ? value.value : value.message);
    case 'integer':
    case 'bignumber':
      // Any 64-bit integer, all Redis sends, takes at most 20 characters: only a larger one is written out to be measured.
      return 3 + (value.value >= INT64_MIN && value.value <= INT64_MAX ? 20 : value.value.toString().length);
    case 'double':
      return 3 + formatDouble(value.value).length;
    case 'boolean':
      return 4;
    case 'null':
      return 3;
    case 'bulk':
      return value.value === null ? 5 : 5 + 20 + value.value.length;
    case 'verbatim':
      return 5 + 20 + 4 + value.value.length;
    case 'array':
    case 'set':
    case 'push': {
      let size = 3 + 20;
      for (const item of value.items ?? []) size += sizeOf(item);
      return size;
    }
    case 'map': {
      let size = 3 + 20;
      for (const [key, item] of value.entries) size += sizeOf(key) + sizeOf(item);
      return size;
    }
  }
}

/** The byte each type of value starts with on the wire: `:` for an integer. */
export const RESP_TYPE_BYTES: Readonly<Record<RespValue['type'], string>> = {
  simple: '+',
  error: '-',
  integer: ':',
  bulk: '$',
  array: '*',
  null: '_',
  map: '%',
  set: '~',
  double: ',',
  boolean: '#',
  bignumber: '(',
  verbatim: '=',
  push: '>',
};

/** The type bytes as numbers, for write(). */
const TYPE_CODES = Object.fromEntries(Object.entries(RESP_TYPE_BYTES).map(([type, byte]) => [type, byte.charCodeAt(0)])) as Readonly<Record<RespValue['type'], number>>;

/** Writes `value` into `bytes` at `at`; returns where it ended. */
function write(value: RespValue, bytes: Buffer, at: number): number {
  const type = TYPE_CODES[value.type];
  switch (value.type) {
    case 'simple':
      return textLine(bytes, at, type, value.value);
    case 'error':
      return textLine(bytes, at, type, value.message);
    case 'integer':
    case 'bignumber':
      return textLine(bytes, at, type, value.value.toString());
    case 'double':
      return textLine(bytes, at, type, formatDouble(value.value));
    case 'boolean':
      return textLine(bytes, at, type, value.value ? 't' : 'f');
    case 'null':
      return textLine(bytes, at, type, '');
    case 'bulk':
      if (value.value === null) return textLine(bytes, at, type, '-1');
      at = lengthLine(bytes, at, type, value.value.length);
      at += value.value.copy(bytes, at);
      return crlf(bytes, at);
    case 'verbatim':
      at = lengthLine(bytes, at, type, value.value.length + 4);
      at += bytes.write(`${value.format}:`, at, 'utf8');
      at += value.value.copy(bytes, at);
      return crlf(bytes, at);
    case 'array':
    case 'set':
    case 'push':
      if (value.items === null) return textLine(bytes, at, type, '-1');
      at = lengthLine(bytes, at, type, value.items.length);
      for (const item of value.items) at = write(item, bytes, at);
      return at;
    case 'map':
      at = lengthLine(bytes, at, type, value.entries.length);
      for (const [key, item] of value.entries) at = write(item, bytes, write(key, bytes, at));
      return at;
  }
}

/** A line: the type byte, `text` in UTF-8, CRLF. */
function textLine(bytes: Buffer, at: number, type: number, text: string): number {
  bytes[at++] = type;
  if (text.length > 0) at += bytes.write(text, at, 'utf8');
  return crlf(bytes, at);
}

/** A header: the type byte, a length (a whole number) in decimal digits, CRLF; written digit by digit, with no string for the number. */
function lengthLine(bytes: Buffer, at: number, type: number, length: number): number {
  bytes[at++] = type;
  let digits = 1;
  for (let rest = length; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = length;
  for (let i = at + digits - 1; i >= at; i--) {
    bytes[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return crlf(bytes, at + digits);
}

function crlf(bytes: Buffer, at: number): number {
  bytes[at] = CR;
  bytes[at + 1] = LF;
  return at + 2;
}
