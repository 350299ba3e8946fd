import { map, OperatorFunction } from 'rxjs';
import { frameEncoder, LengthPrefixedOptions } from '../codecs/lengthPrefixed';

/**
 * Puts each payload's length in front of it, the inverse of `lengthPrefixed` with the same
 * options. A payload the header cannot express, or longer than `maxLength`, errors with `FrameTooLong`.
 *
 * ```ts
 * pipe(lengthPrefixed({ headerBytes: 2 }), map(handle), encodeLengthPrefixed({ headerBytes: 2 }))
 * ```
 */
export function encodeLengthPrefixed(options: LengthPrefixedOptions): OperatorFunction<Buffer, Buffer> {
  const encodeFrame = frameEncoder(options);
  return map((payload) => {
    const bytes = encodeFrame(payload);
    // map turns a throw into an error notification downstream; no Either per frame.
    if (!Buffer.isBuffer(bytes)) throw bytes;
    return bytes;
  });
}
