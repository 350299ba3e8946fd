// A copy of ../shared/bench/targets/lines-upper.ts, so that `npm run bench` runs without ../shared.
import { map, pipe } from 'rxjs';
import { backpressure, encodeLines, lines } from 'rxwire';

// What a performance-aware user writes for "answer each line uppercased": frame, uppercase each
// line in place (a line is the pipeline's own Buffer), frame again.
const UPPER = new Uint8Array(256);
for (let b = 0; b < 256; b++) UPPER[b] = b >= 97 && b <= 122 ? b - 32 : b;
function upperInPlace(line: Buffer): Buffer {
  for (let i = 0; i < line.length; i++) line[i] = UPPER[line[i]];
  return line;
}

export default pipe(backpressure(), lines(), map(upperInPlace), encodeLines());
