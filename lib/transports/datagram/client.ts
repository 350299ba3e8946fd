import * as dgram from 'node:dgram';
import { defer, from, Observable, switchMap } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { NoReply } from '../../core/errors';
import { decodeOptions } from '../../core/options';
import { formatHost, nextConnectionId } from '../identity';
import { DatagramConnection } from './connection';
import { ConnectDatagramOptions } from './options';
import { socketTypeFor } from './socketType';

/**
 * A UDP socket connected to one server, emitted once as a DatagramConnection: `exchange(output)`
 * sends each Buffer as one datagram, and emits each reply datagram. UDP has no end-of-stream, so
 * the input never completes by itself: take what you expect (`first()`), and the input errors with
 * `NoReply` (`no reply from udp 127.0.0.1:50007 within 10000 ms`) once nothing has moved either
 * way for `timeoutMs`. Unsubscribing closes the socket.
 *
 * ```ts
 * connectDatagram({ port: 50007 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))), first())
 * ```
 */
export function connectDatagram(options: ConnectDatagramOptions): Observable<DatagramConnection> {
  const opts = decodeOptions('connectDatagram', ConnectDatagramOptions, options);
  const host = opts.host ?? DEFAULTS.clientHost;
  const port = opts.port ?? DEFAULTS.port;
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.connectTimeoutMs;
  const target = formatHost(host, port);
  return defer(() => from(socketTypeFor(host))).pipe(
    switchMap(
      (type) =>
        new Observable<DatagramConnection>((subscriber) => {
          const socket = dgram.createSocket(type);
          let conn: DatagramConnection | undefined;
          const failed = (err: Error) => (conn ? conn.endInput(err) : subscriber.error(err));
          const silence = setTimeout(() => failed(new NoReply(target, timeoutMs)), timeoutMs);
          socket.on('error', (err: NodeJS.ErrnoException) => {
            // A port-unreachable answer is a hint that may as well have been lost: UDP promises
            // nothing, so whether a reply comes is for the timeout to tell.
            if (err.code !== 'ECONNREFUSED') failed(err);
          });
          socket.connect(port, host, () => {
            const local = socket.address();
            const remote = socket.remoteAddress();
            const info = { id: nextConnectionId(), transport: 'udp' as const, local: formatHost(local.address, local.port), remote: formatHost(remote.address, remote.port) };
            const connected = new DatagramConnection(info, (datagram, sent) => socket.send(datagram, sent), opts.maxDatagram);
            connected.onActivity(() => silence.refresh());
            socket.on('message', (datagram) => connected.deliver(datagram));
            conn = connected;
            subscriber.next(connected);
          });
          return () => {
            clearTimeout(silence);
            conn?.end();
            socket.close();
          };
        }),
    ),
  );
}
