import { Either } from 'fp-ts/Either';
import * as t from 'io-ts';
import { DEFAULTS } from '../core/defaults';
import { DecodeError, FrameTooLong, IncompleteFrame } from '../core/errors';
import { decodeOptions, oneOf, strictOptions, wholeNumber } from '../core/options';
import { ChunkQueue } from './chunkQueue';
import { Decoded, Decoder, DecoderFactory, Encoder, encoderOf, FrameEncoder, HeaderReader, nothingDecoded, Separators } from './codec';
import { FailOnError, OnError, skipping, SkipOnError } from './skipping';

export interface LengthPrefixedOptions {
  /** Size of the length header. */
  headerBytes: 1 | 2 | 4;
  /** Byte order of the header. Default big-endian (network order). */
  endian?: 'big' | 'little';
  /** Longest payload, in bytes. Default 16 MiB. */
  maxLength?: number;
  /** The header counts its own bytes as well as the payload's. Default false. */
  lengthIncludesHeader?: boolean;
}

const LengthPrefixedOptions = strictOptions(
  { headerBytes: oneOf([1, 2, 4] as const) },
  { endian: t.keyof({ big: null, little: null }), maxLength: wholeNumber(1), lengthIncludesHeader: t.boolean, onError: OnError },
);

/** The options checked, with their defaults, and the longest payload the header can also express. */
function framing(codecName: string, options: LengthPrefixedOptions & { onError?: OnError }) {
  const {
    headerBytes,
    endian = 'big',
    maxLength = DEFAULTS.maxLengthPrefixed,
    lengthIncludesHeader = false,
    onError = 'fail',
  } = decodeOptions(codecName, LengthPrefixedOptions, options);
  const headerOverhead = lengthIncludesHeader ? headerBytes : 0;
  const bigEndian = endian === 'big';
  return {
    headerBytes,
    bigEndian,
    readHeader: headerReader(headerBytes, bigEndian),
    headerOverhead,
    maxLength: Math.min(maxLength, 2 ** (8 * headerBytes) - 1 - headerOverhead),
    skip: onError === 'skip',
  };
}
type Framing = ReturnType<typeof framing>;

/** Reads the number in a header at `at` (whole in `bytes`): by hand for one or two bytes, as a step does for every frame. */
function headerReader(headerBytes: 1 | 2 | 4, bigEndian: boolean): HeaderReader {
  if (headerBytes === 1) return (bytes, at) => bytes[at]!;
  if (headerBytes === 2) return bigEndian ? (bytes, at) => (bytes[at]! << 8) | bytes[at + 1]! : (bytes, at) => bytes[at]! | (bytes[at + 1]! << 8);
  return bigEndian ? (bytes, at) => bytes.readUInt32BE(at) : (bytes, at) => bytes.readUInt32LE(at);
}

/**
 * Reads frames that start with their length as a binary number. A header past `maxLength` is
 * `FrameTooLong` before any of the payload is buffered; input that ends inside a frame is `IncompleteFrame`.
 */
export function lengthPrefixedDecoder(options: LengthPrefixedOptions & FailOnError): DecoderFactory<Buffer>;
/**
 * With `onError: 'skip'`: a payload past `maxLength` is dropped as it arrives (its header says
 * where it ends; nothing of it is held), and it, or a frame cut short by the end of input, comes as
 * a Left; the frames after it are read. A header that cannot be a length still fails.
 */
export function lengthPrefixedDecoder(options: LengthPrefixedOptions & SkipOnError): DecoderFactory<Either<FrameTooLong | IncompleteFrame, Buffer>>;
export function lengthPrefixedDecoder(
  options: LengthPrefixedOptions & { onError?: OnError },
): DecoderFactory<Buffer> | DecoderFactory<Either<FrameTooLong | IncompleteFrame, Buffer>> {
  const checked = framing('lengthPrefixed', options);
  const newDecoder = () => new LengthPrefixedDecoder(checked);
  // Told not to skip, it never gives an error as a frame.
  return checked.skip ? skipping<Buffer, FrameTooLong | IncompleteFrame>(newDecoder) : (newDecoder as DecoderFactory<Buffer>);
}

/** What `lengthPrefixedDecoder(options)` drops around each payload it cuts from a chunk: its header, before it. */
export function lengthPrefixedSeparators(options: LengthPrefixedOptions): Separators {
  return { before: framing('lengthPrefixed', options).headerBytes, after: 0 };
}

/**
 * Puts the payload's length in front of it, as one Buffer. A payload too long for the header or
 * for `maxLength` is `FrameTooLong`.
 */
export function lengthPrefixedEncoder(options: LengthPrefixedOptions): Encoder<Buffer> {
  return encoderOf(lengthPrefixedFrameEncoder(options));
}

