import { map, pipe } from 'rxjs';
import { backpressure, encodeLengthPrefixed, lengthPrefixed } from 'rxwire';

// lines-upper.ts with length-prefixed framing: frames behind a 2-byte big-endian length, each
// payload uppercased in place (a frame is the pipeline's own Buffer), framed again.
const UPPER = new Uint8Array(256);
for (let b = 0; b < 256; b++) UPPER[b] = b >= 97 && b <= 122 ? b - 32 : b;
function upperInPlace(frame: Buffer): Buffer {
  for (let i = 0; i < frame.length; i++) frame[i] = UPPER[frame[i]];
  return frame;
}

const framing = { headerBytes: 2 } as const;

export default pipe(backpressure(), lengthPrefixed(framing), map(upperInPlace), encodeLengthPrefixed(framing));
