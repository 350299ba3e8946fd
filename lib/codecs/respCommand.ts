import { DEFAULTS } from '../core/defaults';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../core/errors';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { ChunkQueue } from './chunkQueue';
import { Decoded, Decoder, DecoderFactory, nothingDecoded } from './codec';
import { splitInline } from './respInline';
import { readLength } from './respValue';

// What a Redis server reads: commands, each an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
// or an inline command typed into `nc` (`GET k`), read as Redis's own server reads them
// (processMultibulkBuffer and processInlineBuffer in networking.c), errors in Redis's words.

/**
 * A command as a server reads it: its name, then its arguments, each a latin1 string (one
 * character per byte, so any bytes round-trip; `Buffer.from(arg, 'latin1')` gives them back).
 * A command costs one string per argument and the array: no Buffer, no value object per argument.
 */
export type RespCommand = readonly string[];

export interface RespCommandOptions {
  /** Longest argument, in bytes. Default 16 MiB (Redis allows 512 MB). */
  maxBulkLength?: number;
  /** Most arguments in one command. Default 1,048,576, as Redis's. */
  maxArrayLength?: number;
  /** Longest line: a header or an inline command. Default 64 KiB, as Redis's inline limit. */
  maxLineLength?: number;
}

const RespCommandOptions = strictOptions({}, { maxBulkLength: wholeNumber(0), maxArrayLength: wholeNumber(0), maxLineLength: wholeNumber(1) });

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;

/**
 * Reads Redis commands. A request that starts with `*` is an array of bulk strings; anything else
 * is an inline command, split into words as Redis splits them. `*0` and `*-1` are no command and
 * give none, as in Redis. What breaks the protocol ends the stream after the commands before it:
 * `DecodeError` with Redis's reason (`expected '$', got '+'`, `invalid bulk length`, `invalid
 * multibulk length`, `unbalanced quotes in request`), `FrameTooLong` for an argument past
 * `maxBulkLength` (from its header alone, nothing allocated) or a line past `maxLineLength`, and
 * `RespLimitExceeded` for more arguments than `maxArrayLength`. For any other RESP, `respDecoder`.
 */
export function respCommandDecoder(options: RespCommandOptions = {}): DecoderFactory<RespCommand> {
  const checked = decodeOptions('respCommands', RespCommandOptions, options);
  const limits: Limits = {
    maxBulkLength: checked.maxBulkLength ?? DEFAULTS.maxRespBulkLength,
    maxArrayLength: checked.maxArrayLength ?? DEFAULTS.maxRespArrayLength,
    maxLineLength: checked.maxLineLength ?? DEFAULTS.maxRespLineLength,
  };
  return () => new RespCommandDecoder(limits);
}

type Limits = Required<RespCommandOptions>;

class RespCommandDecoder implements Decoder<RespCommand> {
  /** An unfinished line (it holds no LF), or the start of the awaited argument. */
  private readonly pending = new ChunkQueue();
  /** The arguments of the command in progress, and how many are still to come. */
  private args: string[] | undefined;
  private remaining = 0;
  /** The length of the argument whose header has been read, its bytes and CRLF awaited; -1 for none. */
  private bulk = -1;
  /** Bytes of the command in progress already read into `args`, as sent. */
  private consumed = 0;

  constructor(private readonly limits: Limits) {}

  get buffered(): number {
    return this.pending.length + this.consumed;
  }

  decode(chunk: Buffer): Decoded<RespCommand> {
    const frames: RespCommand[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.bulk >= 0) {
        const length = this.bulk;
        const missing = length + 2 - this.pending.length;
        if (chunk.length - at < missing) break;
        let bytes = chunk;
        let start = at;
        if (this.pending.length > 0) {
          this.pending.push(chunk.subarray(at, at + missing));
          bytes = this.pending.takeAll();
          start = 0;
        }
        at += missing;
        if (bytes[start + length] !== CR || bytes[start + length + 1] !== LF) {
          return { frames, error: new DecodeError(`bulk string of ${length} bytes not followed by CRLF`) };
        }
        this.bulk = -1;
        this.args!.push(bytes.toString('latin1', start, start + length));
        this.consumed += length + 2;
        if (--this.remaining === 0) {
          frames.push(this.args!);
          this.args = undefined;
          this.consumed = 0;
        }
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      if (lf < 0) break;
      // Headers are read where they lie; only a line cut between reads is joined first.
      let bytes = chunk;
      let start = at;
      let end = lf;
      if (this.pending.length > 0) {
        this.pending.push(chunk.subarray(at, lf));
        bytes = this.pending.takeAll();
        start = 0;
        end = bytes.length;
      }
      at = lf + 1;
      if (end - start > this.limits.maxLineLength + 1) return { frames, error: FrameTooLong.pastLimit(this.limits.maxLineLength) };
      const error = this.line(bytes, start, end, frames);
      if (error) return { frames, error };
    }
    if (at < chunk.length) {
      this.pending.push(at === 0 ? chunk : chunk.subarray(at));
      // An unfinished line is refused once it passes the limit, not when its LF comes.
      if (this.bulk < 0 && this.pending.length > this.limits.maxLineLength + 1) {
        return { frames, error: FrameTooLong.pastLimit(this.limits.maxLineLength) };
      }
      this.pending.settle();
    }
    return { frames };
  }

  end(): Decoded<RespCommand> {
    const held = this.buffered;
    if (held === 0) return nothingDecoded;
    return { frames: [], error: new IncompleteFrame(held, this.bulk >= 0 ? this.consumed + this.bulk + 2 : held + 1) };
  }

  /** One line, `bytes` from `start` to `end` (its LF gone): an inline command, or a header. */
  private line(bytes: Buffer, start: number, end: number, frames: RespCommand[]): DecodeError | FrameTooLong | RespLimitExceeded | undefined {
    const first = bytes[start];
    if (this.args === undefined && first !== STAR) {
      const words = splitInline(bytes.subarray(start, end > start && bytes[end - 1] === CR ? end - 1 : end));
      if (typeof words === 'string') return new DecodeError(words);
      // An empty line is skipped, as Redis does.
      if (words.length > 0) frames.push(words.map((word) => word.toString('latin1')));
      return undefined;
    }
    if (end - start < 2 || bytes[end - 1] !== CR) {
      return new DecodeError(end === start ? 'empty line where a value was expected' : `line not ended by CRLF: ${JSON.stringify(bytes.toString('latin1', start, Math.min(end, start + 40)))}`);
    }
    const size = end - start + 1;
    if (this.args === undefined) {
      const count = readLength(bytes, start, end);
      if (count === undefined || count < -1) return new DecodeError('invalid multibulk length');
      if (count > this.limits.maxArrayLength) return new RespLimitExceeded('maxArrayLength', count, this.limits.maxArrayLength);
      // `*0` and `*-1` are no command.
      if (count <= 0) return undefined;
      this.args = [];
      this.remaining = count;
      this.consumed = size;
      return undefined;
    }
    if (first !== DOLLAR) return new DecodeError(`expected '$', got '${String.fromCharCode(first!)}'`);
    const length = readLength(bytes, start, end);
    if (length === undefined || length < 0) return new DecodeError('invalid bulk length');
    // Nothing is allocated for a length past the limit: the error comes before any of the body.
    if (length > this.limits.maxBulkLength) return new FrameTooLong(length, this.limits.maxBulkLength);
    this.bulk = length;
    this.consumed += size;
    return undefined;
  }
}
