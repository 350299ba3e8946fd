import { Observable, Subscriber } from 'rxjs';
import { decodeOptions } from '../../core/options';
import { connectDatagram } from '../datagram/client';
import { ReliableDatagramConnection } from './connection';
import { ConnectReliableDatagramOptions, splitReliability } from './options';

/**
 * A reliable-datagram session with one server, emitted once as a ReliableDatagramConnection:
 * `exchange(output)` sends each Buffer as one message and emits each message the server sends,
 * once each, in arrival order. Like UDP it has no end-of-stream: take what you expect. It errors
 * with `Undeliverable` for a message the server never acknowledges, and with `NoReply` once
 * nothing has moved either way for `timeoutMs`. Unsubscribing closes the socket.
 *
 * ```ts
 * connectReliableDatagram({ port: 50007 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))), take(1))
 * ```
 */
export function connectReliableDatagram(options: ConnectReliableDatagramOptions): Observable<ReliableDatagramConnection> {
  return connectReliableDatagramFrom(options, 0);
}

/** `connectReliableDatagram` whose first message has id `firstId`: for specs of the id wrap. */
export function connectReliableDatagramFrom(options: ConnectReliableDatagramOptions, firstId: number): Observable<ReliableDatagramConnection> {
  const { reliability, datagram } = splitReliability(decodeOptions('connectReliableDatagram', ConnectReliableDatagramOptions, options));
  return new Observable<ReliableDatagramConnection>((subscriber) => {
    let conn: ReliableDatagramConnection | undefined;
    let toSocket: Subscriber<Buffer> | undefined;
    const outgoing = new Observable<Buffer>((out) => {
      toSocket = out;
      return () => (toSocket = undefined);
    });
    const link = connectDatagram(datagram).subscribe({
      next: (udp) => {
        conn = new ReliableDatagramConnection({ ...udp.info, transport: 'rdm' }, reliability, (bytes) => toSocket?.next(bytes), {
          holdReadsWhenFull: false,
          addressValidated: true,
          onlyAddressedToIt: true,
          firstId,
        });
        const connected = conn;
        link.add(
          udp.exchange(outgoing).subscribe({
            next: (bytes) => connected.receive(bytes),
            error: (err) => connected.endInput(err),
          }),
        );
        subscriber.next(conn);
      },
      error: (err) => (conn ? conn.endInput(err) : subscriber.error(err)),
    });
    return () => {
      // Acknowledgements still batched go out before the socket closes.
      conn?.dispose();
      link.unsubscribe();
    };
  });
}
