// The seed's client: send a message, half-close, print the reply.
//   npx ts-node examples/client.ts [--host H] [--port N | --unix PATH] [--udp | --tls [--tls-ca FILE]] [--timeout-ms N] [MESSAGE]
// With --udp, MESSAGE goes as one datagram and the first reply datagram is printed.
import { clientArgsOrExit, connect, connectDatagram, exitWith } from 'rxwire';
import { first, lastValueFrom, mergeMap, of, reduce } from 'rxjs';

const { options, message } = clientArgsOrExit('client', process.argv.slice(2));
const request = of(Buffer.from(message ?? 'Hello Huangpingyi'));

const reply =
  'udp' in options
    ? connectDatagram(options.udp).pipe(mergeMap((conn) => conn.exchange(request)), first())
    : connect(options).pipe(
        mergeMap((conn) => conn.exchange(request)),
        reduce((all, chunk) => Buffer.concat([all, chunk]), Buffer.alloc(0)),
      );

lastValueFrom(reply).then(
  (bytes) => console.log(`Received ${bytes.toString()}`),
  (err: Error) => exitWith(1, err.message),
);
