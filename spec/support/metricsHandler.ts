// A handler module for the metrics specs, served by `rxwire --handler`: it greets with `PID`, so a
// client learns which worker it reached, then answers each line in upper case; a line `boom`
// makes it fail (a handler error), a line past 16 bytes breaks the protocol.
import { concat, map, of, pipe } from 'rxjs';
import { encodeLines, Handler, lines } from 'rxwire';
import { upperBytes } from '../../handlers/upper';

const answer = pipe(
  lines({ maxLength: 16 }),
  map((line) => {
    if (line.toString() === 'boom') throw new Error('boom, as asked');
    return upperBytes(line);
  }),
  encodeLines(),
);

const handler: Handler = (input) => concat(of(Buffer.from(`${process.pid}\n`)), input.pipe(answer));
export default handler;
