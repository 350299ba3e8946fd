/** QUIC's factor (RFC 9000, 8.1): what may be sent to an address not yet validated, per byte received from it. */
const FACTOR = 3;

/**
 * What a server may send to a peer address that has not proved it receives there: at most 3× the
 * bytes that came from it, so a forged source address cannot turn the server into an amplifier.
 * The address is validated by an ACK naming this side's session, which is random and only ever
 * sent to that address. A client's server is the address it chose: validated from the start.
 */
export class AmplificationLimit {
  private bytesIn = 0;
  private bytesOut = 0;

  constructor(private isValidated: boolean) {}

  get validated(): boolean {
    return this.isValidated;
  }

  received(bytes: number): void {
    this.bytesIn += bytes;
  }

  /** Whether `bytes` more may go now. */
  allows(bytes: number): boolean {
    return this.isValidated || this.bytesOut + bytes <= FACTOR * this.bytesIn;
  }

  sent(bytes: number): void {
    this.bytesOut += bytes;
  }

  /** True the first time: what was held back may go now. */
  validate(): boolean {
    if (this.isValidated) return false;
    this.isValidated = true;
    return true;
  }
}
