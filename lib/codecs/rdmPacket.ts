// The wire format of reliable datagrams (rxwire's SOCK_RDM over UDP), version 2. Every field is
// big-endian; `session` is the sender's, chosen at random when its session starts.
//
//   DATA  | 1 version | 1 kind=1 | 4 session | 4 to session | 4 message id | 4 floor | payload …
//   ACK   | 1 version | 1 kind=2 | 4 session | 4 acked session | 2 count N    | N × 4 message id
//   PROBE | 1 version | 1 kind=3 | 4 session
//
// A DATA's `to session` is the receiver's session it is for (0 before the sender has heard one);
// its floor: every id of its session before it has been acknowledged to the sender. An ACK
// names ids of the messages of `acked session` its sender received; one with no ids answers a
// PROBE, whose sender asks to hear its session named back (it proves the address receives).

export const RDM_VERSION = 2;
export const RDM_DATA_HEADER = 18;
const ACK_HEADER = 12;
const PROBE_LENGTH = 6;
/** Ids one ACK datagram carries at most: 1 KiB of ids keeps it far under any path's MTU. */
export const MAX_ACK_IDS = 256;

const KIND_DATA = 1;
const KIND_ACK = 2;
const KIND_PROBE = 3;

export type RdmPacket =
  | { readonly kind: 'data'; readonly session: number; readonly to: number; readonly id: number; readonly floor: number; readonly payload: Buffer }
  | { readonly kind: 'ack'; readonly session: number; readonly ackedSession: number; readonly ids: readonly number[] }
  | { readonly kind: 'probe'; readonly session: number };

export function encodeRdmData(session: number, to: number, id: number, floor: number, payload: Buffer): Buffer {
  const datagram = Buffer.allocUnsafe(RDM_DATA_HEADER + payload.length);
  datagram[0] = RDM_VERSION;
  datagram[1] = KIND_DATA;
  datagram.writeUInt32BE(session, 2);
  datagram.writeUInt32BE(to, 6);
  datagram.writeUInt32BE(id, 10);
  datagram.writeUInt32BE(floor, 14);
  payload.copy(datagram, RDM_DATA_HEADER);
  return datagram;
}

/** The floor of a DATA datagram encoded here, rewritten in place: a retransmission carries the floor of when it goes. */
export function setRdmFloor(datagram: Buffer, floor: number): void {
  datagram.writeUInt32BE(floor, 14);
}

/** One ACK for up to MAX_ACK_IDS ids of `ackedSession`'s messages; none answers a PROBE. */
export function encodeRdmAck(session: number, ackedSession: number, ids: readonly number[]): Buffer {
  if (ids.length > MAX_ACK_IDS) throw new RangeError(`an ACK carries at most ${MAX_ACK_IDS} ids, got ${ids.length}`);
  const datagram = Buffer.allocUnsafe(ACK_HEADER + 4 * ids.length);
  datagram[0] = RDM_VERSION;
  datagram[1] = KIND_ACK;
  datagram.writeUInt32BE(session, 2);
  datagram.writeUInt32BE(ackedSession, 6);
  datagram.writeUInt16BE(ids.length, 10);
  ids.forEach((id, i) => datagram.writeUInt32BE(id, ACK_HEADER + 4 * i));
  return datagram;
}

export function encodeRdmProbe(session: number): Buffer {
  const datagram = Buffer.allocUnsafe(PROBE_LENGTH);
  datagram[0] = RDM_VERSION;
  datagram[1] = KIND_PROBE;
  datagram.writeUInt32BE(session, 2);
  return datagram;
}

/** The packet a datagram holds, or undefined for one that is not this protocol (or not its version). */
export function decodeRdmPacket(datagram: Buffer): RdmPacket | undefined {
  if (datagram.length < PROBE_LENGTH || datagram[0] !== RDM_VERSION) return undefined;
  const session = datagram.readUInt32BE(2);
  switch (datagram[1]) {
    case KIND_DATA:
      if (datagram.length < RDM_DATA_HEADER) return undefined;
      return { kind: 'data', session, to: datagram.readUInt32BE(6), id: datagram.readUInt32BE(10), floor: datagram.readUInt32BE(14), payload: datagram.subarray(RDM_DATA_HEADER) };
    case KIND_ACK: {
      if (datagram.length < ACK_HEADER) return undefined;
      const count = datagram.readUInt16BE(10);
      if (count > MAX_ACK_IDS || datagram.length !== ACK_HEADER + 4 * count) return undefined;
      const ids: number[] = [];
      for (let i = 0; i < count; i++) ids.push(datagram.readUInt32BE(ACK_HEADER + 4 * i));
      return { kind: 'ack', session, ackedSession: datagram.readUInt32BE(6), ids };
    }
    case KIND_PROBE:
      return datagram.length === PROBE_LENGTH ? { kind: 'probe', session } : undefined;
    default:
      return undefined;
  }
}
