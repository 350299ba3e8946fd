import * as E from 'fp-ts/Either';
import { Either } from 'fp-ts/Either';
import * as t from 'io-ts';
import { DEFAULTS } from '../core/defaults';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../core/errors';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { ChunkQueue } from './chunkQueue';
import { Decoded, Decoder, DecoderFactory, Encoder, nothingDecoded } from './codec';
import { FailOnError, OnError, skipping, SkipOnError } from './skipping';

// RESP, the Redis serialization protocol (https://redis.io/docs/reference/protocol-spec/): RESP2
// and the RESP3 types a server sends, plus the inline commands a person types into `nc`.

/** One RESP value. RESP2's null bulk string and null array are `bulk`/`array` with `null`; RESP3's null is `null`. */
export type RespValue =
  | { readonly type: 'simple'; readonly value: string }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'bulk'; readonly value: Buffer | null }
  | { readonly type: 'array'; readonly items: readonly RespValue[] | null }
  | { readonly type: 'null' }
  | { readonly type: 'map'; readonly entries: readonly (readonly [RespValue, RespValue])[] }
  | { readonly type: 'set'; readonly items: readonly RespValue[] }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'bignumber'; readonly value: bigint }
  | { readonly type: 'verbatim'; readonly format: string; readonly value: Buffer }
  | { readonly type: 'push'; readonly items: readonly RespValue[] };

export interface RespOptions {
  /** Longest bulk or verbatim string, in bytes. Default 16 MiB (Redis allows 512 MB). */
  maxBulkLength?: number;
  /** Most elements in one array, set or push, or pairs in one map. Default 1,048,576. */
  maxArrayLength?: number;
  /** Deepest nesting of aggregates. Default 64. */
  maxDepth?: number;
  /** Longest line: a header, a simple string or error, an inline command. Default 64 KiB, as Redis's inline limit. */
  maxLineLength?: number;
  /**
   * Take a line that starts with no type byte as an inline command, split into words as Redis
   * splits them (quotes and escapes too), given as an array of bulk strings. Default false: a
   * server reading commands turns it on; a client reading replies has no use for it.
   */
  inlineCommands?: boolean;
}

const RespOptions = strictOptions(
  {},
  { maxBulkLength: wholeNumber(0), maxArrayLength: wholeNumber(0), maxDepth: wholeNumber(1), maxLineLength: wholeNumber(1), inlineCommands: t.boolean, onError: OnError },
);

type Limits = Required<RespOptions> & { skip: boolean };

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/** Reads RESP values: one frame per top-level value, bulk strings as views of the input where they lie whole in one read. */
export function respDecoder(options?: RespOptions & FailOnError): DecoderFactory<RespValue>;
/**
 * With `onError: 'skip'`: a value holding a bulk string past `maxBulkLength` is dropped whole
 * (the string's bytes as they arrive, never held; the rest of its aggregate read and dropped), a
 * top-level line past `maxLineLength` (an inline command) dropped up to its LF, and each reported
 * as a Left, as is a value cut short by the end of input; the values after it are read. What
 * leaves no way to find the next value (a header past `maxArrayLength` or `maxDepth`, bytes that
 * are no RESP) still fails.
 */
export function respDecoder(options: RespOptions & SkipOnError): DecoderFactory<Either<FrameTooLong | IncompleteFrame, RespValue>>;
export function respDecoder(options: RespOptions & { onError?: OnError } = {}): DecoderFactory<RespValue> | DecoderFactory<Either<FrameTooLong | IncompleteFrame, RespValue>> {
  const checked = decodeOptions('resp', RespOptions, options);
  const limits: Limits = {
    maxBulkLength: checked.maxBulkLength ?? DEFAULTS.maxRespBulkLength,
    maxArrayLength: checked.maxArrayLength ?? DEFAULTS.maxRespArrayLength,
    maxDepth: checked.maxDepth ?? DEFAULTS.maxRespDepth,
    maxLineLength: checked.maxLineLength ?? DEFAULTS.maxRespLineLength,
    inlineCommands: checked.inlineCommands ?? false,
    skip: checked.onError === 'skip',
  };
  const newDecoder = () => new RespDecoder(limits);
  // Told not to skip, it never gives an error as a frame.
  return limits.skip ? skipping<RespValue, FrameTooLong | IncompleteFrame>(newDecoder) : (newDecoder as DecoderFactory<RespValue>);
}

