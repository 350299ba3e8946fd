import * as t from 'io-ts';
import { RDM_DATA_HEADER } from '../../codecs/rdmPacket';
import { DEFAULTS } from '../../core/defaults';
import { strictOptions, wholeNumber } from '../../core/options';
import { connectDatagramKeys, datagramServeKeys } from '../datagram/options';
import { BufferBudget } from '../transportConnection';
import { Arrivals } from './arrivals';

const reliabilityKeys = {
  /** Messages sent and not yet acknowledged, per peer; past it the handler's reads are held. Default 64. */
  window: wholeNumber(1, 65535),
  /** Messages emitted beyond a full window that wait for it; past it the session fails with `SendBacklogFull`. Default 4096. */
  maxQueued: wholeNumber(1),
  /** The first wait for an acknowledgement before a message is sent again; it doubles each time. Default 200 ms. */
  retransmitMs: wholeNumber(1),
  /** The longest wait between two sends of one message. Default 2000 ms. */
  maxRetransmitMs: wholeNumber(1),
  /** Retransmissions of one message before the session fails with `Undeliverable`. Default 10. */
  maxRetries: wholeNumber(0, 1000),
  /** Bytes retransmitted to the peer since it last acknowledged a message; past it the session fails with `Undeliverable`. Default 8 MiB. */
  maxRetransmitBytes: wholeNumber(1),
  /** Longest datagram, header (10 bytes) included: a longer message fails with `MessageTooLarge`. Default 65,507. */
  maxDatagram: wholeNumber(RDM_DATA_HEADER + 1, 65535),
};

const reliableServeKeys = {
  /** Bytes every session's inbox and unacknowledged or waiting output may hold together; past it a session is shed (`SessionShed`). Default 256 MiB. */
  maxBufferedBytes: wholeNumber(1),
};

export const ReliableDatagramServeOptions = strictOptions({}, { ...datagramServeKeys, ...reliabilityKeys, ...reliableServeKeys });
export type ReliableDatagramServeOptions = t.TypeOf<typeof ReliableDatagramServeOptions>;

export const ConnectReliableDatagramOptions = strictOptions({}, { ...connectDatagramKeys, ...reliabilityKeys });
export type ConnectReliableDatagramOptions = t.TypeOf<typeof ConnectReliableDatagramOptions>;

type ReliabilityOptions = { [K in keyof typeof reliabilityKeys]?: number };

/** The reliability options with their defaults, and the options left for the UDP socket under them. */
export function splitReliability<O extends ReliabilityOptions>(
  options: O,
): { reliability: Reliability; datagram: Omit<O, 'window' | 'maxQueued' | 'retransmitMs' | 'maxRetransmitMs' | 'maxRetries' | 'maxRetransmitBytes'> } {
  const { window, maxQueued, retransmitMs, maxRetransmitMs, maxRetries, maxRetransmitBytes, ...datagram } = options;
  const reliability: Reliability = {
    window: window ?? DEFAULTS.rdmWindow,
    maxQueued: maxQueued ?? DEFAULTS.rdmMaxQueued,
    retransmitMs: retransmitMs ?? DEFAULTS.rdmRetransmitMs,
    maxRetransmitMs: maxRetransmitMs ?? DEFAULTS.rdmMaxRetransmitMs,
    maxRetries: maxRetries ?? DEFAULTS.rdmMaxRetries,
    maxRetransmitBytes: maxRetransmitBytes ?? DEFAULTS.rdmMaxRetransmitBytes,
    maxMessage: (options.maxDatagram ?? DEFAULTS.maxDatagram) - RDM_DATA_HEADER,
  };
  return { reliability, datagram };
}

export interface Reliability {
  /** Messages sent and not yet acknowledged, at most. */
  readonly window: number;
  /** Messages waiting for the window, at most. */
  readonly maxQueued: number;
  readonly retransmitMs: number;
  readonly maxRetransmitMs: number;
  readonly maxRetries: number;
  /** Bytes retransmitted since the peer last acknowledged a message, at most. */
  readonly maxRetransmitBytes: number;
  /** The longest message: one datagram less the header. */
  readonly maxMessage: number;
}

/** What differs between a server's side of a session and a client's. */
export interface Side {
  /**
   * A server's handler answers what it reads, so a full window holds its reads. A client's
   * output is its own, and holding its reads too could leave both sides waiting on each other.
   */
  readonly holdReadsWhenFull: boolean;
  /** A client chose its server's address; a server must see a peer's address proved before it sends it more than 3× what it received. */
  readonly addressValidated: boolean;
  /** A client takes only DATA for its own session: a server's messages to a previous client on the same port are not for it. */
  readonly onlyAddressedToIt: boolean;
  /** The server-wide budget the inbox and the unacknowledged output count against. */
  readonly budget?: BufferBudget;
  /** The id of the first message: 0 unless a test starts near the wrap. */
  readonly firstId?: number;
  /** What the peer's previous session here had taken, when it ended lately (see endedSessions.ts). */
  readonly arrivals?: Arrivals;
}

/** The wait before the next send of a message sent `retries` times before: doubling, capped, with up to 25% jitter. */
export function backoff({ retransmitMs, maxRetransmitMs }: Reliability, retries: number): number {
  return Math.min(retransmitMs * 2 ** retries, maxRetransmitMs) * (1 + Math.random() / 4);
}
