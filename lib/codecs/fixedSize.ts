import { IncompleteFrame } from '../core/errors';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { ChunkQueue } from './chunkQueue';
import { Decoded, Decoder, DecoderFactory, nothingDecoded } from './codec';

const FixedSizeOptions = strictOptions({ size: wholeNumber(1) }, {});

/** Cuts bytes into frames of exactly `size` bytes; input that ends with fewer is `IncompleteFrame`. */
export function fixedSizeDecoder(size: number): DecoderFactory<Buffer> {
  decodeOptions('fixedSize', FixedSizeOptions, { size });
  return () => new FixedSizeDecoder(size);
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
