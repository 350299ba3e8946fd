// The seed's client: send a message, half-close, print the reply.
//   npx ts-node examples/client.ts [--host H] [--port N | --unix PATH] [--udp | --rdm | --tls [--tls-ca FILE]] [--timeout-ms N] [MESSAGE...]
// With --udp, MESSAGE goes as one datagram and the first reply datagram is printed. With --rdm,
// each MESSAGE goes as one reliable datagram, and each reply is printed as it comes; it exits 0
// once there are as many replies as messages.
import { connect, connectDatagram, connectReliableDatagram, DEFAULTS } from 'rxwire';
import { clientArgsOrExit, exitWith } from 'rxwire/cli';
import { first, from, lastValueFrom, mergeMap, of, reduce, take, tap, timeout } from 'rxjs';

const { options, message, messages } = clientArgsOrExit('client', process.argv.slice(2));
const request = of(Buffer.from(message ?? 'Hello Huangpingyi'));
const print = (bytes: Buffer) => console.log(`Received ${bytes.toString()}`);

if ('rdm' in options) {
  const sent = (messages.length > 0 ? messages : ['Hello Huangpingyi']).map((text) => Buffer.from(text));
  const timeoutMs = options.rdm.timeoutMs ?? DEFAULTS.connectTimeoutMs;
  let received = 0;
  const replies = connectReliableDatagram(options.rdm).pipe(
    mergeMap((conn) => conn.exchange(from(sent))),
    take(sent.length),
    tap(() => received++),
    timeout({ each: timeoutMs, with: () => exitWith(1, `client: no reply within ${timeoutMs} ms (${received} of ${sent.length} replies)`) }),
  );
  replies.subscribe({ next: print, error: (err: Error) => exitWith(1, err.message) });
} else {
  const reply =
    'udp' in options
      ? connectDatagram(options.udp).pipe(mergeMap((conn) => conn.exchange(request)), first())
      : connect(options).pipe(
          mergeMap((conn) => conn.exchange(request)),
          reduce((all, chunk) => Buffer.concat([all, chunk]), Buffer.alloc(0)),
        );
  lastValueFrom(reply).then(print, (err: Error) => exitWith(1, err.message));
}
