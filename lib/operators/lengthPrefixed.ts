import { OperatorFunction } from 'rxjs';
import { lengthPrefixedDecoder, lengthPrefixedSeparators, LengthPrefixedOptions } from '../codecs/lengthPrefixed';
import { decodeFrames, FrameOptions } from './decode';

/**
 * Reads frames that start with their length as a 1-, 2- or 4-byte number (big-endian unless
 * told) and emits their payloads. A length past `maxLength` (default 16 MiB) errors with
 * `FrameTooLong` at once, before any payload is buffered; input that ends inside a frame errors
 * with `IncompleteFrame`.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(lengthPrefixed({ headerBytes: 4 }), map(handle), encodeLengthPrefixed({ headerBytes: 4 })));
 * ```
 */
export function lengthPrefixed(options: LengthPrefixedOptions & FrameOptions): OperatorFunction<Buffer, Buffer> {
  const { frameTimeoutMs, ...codec } = options;
  return decodeFrames(lengthPrefixedDecoder(codec), lengthPrefixedSeparators(codec), frameTimeoutMs === undefined ? {} : { frameTimeoutMs });
}