/** An aggregate whose elements are still arriving. */
interface Open {
  readonly type: 'array' | 'set' | 'push' | 'map';
  readonly items: RespValue[];
  /** Elements still to come (twice the pairs, for a map). */
  remaining: number;
}

/** A bulk or verbatim string whose header has been read: its body and CRLF are awaited. */
interface Body {
  readonly type: 'bulk' | 'verbatim';
  readonly length: number;
  /** Bytes of a string past the limit still to drop, CRLF included, when skipping. */
  dropping?: number;
}

/** A value dropped whole in its place, while the rest of its aggregate is read. */
const DROPPED: RespValue = { type: 'null' };

/** RESP values; told to skip, the errors of values it dropped among them. */
class RespDecoder implements Decoder<RespValue | FrameTooLong> {
  /** An unfinished line (it holds no LF), or the start of the awaited body. */
  private readonly pending = new ChunkQueue();
  private readonly open: Open[] = [];
  private body: Body | undefined;
  /** Bytes of the top-level value in progress already consumed into `open`, as sent. */
  private consumed = 0;
  /** Why the top-level value in progress is being dropped, when skipping. */
  private dropped: FrameTooLong | undefined;
  /** Skipping the rest of a top-level line past the limit, up to its LF. */
  private discardingLine = false;

  constructor(private readonly limits: Limits) {}

  get buffered(): number {
    return this.pending.length + this.consumed;
  }

  decode(chunk: Buffer): Decoded<RespValue | FrameTooLong> {
    const frames: (RespValue | FrameTooLong)[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.discardingLine) {
        const lf = chunk.indexOf(LF, at);
        if (lf < 0) return { frames };
        this.discardingLine = false;
        at = lf + 1;
        continue;
      }
      if (this.body?.dropping !== undefined) {
        const dropped = Math.min(this.body.dropping, chunk.length - at);
        this.body.dropping -= dropped;
        at += dropped;
        if (this.body.dropping > 0) break;
        this.body = undefined;
        this.add(DROPPED, 0, frames);
        continue;
      }
      if (this.body !== undefined) {
        const { type, length } = this.body;
        const missing = length + 2 - this.pending.length;
        if (chunk.length - at < missing) break;
        let bytes: Buffer;
        let start: number;
        if (this.pending.length === 0) {
          bytes = chunk;
          start = at;
        } else {
          this.pending.push(chunk.subarray(at, at + missing));
          bytes = this.pending.takeAll();
          start = 0;
        }
        at += missing;
        if (bytes[start + length] !== CR || bytes[start + length + 1] !== LF) {
          return { frames, error: new DecodeError(`${type} string of ${length} bytes not followed by CRLF`) };
        }
        this.body = undefined;
        const value = bytes.subarray(start, start + length);
        const error = this.add(type === 'bulk' ? { type, value } : verbatim(value), length + 2, frames);
        if (error) return { frames, error };
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      if (lf < 0) break;
      let line: Buffer;
      if (this.pending.length === 0) {
        line = chunk.subarray(at, lf);
      } else {
        this.pending.push(chunk.subarray(at, lf));
        line = this.pending.takeAll();
      }
      at = lf + 1;
      if (line.length > this.limits.maxLineLength + 1) {
        const error = new FrameTooLong(line.length, this.limits.maxLineLength);
        if (!this.limits.skip || this.open.length > 0) return { frames, error };
        frames.push(error);
        continue;
      }
      const error = this.line(line, frames);
      if (error) return { frames, error };
    }
    if (at < chunk.length) {
      this.pending.push(at === 0 ? chunk : chunk.subarray(at));
      // An unfinished line is refused once it passes the limit, not when its LF comes.
      if (this.body === undefined && this.pending.length > this.limits.maxLineLength + 1) {
        const error = new FrameTooLong(this.pending.length, this.limits.maxLineLength, true);
        if (!this.limits.skip || this.open.length > 0) return { frames, error };
        frames.push(error);
        this.pending.takeAll();
        this.discardingLine = true;
        return { frames };
      }
      this.pending.settle();
    }
    return { frames };
  }

  end(): Decoded<RespValue | FrameTooLong> {
    const held = this.buffered;
    if (held === 0 && this.body?.dropping === undefined) return nothingDecoded;
    const expected = this.body !== undefined ? this.consumed + this.body.length + 2 : held + 1;
    return { frames: [], error: new IncompleteFrame(held, expected) };
  }

