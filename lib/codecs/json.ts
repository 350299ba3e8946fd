import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { DecodeError } from '../core/errors';
import { formatErrors } from '../core/options';

const EXCERPT_CHARS = 80;

/** A path into the document as jq writes it: `.a.b[2]`, `[0]`. */
const jqPath = (path: string) => (path === '' || path.startsWith('[') ? path : `.${path}`);

/**
 * Reads one frame as JSON of the codec's type. Never throws: Left is a `DecodeError` with one line,
 * `not JSON: …` or the first mismatch, such as `.a: expected number, got "x"`.
 */
export function jsonFrameDecoder<A>(codec: t.Decoder<unknown, A>): (frame: Buffer) => E.Either<DecodeError, A> {
  return (frame) => {
    const text = frame.toString('utf8');
    const excerpt = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS - 3)}...` : text;
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
  return (value) => Buffer.from(JSON.stringify(codec ? codec.encode(value) : value));
}
