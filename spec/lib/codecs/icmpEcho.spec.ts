import { expect } from 'chai';
import { isLeft, isRight } from 'fp-ts/Either';
import fc from 'fast-check';
import { decodeIcmpEcho, encodeIcmpEcho, IcmpEcho } from '../../../lib/codecs/icmpEcho';
import { decodeIPv4Packet, encodeIPv4Packet, internetChecksum } from '../../../lib/codecs/ipv4';

const echo = fc.record({
  kind: fc.constantFrom<IcmpEcho['kind']>('request', 'reply'),
  identifier: fc.integer({ min: 0, max: 0xffff }),
  sequence: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
});
const ipv4Address = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
const header = fc.record({ tos: fc.nat(255), identification: fc.nat(0xffff), ttl: fc.nat(255), protocol: fc.nat(255), source: ipv4Address, destination: ipv4Address });
const inIPv4 = (message: Buffer) => encodeIPv4Packet({ tos: 0, identification: 1, ttl: 64, protocol: 1, source: '127.0.0.1', destination: '127.0.0.1' }, message);

describe('icmpEcho', () => {
  it('decodes every echo it encodes, behind an IPv4 header or as ICMPv6', () => {
    fc.assert(
      fc.property(echo, (message) => {
        expect(decodeIcmpEcho(inIPv4(encodeIcmpEcho(message, 4)), 4)).to.deep.equal({ _tag: 'Right', right: message });
        expect(decodeIcmpEcho(encodeIcmpEcho(message, 6), 6)).to.deep.equal({ _tag: 'Right', right: message });
      }),
    );
  });

  it('refuses an IPv4 echo with any one bit of its ICMP message flipped', () => {
    fc.assert(
      fc.property(echo, fc.nat(), (message, at) => {
        const bytes = encodeIcmpEcho(message, 4);
        const bit = at % (bytes.length * 8);
        bytes[bit >> 3] ^= 1 << (bit & 7);
        expect(isLeft(decodeIcmpEcho(inIPv4(bytes), 4))).to.equal(true);
      }),
    );
  });

  it('matches the checksum of a known echo request and says why another ICMP message is not an echo', () => {
    const request = encodeIcmpEcho({ kind: 'request', identifier: 0x1234, sequence: 1, payload: Buffer.from('abcd') }, 4);
    expect(request.toString('hex')).to.equal('0800' + (~(0x0800 + 0x1234 + 0x0001 + 0x6162 + 0x6364) & 0xffff).toString(16) + '123400016162' + '6364');
    const unreachable = Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]);
    unreachable.writeUInt16BE(internetChecksum(unreachable), 2);
    const decoded = decodeIcmpEcho(inIPv4(unreachable), 4);
    expect(isLeft(decoded) && decoded.left.message).to.equal('not an echo: ICMP type 3 code 3');
  });
});

describe('ipv4', () => {
  it('decodes every packet it encodes', () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 100 }), (fields, bytes) => {
        const payload = Buffer.from(bytes);
        expect(decodeIPv4Packet(encodeIPv4Packet(fields, payload))).to.deep.equal({ _tag: 'Right', right: { header: fields, payload } });
      }),
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => void isRight(decodeIPv4Packet(Buffer.from(bytes)))));
  });

  it('refuses a header whose checksum fails, or a packet cut short', () => {
    const packet = encodeIPv4Packet({ tos: 0, identification: 7, ttl: 64, protocol: 253, source: '10.0.0.1', destination: '10.0.0.2' }, Buffer.from('hi'));
    const corrupted = Buffer.from(packet);
    corrupted[8] ^= 1;
    const bad = decodeIPv4Packet(corrupted);
    expect(isLeft(bad) && bad.left.message).to.equal('IPv4 header checksum mismatch');
    const cut = decodeIPv4Packet(packet.subarray(0, 21));
    expect(isLeft(cut) && cut.left.message).to.equal('IPv4 packet cut short: 21 bytes, header of 20, total 22');
  });
});