  /** One line, its LF gone: a value, a header, or an inline command. */
  private line(line: Buffer, frames: (RespValue | FrameTooLong)[]): RespLimitExceeded | FrameTooLong | DecodeError | undefined {
    const size = line.length + 1;
    const typed = TYPE_BYTES.has(line[0]!);
    if (!typed && this.open.length === 0 && this.limits.inlineCommands) {
      const text = line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
      const words = splitInline(text);
      if (typeof words === 'string') return new DecodeError(words);
      // An empty line is skipped, as Redis does.
      if (words.length > 0) frames.push({ type: 'array', items: words.map((value) => ({ type: 'bulk', value })) });
      return undefined;
    }
    if (line.length < 2 || line[line.length - 1] !== CR) {
      return new DecodeError(line.length === 0 ? 'empty line where a value was expected' : `line not ended by CRLF: ${excerpt(line)}`);
    }
    if (!typed) return new DecodeError(`unknown type byte ${JSON.stringify(String.fromCharCode(line[0]!))}`);
    const type = line[0]!;
    // Headers, most lines of a command, are read as numbers where they lie; the rest as text.
    const text = type === 0x24 || type === 0x3d || AGGREGATES.has(type) ? '' : line.toString('latin1', 1, line.length - 1);
    switch (type) {
      case 0x2b: // +
        return this.add({ type: 'simple', value: line.toString('utf8', 1, line.length - 1) }, size, frames);
      case 0x2d: // -
        return this.add({ type: 'error', message: line.toString('utf8', 1, line.length - 1) }, size, frames);
      case 0x3a: // :
        if (!INTEGER.test(text)) return new DecodeError(`invalid integer ${JSON.stringify(text)}`);
        return this.add({ type: 'integer', value: BigInt(text) }, size, frames);
      case 0x28: // (
        if (!INTEGER.test(text)) return new DecodeError(`invalid big number ${JSON.stringify(text)}`);
        return this.add({ type: 'bignumber', value: BigInt(text) }, size, frames);
      case 0x2c: {
        // ,
        const value = parseDouble(text);
        return value === undefined ? new DecodeError(`invalid double ${JSON.stringify(text)}`) : this.add({ type: 'double', value }, size, frames);
      }
      case 0x23: // #
        if (text !== 't' && text !== 'f') return new DecodeError(`invalid boolean ${JSON.stringify(text)}`);
        return this.add({ type: 'boolean', value: text === 't' }, size, frames);
      case 0x5f: // _
        if (text !== '') return new DecodeError(`invalid null ${JSON.stringify(text)}`);
        return this.add({ type: 'null' }, size, frames);
      case 0x24: // $
      case 0x3d: {
        // =
        const length = readLength(line);
        if (length === undefined) return new DecodeError('invalid bulk length');
        if (length === -1 && type === 0x24) return this.add({ type: 'bulk', value: null }, size, frames);
        if (length < 0 || (type === 0x3d && length < 4)) return new DecodeError('invalid bulk length');
        // Nothing is allocated for a length past the limit: the error comes before any of the body.
        if (length > this.limits.maxBulkLength) {
          const error = new FrameTooLong(length, this.limits.maxBulkLength);
          if (!this.limits.skip) return error;
          // Its bytes are dropped as they come, and so is the value it is part of.
          this.dropped ??= error;
          this.body = { type: 'bulk', length, dropping: length + 2 };
          this.consumed += size;
          return undefined;
        }
        this.body = { type: type === 0x24 ? 'bulk' : 'verbatim', length };
        this.consumed += size;
        return undefined;
      }
      default: {
        // * ~ > %
        const count = readLength(line);
        if (count === undefined || count < -1 || (count === -1 && type !== 0x2a)) return new DecodeError('invalid multibulk length');
        if (count === -1) return this.add({ type: 'array', items: null }, size, frames);
        if (count > this.limits.maxArrayLength) return new RespLimitExceeded('maxArrayLength', count, this.limits.maxArrayLength);
        const aggregate = AGGREGATES.get(type)!;
        if (count === 0) return this.add(aggregate === 'map' ? { type: 'map', entries: [] } : { type: aggregate, items: [] }, size, frames);
        if (this.open.length + 1 > this.limits.maxDepth) return new RespLimitExceeded('maxDepth', this.open.length + 1, this.limits.maxDepth);
        this.open.push({ type: aggregate, items: [], remaining: aggregate === 'map' ? 2 * count : count });
        this.consumed += size;
        return undefined;
      }
    }
  }

