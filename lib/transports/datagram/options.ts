import * as t from 'io-ts';
import { NonEmptyString, Port, serverLogKeys, strictOptions, wholeNumber } from '../../core/options';

/** The keys of `serveDatagrams` options, which reliable datagrams take too. */
export const datagramServeKeys = {
  /** Interface to bind; none = every interface, IPv6 and IPv4 (`::`, dual-stack). */
  host: NonEmptyString,
  /** UDP port; 0 = any free port. */
  port: Port,
  /** The socket's family; default from `host` (an IPv4 address or a name that resolves to one: udp4). */
  type: t.keyof({ udp4: null, udp6: null }),
  /** A peer that sends nothing for this long is expired: its input completes. Default 30 s. */
  idleMs: wholeNumber(1),
  /** Peers served at once; datagrams from further peers are dropped and counted. Default 10,000. */
  maxPeers: wholeNumber(1),
  /** Longest datagram the handler may send; a longer one ends its peer's session. Default 65,507. */
  maxDatagram: wholeNumber(1, 65535),
  /** On close, how long peers' sessions may go on before they are ended. */
  graceMs: wholeNumber(0),
  ...serverLogKeys,
};

export const DatagramServeOptions = strictOptions({}, datagramServeKeys);
export type DatagramServeOptions = t.TypeOf<typeof DatagramServeOptions>;

export const connectDatagramKeys = {
  host: NonEmptyString,
  port: Port,
  /** Error with `NoReply` once nothing has been received or sent for this long. Default 10 s. */
  timeoutMs: wholeNumber(1),
  /** Longest datagram `send` may send. Default 65,507. */
  maxDatagram: wholeNumber(1, 65535),
};

export const ConnectDatagramOptions = strictOptions({}, connectDatagramKeys);
export type ConnectDatagramOptions = t.TypeOf<typeof ConnectDatagramOptions>;
