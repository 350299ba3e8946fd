import { Either } from 'fp-ts/Either';
import * as t from 'io-ts';
import { DEFAULTS } from '../core/defaults';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../core/errors';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { ChunkQueue } from './chunkQueue';
import { Decoded, Decoder, DecoderFactory, nothingDecoded } from './codec';
import { splitInline } from './respInline';
import { pairs, parseDouble, readLength, RespValue, verbatim } from './respValue';
import { FailOnError, OnError, skipping, SkipOnError } from './skipping';

// RESP, the Redis serialization protocol (https://redis.io/docs/reference/protocol-spec/): RESP2
// and the RESP3 types a server sends, plus the inline commands a person types into `nc`.

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
const DROPPED: RespValue = Object.freeze({ type: 'null' as const });

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
        const error = FrameTooLong.pastLimit(this.limits.maxLineLength);
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
        const error = FrameTooLong.pastLimit(this.limits.maxLineLength);
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

const TYPE_BYTES: ReadonlySet<number> = new Set([...'+-:$*_#,(=%~>'].map((c) => c.charCodeAt(0)));
const AGGREGATES: ReadonlyMap<number, Open['type']> = new Map<number, Open['type']>([[0x2a, 'array'], [0x7e, 'set'], [0x3e, 'push'], [0x25, 'map']]);
const INTEGER = /^-?\d+$/;

function excerpt(line: Buffer): string {
  return JSON.stringify(line.toString('latin1', 0, Math.min(line.length, 40)));
}
