import { chain, Either, left, right } from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import { DecodeError } from '../core/errors';
import { decodeIPv4Packet, internetChecksum } from './ipv4';

/** An ICMP echo request or reply (ping's messages): RFC 792 for IPv4, RFC 4443 for IPv6. */
export interface IcmpEcho {
  readonly kind: 'request' | 'reply';
  readonly identifier: number;
  readonly sequence: number;
  readonly payload: Buffer;
}

const TYPES = { 4: { request: 8, reply: 0 }, 6: { request: 128, reply: 129 } } as const;
const HEADER = 8;

/**
 * The ICMP message for `echo`. Over IPv4 its checksum is filled in; over IPv6 it is left 0, since
 * it covers a pseudo-header of both addresses, and the kernel fills it for every ICMPv6 raw socket.
 */
export function encodeIcmpEcho(echo: IcmpEcho, family: 4 | 6): Buffer {
  const message = Buffer.alloc(HEADER + echo.payload.length);
  message[0] = TYPES[family][echo.kind];
  message.writeUInt16BE(echo.identifier, 4);
  message.writeUInt16BE(echo.sequence, 6);
  echo.payload.copy(message, HEADER);
  if (family === 4) message.writeUInt16BE(internetChecksum(message), 2);
  return message;
}

/**
 * An echo from what a raw ICMP socket reads: over IPv4 a whole IP packet, whose header is
 * skipped and whose ICMP checksum is verified; over IPv6 the ICMPv6 message alone, which the
 * kernel has verified. Left for another ICMP type (an unreachable, say) or a broken message.
 */
export function decodeIcmpEcho(packet: Buffer, family: 4 | 6): Either<DecodeError, IcmpEcho> {
  const message = family === 4 ? pipe(decodeIPv4Packet(packet), chain(verified)) : right(packet);
  return pipe(
    message,
    chain((bytes) => {
      if (bytes.length < HEADER) return left(new DecodeError(`ICMP message of ${bytes.length} bytes is shorter than its header`));
      const kind = bytes[0] === TYPES[family].request ? 'request' : bytes[0] === TYPES[family].reply ? 'reply' : undefined;
      if (!kind || bytes[1] !== 0) return left(new DecodeError(`not an echo: ICMP type ${bytes[0]} code ${bytes[1]}`));
      return right({ kind, identifier: bytes.readUInt16BE(4), sequence: bytes.readUInt16BE(6), payload: bytes.subarray(HEADER) });
    }),
  );
}

function verified({ payload }: { payload: Buffer }): Either<DecodeError, Buffer> {
  return internetChecksum(payload) === 0 ? right(payload) : left(new DecodeError('ICMP checksum mismatch'));
}
