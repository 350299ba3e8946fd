import { Either } from 'fp-ts/Either';
import * as t from 'io-ts';
import { DEFAULTS } from '../core/defaults';
import { FrameTooLong } from '../core/errors';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { ChunkQueue } from './chunkQueue';
import { Decoded, Decoder, DecoderFactory, Encoder, encoderOf, FrameEncoder, nothingDecoded, Separators } from './codec';
import { Delimiter } from './delimiter';
import { FailOnError, OnError, skipping, SkipOnError } from './skipping';

export interface LinesOptions {
  /** Longest line, in bytes, not counting its delimiter. Default 64 KiB. */
  maxLength?: number;
  /** The bytes that end a line, matched exactly. Default `\n`, with a `\r` before it dropped too. */
  delimiter?: string | Buffer;
  /** Leave the delimiter on each line. Default false. */
  keepDelimiter?: boolean;
}

const LinesOptions = strictOptions({}, { maxLength: wholeNumber(1), delimiter: Delimiter, keepDelimiter: t.boolean, onError: OnError });
const EncodeLinesOptions = strictOptions({}, { delimiter: Delimiter });

const NEWLINE = Buffer.from('\n');
const CR = 0x0d;

/**
 * Splits bytes into lines. A last line with no delimiter is a line too, at the end of input.
 * A line past `maxLength` is `FrameTooLong`, found as soon as the buffered bytes pass the limit.
 */
export function linesDecoder(options?: LinesOptions & FailOnError): DecoderFactory<Buffer>;
/** With `onError: 'skip'`, tokio's discard mode: a line past the limit is dropped up to its delimiter, its error a Left, and the next line read. */
export function linesDecoder(options: LinesOptions & SkipOnError): DecoderFactory<Either<FrameTooLong, Buffer>>;
export function linesDecoder(options: LinesOptions & { onError?: OnError } = {}): DecoderFactory<Buffer> | DecoderFactory<Either<FrameTooLong, Buffer>> {
  const { maxLength = DEFAULTS.maxLineLength, delimiter, keepDelimiter = false, onError = 'fail' } = decodeOptions('lines', LinesOptions, options);
  const skip = onError === 'skip';
  const newDecoder = () => new LinesDecoder(delimiter ?? NEWLINE, delimiter === undefined, maxLength, keepDelimiter, skip);
  // Told not to skip, it never gives an error as a frame.
  return skip ? skipping<Buffer, FrameTooLong>(newDecoder) : (newDecoder as DecoderFactory<Buffer>);
}

/**
 * What `linesDecoder(options)` drops around each line it cuts from a chunk: its delimiter after
 * it, unless it keeps it (then nothing may be taken in, and undefined).
 */
export function linesSeparators(options: LinesOptions = {}): Separators | undefined {
  const { delimiter, keepDelimiter = false } = decodeOptions('lines', LinesOptions, options);
  return keepDelimiter ? undefined : { before: 0, after: (delimiter ?? NEWLINE).length };
}

/** Ends each line with the delimiter (default `\n`), as one Buffer. */
export function linesEncoder(options: Pick<LinesOptions, 'delimiter'> = {}): Encoder<Buffer | string> {
  return encoderOf(linesFrameEncoder(options));
}

/** `linesEncoder` for `encodeLines()`, which may answer a line with the bytes it came in. */
export function linesFrameEncoder(options: Pick<LinesOptions, 'delimiter'> = {}): FrameEncoder<Buffer | string> {
  const delimiter = decodeOptions('encodeLines', EncodeLinesOptions, options).delimiter ?? NEWLINE;
  return {
    framing: { bytes: delimiter.length, trailer: delimiter, header: undefined },
    encode: (line) => {
      // Checked here, since lines are the user's values: a number would otherwise fail deep in Buffer.
      if (typeof line !== 'string' && !(line instanceof Uint8Array)) throw new TypeError(`encodeLines: expected a Buffer or a string, got ${describeValue(line)}`);
      const length = typeof line === 'string' ? Buffer.byteLength(line) : line.length;
      const bytes = Buffer.allocUnsafe(length + delimiter.length);
      if (typeof line === 'string') bytes.write(line);
      else bytes.set(line);
      if (delimiter.length === 1) bytes[length] = delimiter[0];
      else bytes.set(delimiter, length);
      return bytes;
    },
  };
}

/** Lines; told to skip, the errors of lines it dropped among them. */
class LinesDecoder implements Decoder<Buffer | FrameTooLong> {
  /** The start of a line whose delimiter has not arrived; it holds no whole delimiter. While discarding, only a delimiter's possible start. */
  private readonly pending = new ChunkQueue();
  /** Skipping the rest of a line past the limit, up to its delimiter. */
  private discarding = false;
  /** Bytes past `maxLength` an unfinished line may hold: the start of a delimiter, or a `\r`. */
  private readonly slack: number;

  constructor(
    private readonly delimiter: Buffer,
    private readonly dropCarriageReturn: boolean,
    private readonly maxLength: number,
    private readonly keepDelimiter: boolean,
    private readonly skip: boolean,
  ) {
    this.slack = dropCarriageReturn ? 1 : delimiter.length - 1;
  }

  get buffered(): number {
    return this.pending.length;
  }

