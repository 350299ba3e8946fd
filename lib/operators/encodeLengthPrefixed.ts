import { OperatorFunction } from 'rxjs';
import { lengthPrefixedFrameEncoder, LengthPrefixedOptions } from '../codecs/lengthPrefixed';
import { encodeFrames } from './encodeFrames';

/**
 * Puts each payload's length in front of it, the inverse of `lengthPrefixed` with the same
 * options: one Buffer out per payload, or over a stream socket one per run of payloads that
 * `lengthPrefixed()` cut from one read and that still lie there behind their headers. A payload
 * the header cannot express, or longer than `maxLength`, errors with `FrameTooLong`.
 *
 * ```ts
 * pipe(lengthPrefixed({ headerBytes: 2 }), map(handle), encodeLengthPrefixed({ headerBytes: 2 }))
 * ```
 */
export function encodeLengthPrefixed(options: LengthPrefixedOptions): OperatorFunction<Buffer, Buffer> {
  return encodeFrames(lengthPrefixedFrameEncoder(options));
}
