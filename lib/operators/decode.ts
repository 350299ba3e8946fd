import { concat, defer, from, mergeMap, ObservableInput, OperatorFunction, throwError } from 'rxjs';
import { Decoded, DecoderFactory } from '../codecs/codec';

/**
 * Runs a codec over a byte stream: each subscription gets a fresh decoder, every chunk goes into
 * it, and its frames come out. A frame that breaks the protocol (`FrameTooLong`, `IncompleteFrame`,
 * `DecodeError`) errors the stream after the good frames before it, which ends the connection.
 *
 * ```ts
 * const framing = { headerBytes: 2 } as const;
 * serve({ port: 9000 }, pipe(decode(lengthPrefixedDecoder(framing)), map(handle), encode(lengthPrefixedEncoder(framing))));
 * ```
 */
export function decode<F>(newDecoder: DecoderFactory<F>): OperatorFunction<Buffer, F> {
  // Built from RxJS operators rather than by hand: after an error they stop the source at once,
  // even a synchronous one such as `from(iterable)`, so no more input is read or buffered.
  return (source) =>
    defer(() => {
      const decoder = newDecoder();
      return concat(
        source.pipe(mergeMap((chunk) => emitted(decoder.decode(chunk)))),
        defer(() => emitted(decoder.end())),
      );
    });
}

/** The frames of one step, then its error if it has one. */
function emitted<F>({ frames, error }: Decoded<F>): ObservableInput<F> {
  return error ? concat(from(frames), throwError(() => error)) : frames;
}