  decode(chunk: Buffer): Decoded<Buffer | FrameTooLong> {
    const lines: (Buffer | FrameTooLong)[] = [];
    if (this.discarding) {
      const end = this.discardedUpTo(chunk);
      if (end < 0) return { frames: lines };
      chunk = chunk.subarray(end);
    }
    // Each byte is scanned once: the pending bytes hold no delimiter, so only one that began in
    // their tail and ends in this chunk needs a look back.
    let start = 0;
    let end = this.delimiterEndAcrossBoundary(chunk);
    if (end < 0) end = this.delimiterEnd(chunk, 0);
    if (end >= 0 && this.pending.length > 0) {
      this.pending.push(chunk.subarray(0, end));
      const bytes = this.pending.takeAll();
      const line = this.line(bytes, 0, bytes.length, this.delimiter.length);
      // Checked as a Buffer: the error family's instanceof looks further than its own chain.
      if (!Buffer.isBuffer(line) && !this.skip) return { frames: lines, error: line };
      lines.push(line);
      start = end;
      end = this.delimiterEnd(chunk, start);
    }
    // The lines that lie whole in the chunk are views made from its ArrayBuffer and offset, read
    // once: subarray() reads both through getters for every line (~9 ns each here). Only a line
    // that began in an earlier chunk is not a view of this one (see `Separators`).
    const buffer = chunk.buffer;
    const base = chunk.byteOffset;
    while (end >= 0) {
      const lineEnd = this.lineEnd(chunk, start, end, this.delimiter.length);
      if (typeof lineEnd !== 'number' && !this.skip) return { frames: lines, error: lineEnd };
      lines.push(typeof lineEnd === 'number' ? Buffer.from(buffer, base + start, lineEnd - start) : lineEnd);
      start = end;
      end = this.delimiterEnd(chunk, start);
    }
    const unfinished = this.pending.length + chunk.length - start;
    if (unfinished > this.maxLength + this.slack) {
      const error = FrameTooLong.pastLimit(this.maxLength);
      if (!this.skip) return { frames: lines, error };
      lines.push(error);
      this.pending.takeAll();
      this.discarding = true;
      this.discardedUpTo(chunk.subarray(start));
      return { frames: lines };
    }
    this.pending.push(chunk.subarray(start));
    this.pending.settle();
    return { frames: lines };
  }

  end(): Decoded<Buffer | FrameTooLong> {
    if (this.pending.length === 0 || this.discarding) return nothingDecoded;
    const bytes = this.pending.takeAll();
    const line = this.line(bytes, 0, bytes.length, 0);
    // Told to skip, a last line past the limit is a last Left, as one cut short earlier would be.
    return Buffer.isBuffer(line) || this.skip ? { frames: [line] } : { frames: [], error: line };
  }

  /**
   * While discarding: where in `chunk` the delimiter that ends the dropped line ends, after which
   * lines are read again; or -1, keeping only what may be the start of a delimiter.
   */
  private discardedUpTo(chunk: Buffer): number {
    let end = this.delimiterEndAcrossBoundary(chunk);
    if (end < 0) end = this.delimiterEnd(chunk, 0);
    if (end >= 0) {
      this.pending.takeAll();
      this.discarding = false;
      return end;
    }
    this.pending.push(chunk);
    const keep = Math.min(this.delimiter.length - 1, this.pending.length);
    const tail = keep > 0 ? this.pending.lastBytes(keep) : undefined;
    this.pending.takeAll();
    if (tail) this.pending.push(tail);
    return -1;
  }

  /** Where the first delimiter at or after `from` in `chunk` ends, or -1. */
  private delimiterEnd(chunk: Buffer, from: number): number {
    // A one-byte delimiter is searched as a byte: Buffer's indexOf(number) is a memchr.
    const at = this.delimiter.length === 1 ? chunk.indexOf(this.delimiter[0], from) : chunk.indexOf(this.delimiter, from);
    return at < 0 ? -1 : at + this.delimiter.length;
  }

  /** Where, in `chunk`, a delimiter that began in the pending bytes ends, or -1. */
  private delimiterEndAcrossBoundary(chunk: Buffer): number {
    const tailLength = Math.min(this.delimiter.length - 1, this.pending.length);
    if (tailLength === 0) return -1;
    const tail = this.pending.lastBytes(tailLength);
    const seam = Buffer.concat([tail, chunk.subarray(0, this.delimiter.length - 1)]);
    const at = seam.indexOf(this.delimiter);
    return at >= 0 && at < tailLength ? at + this.delimiter.length - tailLength : -1;
  }

  /**
   * Where the line in `bytes[start, end)` ends, taking in what it keeps of its delimiter
   * (`delimiterLength` long, 0 for a last line at EOF), or why it is no line.
   */
  private lineEnd(bytes: Buffer, start: number, end: number, delimiterLength: number): number | FrameTooLong {
    let lineEnd = end - delimiterLength;
    if (this.dropCarriageReturn && lineEnd > start && bytes[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd - start > this.maxLength) return FrameTooLong.pastLimit(this.maxLength);
    return this.keepDelimiter ? end : lineEnd;
  }

  /** The line in `bytes[start, end)` as one view, or why it is no line. */
  private line(bytes: Buffer, start: number, end: number, delimiterLength: number): Buffer | FrameTooLong {
    const lineEnd = this.lineEnd(bytes, start, end, delimiterLength);
    return typeof lineEnd === 'number' ? bytes.subarray(start, lineEnd) : lineEnd;
  }
}

/** What a line was instead of text, for the error: `number 42`, `null`, `object {"a":1}`. */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `${(value as object).constructor?.name ?? 'object'} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