  /** A complete value, `size` bytes of input: a frame, or the next element of the aggregate it is in. */
  private add(value: RespValue, size: number, frames: (RespValue | FrameTooLong)[]): undefined {
    let done = value;
    for (;;) {
      const parent = this.open[this.open.length - 1];
      if (parent === undefined) {
        frames.push(this.dropped ?? done);
        this.dropped = undefined;
        this.consumed = 0;
        return undefined;
      }
      // A value being dropped keeps no elements, only their count.
      if (this.dropped === undefined) parent.items.push(done);
      if (--parent.remaining > 0) {
        this.consumed += size;
        return undefined;
      }
      this.open.pop();
      done = parent.type === 'map' ? { type: 'map', entries: pairs(parent.items) } : { type: parent.type, items: parent.items };
    }
  }
}

const TYPE_BYTES = new Set([...'+-:$*_#,(=%~>'].map((c) => c.charCodeAt(0)));
const AGGREGATES = new Map<number, Open['type']>([
  [0x2a, 'array'],
  [0x7e, 'set'],
  [0x3e, 'push'],
  [0x25, 'map'],
]);
const INTEGER = /^-?\d+$/;

/**
 * The length in a header line (its type byte first, its CR last), or undefined when it is not -1
 * or a whole number of 15 digits at most (no float rounding).
 */
function readLength(line: Buffer): number | undefined {
  const end = line.length - 1;
  if (end - 1 === 2 && line[1] === 0x2d && line[2] === 0x31) return -1;
  if (end <= 1 || end - 1 > 15) return undefined;
  let length = 0;
  for (let i = 1; i < end; i++) {
    const digit = line[i]! - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    length = length * 10 + digit;
  }
  return length;
}

const DOUBLE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseDouble(text: string): number | undefined {
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan' || text === '-nan') return NaN;
  return DOUBLE.test(text) ? Number(text) : undefined;
}

function verbatim(body: Buffer): RespValue {
  return { type: 'verbatim', format: body.toString('latin1', 0, 3), value: body.subarray(4) };
}

function pairs(items: RespValue[]): [RespValue, RespValue][] {
  const entries: [RespValue, RespValue][] = [];
  for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
  return entries;
}

function excerpt(line: Buffer): string {
  return JSON.stringify(line.toString('latin1', 0, Math.min(line.length, 40)));
}

const HEX = /^[0-9a-fA-F]{2}$/;
const ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, b: 0x08, a: 0x07 };
const isSpace = (byte: number) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/**
 * An inline command's words, split as Redis's sdssplitargs() splits them: on whitespace, with
 * "double quotes" (escapes \n \r \t \b \a \xHH and any other \c as c) and 'single quotes' (only
 * \' escaped); a closing quote must be followed by whitespace. Or Redis's reason it is no command.
 */
export function splitInline(line: Buffer): Buffer[] | string {
  const words: Buffer[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && isSpace(line[i]!)) i++;
    if (i >= line.length) return words;
    const word: number[] = [];
    let quote: number | undefined;
    for (;;) {
      if (i >= line.length) {
        if (quote !== undefined) return 'unbalanced quotes in request';
        break;
      }
      const byte = line[i]!;
      if (quote === 0x22) {
        if (byte === 0x5c && i + 3 < line.length && line[i + 1] === 0x78 && HEX.test(line.toString('latin1', i + 2, i + 4))) {
          word.push(parseInt(line.toString('latin1', i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        if (byte === 0x5c && i + 1 < line.length) {
          const next = String.fromCharCode(line[i + 1]!);
          word.push(ESCAPES[next] ?? line[i + 1]!);
          i += 2;
          continue;
        }
      } else if (quote === 0x27 && byte === 0x5c && line[i + 1] === 0x27) {
        word.push(0x27);
        i += 2;
        continue;
      }
      if (quote !== undefined && byte === quote) {
        i++;
        if (i < line.length && !isSpace(line[i]!)) return 'unbalanced quotes in request';
        break;
      }
      if (quote === undefined) {
        if (isSpace(byte)) break;
        if (byte === 0x22 || byte === 0x27) {
          quote = byte;
          i++;
          continue;
        }
      }
      word.push(byte);
      i++;
    }
    words.push(Buffer.from(word));
  }
}

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

const PREFIX: Record<RespValue['type'], string> = {
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
    at += bytes.write(PREFIX[value.type], at, 'latin1');
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
