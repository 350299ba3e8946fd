import { Either, left, right } from 'fp-ts/Either';
import { isIPv4 } from 'node:net';
import { DecodeError } from '../core/errors';

/** The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words. */
export function internetChecksum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes.readUInt16BE(i);
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The fields of an IPv4 header (RFC 791) without options, as a raw socket with IP_HDRINCL sends it. */
export interface IPv4Header {
  readonly tos: number;
  readonly identification: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly source: string;
  readonly destination: string;
}

const HEADER = 20;

function writeAddress(packet: Buffer, address: string, offset: number): void {
  address.split('.').forEach((octet, i) => (packet[offset + i] = Number(octet)));
}

const readAddress = (packet: Buffer, offset: number) => [...packet.subarray(offset, offset + 4)].join('.');

/** A whole IPv4 packet: a 20-byte header, its length and checksum filled in, then `payload`. */
export function encodeIPv4Packet(header: IPv4Header, payload: Buffer): Buffer {
  if (!isIPv4(header.source) || !isIPv4(header.destination)) throw new TypeError(`not IPv4 addresses: ${header.source} → ${header.destination}`);
  const packet = Buffer.alloc(HEADER + payload.length);
  packet[0] = 0x45; // version 4, 5 words of header
  packet[1] = header.tos;
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE(header.identification, 4);
  packet[8] = header.ttl;
  packet[9] = header.protocol;
  writeAddress(packet, header.source, 12);
  writeAddress(packet, header.destination, 16);
  packet.writeUInt16BE(internetChecksum(packet.subarray(0, HEADER)), 10);
  payload.copy(packet, HEADER);
  return packet;
}

/** An IPv4 packet's header and payload; Left when it is not IPv4, is cut short, or its header checksum fails. */
export function decodeIPv4Packet(packet: Buffer): Either<DecodeError, { header: IPv4Header; payload: Buffer }> {
  if (packet.length < HEADER || packet[0]! >> 4 !== 4) return left(new DecodeError('not an IPv4 packet'));
  const headerLength = (packet[0]! & 0x0f) * 4;
  const totalLength = packet.readUInt16BE(2);
  if (headerLength < HEADER || totalLength < headerLength || packet.length < totalLength) {
    return left(new DecodeError(`IPv4 packet cut short: ${packet.length} bytes, header of ${headerLength}, total ${totalLength}`));
  }
  if (internetChecksum(packet.subarray(0, headerLength)) !== 0) return left(new DecodeError('IPv4 header checksum mismatch'));
  const header = {
    tos: packet[1]!,
    identification: packet.readUInt16BE(4),
    ttl: packet[8]!,
    protocol: packet[9]!,
    source: readAddress(packet, 12),
    destination: readAddress(packet, 16),
  };
  return right({ header, payload: packet.subarray(headerLength, totalLength) });
}
