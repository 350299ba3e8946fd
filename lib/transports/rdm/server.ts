import { Observable } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { Handler } from '../../core/handler';
import { decodeOptions } from '../../core/options';
import { hostDatagrams } from '../datagram/server';
import { TrafficTotals } from '../traffic';
import { BufferBudget } from '../transportConnection';
import { checkHandler, handlerOutput, Server } from '../hosting';
import { AbortOptions, liveSignalOf, withLifetime } from '../lifetime';
import { closeBecause, closesFor, ownEventsOf } from '../serverEvents';
import { ReliableDatagramConnection } from './connection';
import { EndedSessions } from './endedSessions';
import { ReliableDatagramServeOptions, splitReliability } from './options';

export interface ReliableDatagramServer extends Server {
  /** Datagrams from new peers dropped because `maxPeers` peers had sessions. */
  readonly droppedFromNewPeers: number;
  /** Datagrams that were not the protocol (or not its version): dropped. */
  readonly droppedMalformed: number;
  /** Messages received again after they had been delivered: acknowledged again, not delivered. */
  readonly duplicates: number;
  /** Messages sent again for want of an acknowledgement. */
  readonly retransmissions: number;
  /** Messages sent and not yet acknowledged, over every peer: at most `window` per peer. */
  readonly unacknowledged: number;
  /** Bytes of messages held, over every peer (inboxes, unacknowledged and waiting output, decoders): at most `maxBufferedBytes`. */
  readonly bufferedBytes: number;
  /** Sends to peer addresses not yet validated held back by the amplification limit (3× what came from them). */
  readonly withheld: number;
}

type Totals = Pick<ReliableDatagramConnection['counts'], 'malformed' | 'duplicates' | 'retransmissions' | 'withheld'>;

/**
 * Serves reliable datagrams (SOCK_RDM) over UDP: each peer is a session, as with
 * `serveDatagrams`, and each message it sends reaches the handler once, in whatever order the
 * network brought it; each Buffer the handler emits is one message, retransmitted with backoff
 * until the peer acknowledges it. A message never acknowledged ends its session with
 * `Undeliverable`; a peer that stops acknowledging holds the handler's reads once `window`
 * messages wait for it. Until a peer's address is validated (it acknowledged a message, or
 * answered a probe), it is sent at most 3× the bytes that came from it. Every session's inbox and
 * unacknowledged output count against `maxBufferedBytes`; a session whose handler would pass it is
 * shed with `SessionShed`. Takes `serveDatagrams`' options and `window`, `maxQueued`,
 * `retransmitMs`, `maxRetransmitMs`, `maxRetries`, `maxRetransmitBytes`, `maxBufferedBytes`.
 * Aborting `signal` closes it as `close()` does.
 *
 * ```ts
 * const server = await serveReliableDatagrams({ port: 50007 }, upper);
 * ```
 */
export async function serveReliableDatagrams(options: ReliableDatagramServeOptions, handler: Handler, lifetime?: AbortOptions): Promise<ReliableDatagramServer> {
  const { reliability, datagram: { maxBufferedBytes, ...datagram } } = splitReliability(decodeOptions('serveReliableDatagrams', ReliableDatagramServeOptions, options));
  const budget = new BufferBudget(maxBufferedBytes ?? DEFAULTS.maxBufferedBytes);
  checkHandler('serveReliableDatagrams', handler);
  const signal = liveSignalOf('serveReliableDatagrams', lifetime);
  const live = new Set<ReliableDatagramConnection>();
  const ended: Totals = { malformed: 0, duplicates: 0, retransmissions: 0, withheld: 0 };
  // The frames its handlers' decoders counted, on each session's own connection; bytes are the UDP server's, as its close events tell them.
  const frames = new TrafficTotals();
  const total = (key: keyof Totals) => [...live].reduce((sum, conn) => sum + conn.counts[key], ended[key]);
  // As long as a peer may still retransmit (every retry at the longest backoff), what its ended session took is kept.
  const endedSessions = new EndedSessions(reliability.maxRetries * reliability.maxRetransmitMs * 1.25, datagram.maxPeers ?? DEFAULTS.maxPeers);

  const udp = await hostDatagrams(datagram, (datagrams, udpInfo) => {
    const info = { ...udpInfo, transport: 'rdm' as const };
    return new Observable<Buffer>((out) => {
      const conn = new ReliableDatagramConnection(info, reliability, (bytes) => out.next(bytes), {
        holdReadsWhenFull: true,
        addressValidated: false,
        onlyAddressedToIt: false,
        budget,
        arrivals: endedSessions.take(info.remote),
      });
      live.add(conn);
      // The session lasts until the UDP session's input has ended too: till then, a retransmission
      // of a message already delivered must still be acknowledged, not delivered again.
      let outputDone = false;
      let linkDone = false;
      const finishIfDone = () => outputDone && linkDone && out.complete();
      const link = datagrams.subscribe({
        next: (bytes) => conn.receive(bytes),
        error: (err) => out.error(err),
        complete: () => {
          linkDone = true;
          conn.endLink();
          finishIfDone();
        },
      });
      try {
        const sending = conn.send(handlerOutput(handler, conn.input, info)).subscribe({
          error: (err) => out.error(err),
          complete: () => {
            outputDone = true;
            finishIfDone();
          },
        });
        link.add(sending);
      } catch (err) {
        out.error(err);
      }
      return () => {
        link.unsubscribe();
        conn.dispose();
        endedSessions.keep(info.remote, conn.arrivals);
        live.delete(conn);
        frames.ended(conn);
        for (const key of Object.keys(ended) as (keyof Totals)[]) ended[key] += conn.counts[key];
      };
    });
  }, undefined, 'rdm');

  const served = withLifetime<ReliableDatagramServer>({
    transport: 'rdm',
    events: udp.events,
    address: udp.address,
    port: udp.port,
    get connections() {
      return udp.connections;
    },
    traffic: () => ({ ...udp.traffic(), frames: frames.with(live).frames }),
    get droppedFromNewPeers() {
      return udp.droppedFromNewPeers;
    },
    get droppedMalformed() {
      return total('malformed');
    },
    get duplicates() {
      return total('duplicates');
    },
    get retransmissions() {
      return total('retransmissions');
    },
    get unacknowledged() {
      return [...live].reduce((sum, conn) => sum + conn.unacknowledged, 0);
    },
    get bufferedBytes() {
      return budget.used;
    },
    get withheld() {
      return total('withheld');
    },
    close: (graceMs) => udp.close(graceMs),
  }, signal);
  return closesFor(served, (reason) => closeBecause(udp, reason), ownEventsOf(udp));
}
