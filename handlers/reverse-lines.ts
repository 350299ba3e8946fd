import { map, pipe } from 'rxjs';
import { backpressure, encodeLines, Handler, lines } from 'rxwire';

/** One line reversed, character by character, so UTF-8 comes back as text rather than torn bytes. */
export function reverseLine(line: Buffer): string {
  return [...line.toString('utf8')].reverse().join('');
}

/** Line-framed: every line the client sends comes back reversed. */
const reverseLines: Handler = pipe(backpressure(), lines(), map(reverseLine), encodeLines());
export default reverseLines;
