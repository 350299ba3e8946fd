import { OperatorFunction } from 'rxjs';
import { lengthPrefixedEncoder, LengthPrefixedOptions } from '../codecs/lengthPrefixed';
import { encode } from './encode';

/**
 * Puts each payload's length in front of it, the inverse of `lengthPrefixed` with the same
 * options. A payload the header cannot express, or longer than `maxLength`, errors with `FrameTooLong`.
 *
 * ```ts
 * pipe(lengthPrefixed({ headerBytes: 2 }), map(handle), encodeLengthPrefixed({ headerBytes: 2 }))
 * ```
 */
export function encodeLengthPrefixed(options: LengthPrefixedOptions): OperatorFunction<Buffer, Buffer> {
  return encode(lengthPrefixedEncoder(options));
}