/** `lengthPrefixedEncoder` for `encodeLengthPrefixed()`, which may answer a payload with the bytes it came in, with no Either per frame. */
export function lengthPrefixedFrameEncoder(options: LengthPrefixedOptions): FrameEncoder<Buffer> {
  const { headerBytes, bigEndian, readHeader, headerOverhead, maxLength } = framing('encodeLengthPrefixed', options);
  return {
    framing: { bytes: headerBytes, trailer: undefined, header: { bytes: headerBytes, overhead: headerOverhead, maxLength, read: readHeader } },
    encode: (payload) => {
      if (payload.length > maxLength) return new FrameTooLong(payload.length, maxLength);
      const length = payload.length + headerOverhead;
      const bytes = Buffer.allocUnsafe(headerBytes + payload.length);
      if (bigEndian) bytes.writeUIntBE(length, 0, headerBytes);
      else bytes.writeUIntLE(length, 0, headerBytes);
      bytes.set(payload, headerBytes);
      return bytes;
    },
  };
}

/** Payloads; told to skip, the errors of payloads it dropped among them. */
class LengthPrefixedDecoder implements Decoder<Buffer | FrameTooLong> {
  private readonly received = new ChunkQueue();
  /** The length of the payload being read; undefined while reading a header. */
  private payloadLength: number | undefined;
  /** Bytes still to drop of a payload past the limit, when skipping. */
  private discarding = 0;

  constructor(private readonly framing: Framing) {}

  get buffered(): number {
    return this.received.length;
  }

  decode(chunk: Buffer): Decoded<Buffer | FrameTooLong> {
    const payloads: (Buffer | FrameTooLong)[] = [];
    const { headerBytes, maxLength } = this.framing;
    let from = this.discard(chunk, 0);
    if (this.discarding > 0) return { frames: payloads };
    if (this.received.length > 0 || this.payloadLength !== undefined) {
      // The frame begun in an earlier chunk takes from this one only the bytes it lacks.
      if (this.payloadLength === undefined) {
        from = Math.max(0, headerBytes - this.received.length);
        if (chunk.length < from) return this.hold(chunk, payloads);
        this.received.push(chunk.subarray(0, from));
        const length = this.readHeader(this.received.take(headerBytes), 0);
        if (typeof length !== 'number') return { frames: payloads, error: length };
        if (length > maxLength) {
          if (!this.framing.skip) return { frames: payloads, error: new FrameTooLong(length, maxLength) };
          payloads.push(new FrameTooLong(length, maxLength));
          this.discarding = length;
          from = this.discard(chunk, from);
          if (this.discarding > 0) return { frames: payloads };
        } else this.payloadLength = length;
      }
      if (this.payloadLength !== undefined) {
        const missing = this.payloadLength - this.received.length;
        if (chunk.length - from < missing) return this.hold(from === 0 ? chunk : chunk.subarray(from), payloads);
        this.received.push(chunk.subarray(from, from + missing));
        from += missing;
        payloads.push(this.received.take(this.payloadLength));
        this.payloadLength = undefined;
      }
    }
    // Frames that lie whole in the chunk are views of it, with no queue between, made from its
    // ArrayBuffer and offset, read once: subarray() reads both through getters for every frame.
    // Only the first, when it began in an earlier chunk, is not (see `Separators`).
    const buffer = chunk.buffer;
    const base = chunk.byteOffset;
    while (chunk.length - from >= headerBytes) {
      const length = this.readHeader(chunk, from);
      if (typeof length !== 'number') return { frames: payloads, error: length };
      if (length > maxLength) {
        if (!this.framing.skip) return { frames: payloads, error: new FrameTooLong(length, maxLength) };
        payloads.push(new FrameTooLong(length, maxLength));
        this.discarding = length;
        from = this.discard(chunk, from + headerBytes);
        continue;
      }
      const end = from + headerBytes + length;
      if (end > chunk.length) {
        this.payloadLength = length;
        from += headerBytes;
        break;
      }
      payloads.push(Buffer.from(buffer, base + from + headerBytes, length));
      from = end;
    }
    return this.hold(from === 0 ? chunk : chunk.subarray(from), payloads);
  }

  /** Drops what is left to drop of a skipped payload from `chunk` at `from`; returns where the rest starts. */
  private discard(chunk: Buffer, from: number): number {
    const dropped = Math.min(this.discarding, chunk.length - from);
    this.discarding -= dropped;
    return from + dropped;
  }

  /** Keeps `bytes`, the start of a frame, for the next chunk. */
  private hold(bytes: Buffer, payloads: (Buffer | FrameTooLong)[]): Decoded<Buffer | FrameTooLong> {
    this.received.push(bytes);
    this.received.settle();
    return { frames: payloads };
  }

  end(): Decoded<Buffer | FrameTooLong> {
    const received = this.received.length;
    if (this.discarding > 0) return { frames: [], error: new IncompleteFrame(0, this.discarding) };
    if (this.payloadLength !== undefined) return { frames: [], error: new IncompleteFrame(received, this.payloadLength) };
    if (received > 0) return { frames: [], error: new IncompleteFrame(received, this.framing.headerBytes, 'length header') };
    return nothingDecoded;
  }

  /** The payload length the header at `at` in `bytes` gives, or why it gives none. */
  private readHeader(bytes: Buffer, at: number): number | DecodeError {
    const { headerBytes, readHeader, headerOverhead } = this.framing;
    const length = readHeader(bytes, at);
    if (length < headerOverhead) {
      return new DecodeError(`length ${length} is less than the ${headerBytes}-byte header it includes`);
    }
    return length - headerOverhead;
  }
}
