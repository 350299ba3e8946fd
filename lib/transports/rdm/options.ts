import * as t from 'io-ts';
import { RDM_DATA_HEADER } from '../../codecs/rdmPacket';
import { DEFAULTS } from '../../core/defaults';
import { strictOptions, wholeNumber } from '../../core/options';
import { connectDatagramKeys, datagramServeKeys } from '../datagram/options';
import { Reliability } from './connection';

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
