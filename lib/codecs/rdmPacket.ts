// The wire format of reliable datagrams (rxwire's SOCK_RDM over UDP), version 1. Every field is
// big-endian; `session` is the sender's, chosen at random when its session starts.
//
//   DATA  | 1 version | 1 kind=1 | 4 session | 4 message id | payload …
//   ACK   | 1 version | 1 kind=2 | 4 session | 2 count N    | N × 4 message id
//
// An ACK names ids of the messages its sender received from the peer it is sent to.

export const RDM_VERSION = 1;
export const RDM_DATA_HEADER = 10;
const ACK_HEADER = 8;
/** Ids one ACK datagram carries at most: 1 KiB of ids keeps it far under any path's MTU. */
export const MAX_ACK_IDS = 256;

const KIND_DATA = 1;
const KIND_ACK = 2;

export type RdmPacket =
  | { readonly kind: 'data'; readonly session: number; readonly id: number; readonly payload: Buffer }
  | { readonly kind: 'ack'; readonly session: number; readonly ids: readonly number[] };

export function encodeRdmData(session: number, id: number, payload: Buffer): Buffer {
  const datagram = Buffer.allocUnsafe(RDM_DATA_HEADER + payload.length);
  datagram[0] = RDM_VERSION;
  datagram[1] = KIND_DATA;
  datagram.writeUInt32BE(session, 2);
  datagram.writeUInt32BE(id, 6);
  payload.copy(datagram, RDM_DATA_HEADER);
  return datagram;
}

/** One ACK for up to MAX_ACK_IDS ids. */
export function encodeRdmAck(session: number, ids: readonly number[]): Buffer {
  if (ids.length > MAX_ACK_IDS) throw new RangeError(`an ACK carries at most ${MAX_ACK_IDS} ids, got ${ids.length}`);
  const datagram = Buffer.allocUnsafe(ACK_HEADER + 4 * ids.length);
  datagram[0] = RDM_VERSION;
  datagram[1] = KIND_ACK;
  datagram.writeUInt32BE(session, 2);
  datagram.writeUInt16BE(ids.length, 6);
  ids.forEach((id, i) => datagram.writeUInt32BE(id, ACK_HEADER + 4 * i));
  return datagram;
}

/** The packet a datagram holds, or undefined for one that is not this protocol (or not its version). */
export function decodeRdmPacket(datagram: Buffer): RdmPacket | undefined {
  if (datagram.length < ACK_HEADER || datagram[0] !== RDM_VERSION) return undefined;
  const session = datagram.readUInt32BE(2);
  if (datagram[1] === KIND_DATA) {
    if (datagram.length < RDM_DATA_HEADER) return undefined;
    return { kind: 'data', session, id: datagram.readUInt32BE(6), payload: datagram.subarray(RDM_DATA_HEADER) };
  }
  if (datagram[1] !== KIND_ACK) return undefined;
  const count = datagram.readUInt16BE(6);
  if (count > MAX_ACK_IDS || datagram.length !== ACK_HEADER + 4 * count) return undefined;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(datagram.readUInt32BE(ACK_HEADER + 4 * i));
  return { kind: 'ack', session, ids };
}
