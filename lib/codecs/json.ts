import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { DecodeError } from '../core/errors';
import { DEFAULTS } from '../core/defaults';
import { decodeOptions, formatErrors, ioTsCodec, strictOptions, wholeNumber } from '../core/options';

const EXCERPT_CHARS = 80;

const excerptOf = (text: string) => (text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS - 3)}...` : text);

/** A path into the document as jq writes it: `.a.b[2]`, `[0]`. */
const jqPath = (path: string) => (path === '' || path.startsWith('[') ? path : `.${path}`);

export interface JsonOptions {
  /** Deepest nesting of arrays and objects taken. Default 64: deeper input is a DecodeError. */
  maxDepth?: number;
}

const JsonOptions = strictOptions({}, { maxDepth: wholeNumber(1) });

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether the JSON text in `frame` nests arrays and objects deeper than `maxDepth`; strings are skipped. */
function nestsDeeperThan(frame: Buffer, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < frame.length; i++) {
    const byte = frame[i]!;
    if (byte === QUOTE) {
      for (i++; i < frame.length && frame[i] !== QUOTE; i++) if (frame[i] === BACKSLASH) i++;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/**
 * Reads one frame as JSON of the codec's type. Never throws: Left is a `DecodeError` with one line,
 * `not JSON: …`, `nested deeper than 64 levels`, or the first mismatch, such as `.a: expected
 * number, got "x"`. The depth is checked before parsing, so no input can overflow the stack of
 * the parser, the codec or the error message.
 */
export function jsonFrameDecoder<A>(codec: t.Decoder<unknown, A>, options: JsonOptions = {}): (frame: Buffer) => E.Either<DecodeError, A> {
  decodeOptions('json: codec', ioTsCodec('decode'), codec);
  const { maxDepth = DEFAULTS.maxJsonDepth } = decodeOptions('json', JsonOptions, options);
  return (frame) => {
    // Each level takes a byte at least, so a frame no longer than maxDepth needs no scan.
    if (frame.length > maxDepth && nestsDeeperThan(frame, maxDepth)) {
      return E.left(new DecodeError(`nested deeper than ${maxDepth} levels`, excerptOf(frame.subarray(0, EXCERPT_CHARS).toString('utf8'))));
    }
    const text = frame.toString('utf8');
    const excerpt = excerptOf(text);
    return pipe(
      E.tryCatch(
        (): unknown => JSON.parse(text),
        // V8 quotes the input in its message, line breaks and all: keep it to one line.
        (err) => {
          const reason = err instanceof Error ? err.message : String(err);
          return new DecodeError(`not JSON: ${reason.replace(/[\r\n]+/g, ' ')}`, excerpt);
        },
      ),
      E.chain((value) => pipe(codec.decode(value), E.mapLeft((errors) => new DecodeError(formatErrors(errors, jqPath), excerpt)))),
    );
  };
}

/** Writes a value as JSON (encoded by `codec` first, when given), with no delimiter. */
export function jsonFrameEncoder<A = unknown, O = A>(codec?: t.Encoder<A, O>): (value: A) => Buffer {
  return (value) => {
    const encoded = codec ? codec.encode(value) : value;
    let text: string;
    try {
      text = JSON.stringify(encoded);
    } catch (err) {
      // A value nested past the stack's depth (or a cycle, a BigInt) cannot be written: say so in one line.
      throw new TypeError(`encodeJson: cannot write the value as JSON: ${err instanceof RangeError ? 'it nests too deeply' : (err as Error).message.split('\n')[0]}`);
    }
    return Buffer.from(text);
  };
}
