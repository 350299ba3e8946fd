import * as E from 'fp-ts/Either';
import { DecodeError } from '../core/errors';
import { Encoder } from './codec';
import { RespValue } from './respValue';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

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
      return 3 + value.value.toString().length;
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

/** Writes `value` into `bytes` at `at`; returns where it ended. */
function write(value: RespValue, bytes: Buffer, at: number): number {
  const line = (text: string) => {
    at += bytes.write(RESP_TYPE_BYTES[value.type], at, 'latin1');
    at += bytes.write(text, at, 'utf8');
    bytes[at++] = CR;
    bytes[at++] = LF;
  };
  switch (value.type) {
    case 'simple':
      line(value.value);
      return at;
    case 'error':
      line(value.message);
      return at;
    case 'integer':
    case 'bignumber':
      line(value.value.toString());
      return at;
    case 'double':
      line(formatDouble(value.value));
      return at;
    case 'boolean':
      line(value.value ? 't' : 'f');
      return at;
    case 'null':
      line('');
      return at;
    case 'bulk':
      if (value.value === null) {
        line('-1');
        return at;
      }
      line(String(value.value.length));
      at += value.value.copy(bytes, at);
      return at + CRLF.copy(bytes, at);
    case 'verbatim':
      line(String(value.value.length + 4));
      at += bytes.write(`${value.format}:`, at, 'utf8');
      at += value.value.copy(bytes, at);
      return at + CRLF.copy(bytes, at);
    case 'array':
    case 'set':
    case 'push':
      if (value.items === null) {
        line('-1');
        return at;
      }
      line(String(value.items.length));
      for (const item of value.items) at = write(item, bytes, at);
      return at;
    case 'map':
      line(String(value.entries.length));
      for (const [key, item] of value.entries) at = write(item, bytes, write(key, bytes, at));
      return at;
  }
}
