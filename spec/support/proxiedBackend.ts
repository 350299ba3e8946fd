// A backend for the HAProxy specs, in a process of its own so that it can be killed: it takes a
// PROXY header on every connection, greets with `PID REMOTE`, then answers each read in upper case.
import { concat, map, of } from 'rxjs';
import { serve } from 'rxwire';
import { upperBytes } from '../../handlers/upper';

void serve({ host: '127.0.0.1', port: 0, proxyProtocol: true, graceMs: 100 }, (input, conn) =>
  concat(of(Buffer.from(`${process.pid} ${conn.remote}\n`)), input.pipe(map(upperBytes))),
).then((server) => {
  process.stdout.write(`listening on ${server.address}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
});
