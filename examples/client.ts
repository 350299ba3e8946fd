// The seed's client: send a message, half-close, print the reply.
//   npx ts-node examples/client.ts [--host H] [--port N] [--timeout-ms N] [MESSAGE]
import { argsOrExit, clientFlags, connect, exitWith } from 'rxwire';
import { lastValueFrom, mergeMap, of, reduce } from 'rxjs';

const { flags, positional } = argsOrExit('client', 'client [flags] [MESSAGE]', process.argv.slice(2), clientFlags, 1);
const message = positional[0] ?? 'Hello Huangpingyi';

lastValueFrom(
  connect({ host: flags.host, port: flags.port, timeoutMs: flags['timeout-ms'] }).pipe(
    mergeMap((conn) => conn.exchange(of(Buffer.from(message)))),
    reduce((reply, chunk) => Buffer.concat([reply, chunk]), Buffer.alloc(0)),
  ),
).then(
  (reply) => console.log(`Received ${reply.toString()}`),
  (err: Error) => exitWith(1, err.message),
);
