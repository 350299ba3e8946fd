// A handler module for the HAProxy specs, served by `rxwire --handler`: it greets with
// `PID REMOTE`, so a client learns which backend process it reached and what address it saw,
// then answers each read in upper case.
import { concat, map, of } from 'rxjs';
import { Handler } from 'rxwire';
import { upperBytes } from '../../handlers/upper';

const greeting: Handler = (input, conn) => concat(of(Buffer.from(`${process.pid} ${conn.remote}\n`)), input.pipe(map(upperBytes)));
export default greeting;
