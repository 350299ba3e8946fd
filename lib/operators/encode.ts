import { isLeft } from 'fp-ts/Either';
import { map, OperatorFunction } from 'rxjs';
import { Encoder } from '../codecs/codec';
import { decodeOptions, FunctionArgument } from '../core/options';

/**
 * Runs an encoder over a stream of frames: one Buffer out per frame. A frame the encoder cannot
 * send (`FrameTooLong`) errors the stream, which ends the connection.
 *
 * ```ts
 * pipe(lengthPrefixed({ headerBytes: 2 }), map(handle), encode(lengthPrefixedEncoder({ headerBytes: 2 })))
 * ```
 */
export function encode<F>(encoder: Encoder<F>): OperatorFunction<F, Buffer> {
  decodeOptions('encode: encoder', FunctionArgument, encoder);
  return map((frame) => {
    const encoded = encoder(frame);
    // map turns a throw into an error notification downstream.
    if (isLeft(encoded)) throw encoded.left;
    return encoded.right;
  });
}
