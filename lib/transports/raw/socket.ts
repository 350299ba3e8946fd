import * as t from 'io-ts';
import { Observable } from 'rxjs';
import { decodeOptions, strictOptions, wholeNumber } from '../../core/options';
import { InvalidOption } from '../../core/errors';
import { AddonSocket, openFailure, rawSocketAddon } from './addon';

/** One IP packet and the address it came from, or goes to. */
export interface RawPacket {
  readonly data: Buffer;
  readonly address: string;
}

export const RawSocketOptions = strictOptions(
  {
    /** The IP protocol number the socket sends and receives (1 ICMP, 58 ICMPv6, 253 experiments, …). */
    protocol: t.union([wholeNumber(0, 255), t.literal('icmp'), t.literal('icmpv6')]),
  },
  {
    /** IPv4 or IPv6. Default 6 for `'icmpv6'`, else 4. */
    family: t.union([t.literal(4), t.literal(6)]),
    /** IP_HDRINCL (IPv4 only): each packet sent starts with the IPv4 header the user built. */
    headerIncluded: t.boolean,
  },
);
export type RawSocketOptions = t.TypeOf<typeof RawSocketOptions>;

/** Packets handed to the socket and not yet sent, at most: past it they are dropped, as a full send queue drops them. */
const MAX_PENDING_SENDS = 1024;
/** Large enough for any IPv4 packet. */
const RECEIVE_BUFFER = 65_535;

/**
 * A raw IP socket (SOCK_RAW): `input` emits every packet of its protocol that reaches the host,
 * with its source address (over IPv4, the IP header included); `send` sends each packet to its
 * address. Raw sockets see every packet of their protocol, not only answers to their own.
 */
export class RawSocket {
  private pending = 0;
  private dropped = 0;

  constructor(
    private readonly socket: AddonSocket,
    readonly family: 4 | 6,
    readonly protocol: number,
  ) {}

  /** Packets dropped because MAX_PENDING_SENDS were waiting to be sent. */
  get droppedUnsent(): number {
    return this.dropped;
  }

  readonly input = new Observable<RawPacket>((subscriber) => {
    const onMessage = (data: Buffer, address: string) => subscriber.next({ data, address });
    const onError = (err: Error) => subscriber.error(err);
    this.socket.on('message', onMessage).on('error', onError);
    return () => this.socket.off('message', onMessage).off('error', onError);
  });

  /** Sends every packet of `packets`; completes once they are all sent, errors with the socket's error. */
  send(packets: Observable<RawPacket>): Observable<never> {
    return new Observable<never>((subscriber) => {
      let unsent = 0;
      let done = false;
      const finishIfDone = () => done && unsent === 0 && subscriber.complete();
      const subscription = packets.subscribe({
        next: ({ data, address }) => {
          if (this.pending >= MAX_PENDING_SENDS) return void this.dropped++;
          this.pending++;
          unsent++;
          this.socket.send(data, 0, data.length, address, (err) => {
            this.pending--;
            unsent--;
            if (err) return subscriber.error(err);
            finishIfDone();
          });
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          done = true;
          finishIfDone();
        },
      });
      return () => subscription.unsubscribe();
    });
  }
}

const PROTOCOLS = { icmp: 1, icmpv6: 58 } as const;

/**
 * Opens a raw socket, emitted once; unsubscribing closes it. Errors in one line with
 * `RawSocketUnavailable` when the optional `raw-socket` addon is missing, or without root or
 * CAP_NET_RAW (`raw sockets need root or CAP_NET_RAW`).
 *
 * ```ts
 * rawSocket({ protocol: 'icmp' }).pipe(mergeMap((socket) => merge(socket.send(requests), socket.input)))
 * ```
 */
export function rawSocket(options: RawSocketOptions): Observable<RawSocket> {
  const opts = decodeOptions('rawSocket', RawSocketOptions, options);
  const family = opts.family ?? (opts.protocol === 'icmpv6' ? 6 : 4);
  const protocol = typeof opts.protocol === 'number' ? opts.protocol : PROTOCOLS[opts.protocol];
  if ((opts.protocol === 'icmp' && family === 6) || (opts.protocol === 'icmpv6' && family === 4)) {
    throw new InvalidOption(`rawSocket: protocol: ${opts.protocol} does not go over IPv${family}`);
  }
  if (opts.headerIncluded && family === 6) throw new InvalidOption('rawSocket: headerIncluded: IP_HDRINCL is for IPv4 only');
  return new Observable<RawSocket>((subscriber) => {
    const addon = rawSocketAddon();
    if (addon instanceof Error) return subscriber.error(addon);
    let socket: AddonSocket | undefined;
    try {
      socket = addon.createSocket({ protocol, addressFamily: family === 6 ? addon.AddressFamily.IPv6 : addon.AddressFamily.IPv4, bufferSize: RECEIVE_BUFFER });
      if (opts.headerIncluded) socket.setOption(addon.SocketLevel.IPPROTO_IP, addon.SocketOption.IP_HDRINCL, 1);
    } catch (err) {
      socket?.close();
      return subscriber.error(openFailure(err));
    }
    subscriber.next(new RawSocket(socket, family, protocol));
    const opened = socket;
    return () => opened.close();
  });
}
