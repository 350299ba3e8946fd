import { Either } from 'fp-ts/Either';
import { IncompleteFrame } from '../core/errors';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { ChunkQueue } from './chunkQueue';
import { Decoded, Decoder, DecoderFactory, nothingDecoded } from './codec';
import { FailOnError, OnError, skipping, SkipOnError } from './skipping';

const FixedSizeOptions = strictOptions({ size: wholeNumber(1) }, { onError: OnError });

/** Cuts bytes into frames of exactly `size` bytes; input that ends with fewer is `IncompleteFrame`. */
export function fixedSizeDecoder(size: number, options?: FailOnError): DecoderFactory<Buffer>;
/** With `onError: 'skip'`, the short tail at the end of input comes as a last Left, and the stream completes. */
export function fixedSizeDecoder(size: number, options: SkipOnError): DecoderFactory<Either<IncompleteFrame, Buffer>>;
export function fixedSizeDecoder(size: number, options: { onError?: OnError } = {}): DecoderFactory<Buffer> | DecoderFactory<Either<IncompleteFrame, Buffer>> {
  const { onError = 'fail' } = decodeOptions('fixedSize', FixedSizeOptions, { size, ...options });
  const newDecoder = () => new FixedSizeDecoder(size);
  return onError === 'skip' ? skipping<Buffer, IncompleteFrame>(newDecoder) : newDecoder;
}

class FixedSizeDecoder implements Decoder<Buffer> {
  private readonly received = new ChunkQueue();

  constructor(private readonly size: number) {}

  get buffered(): number {
    return this.received.length;
  }

  decode(chunk: Buffer): Decoded<Buffer> {
    this.received.push(chunk);
    const frames: Buffer[] = [];
    while (this.received.length >= this.size) frames.push(this.received.take(this.size));
    this.received.settle();
    return { frames };
  }

  end(): Decoded<Buffer> {
    const received = this.received.length;
    return received > 0 ? { frames: [], error: new IncompleteFrame(received, this.size) } : nothingDecoded;
  }
}
