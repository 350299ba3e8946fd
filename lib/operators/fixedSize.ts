import { OperatorFunction } from 'rxjs';
import { fixedSizeDecoder } from '../codecs/fixedSize';
import { decode, FrameOptions } from './decode';

/**
 * Cuts a byte stream into frames of exactly `size` bytes. Input that ends part-way through a
 * frame errors with `IncompleteFrame`.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(fixedSize(16), map(lookupRecord)));
 * ```
 */
export function fixedSize(size: number, options: FrameOptions = {}): OperatorFunction<Buffer, Buffer> {
  return decode(fixedSizeDecoder(size), options);
}
