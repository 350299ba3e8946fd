import { encodeRdmProbe } from '../../codecs/rdmPacket';

/** QUIC's factor (RFC 9000, 8.1): what may be sent to an address not yet validated, per byte received from it. */
const FACTOR = 3;

/**
 * The way to one peer, with what a server may send to an address that has not proved it receives
 * there: at most 3× the bytes that came from it, so a forged source address cannot turn the
 * server into an amplifier. The address is validated by an ACK naming this side's session, which
 * is random and only ever sent to that address. A client's server is the address it chose:
 * validated from the start.
 */
export class GatedLink {
  private bytesIn = 0;
  private bytesOut = 0;
  private lastProbe = -Infinity;

  constructor(
    private readonly transmit: (datagram: Buffer) => void,
    private isValidated: boolean,
  ) {}

  received(bytes: number): void {
    this.bytesIn += bytes;
  }

  /** Sends `datagram` unless the limit holds it back: false then. */
  send(datagram: Buffer): boolean {
    if (!this.isValidated && this.bytesOut + datagram.length > FACTOR * this.bytesIn) return false;
    this.answer(datagram);
    return true;
  }

  /** Sends an acknowledgement: smaller than the DATA it answers, so it always goes, and it counts towards the limit. */
  answer(datagram: Buffer): void {
    this.bytesOut += datagram.length;
    this.transmit(datagram);
  }

  /** Asks the peer to name `session` back, which validates its address: once per `everyMs` at most, and within the limit. */
  probe(session: number, everyMs: number): void {
    if (Date.now() - this.lastProbe >= everyMs && this.send(encodeRdmProbe(session))) this.lastProbe = Date.now();
  }

  /** True the first time: what was held back may go now. */
  validate(): boolean {
    if (this.isValidated) return false;
    this.isValidated = true;
    return true;
  }
}
