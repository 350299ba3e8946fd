import { expect } from 'chai';
import fc from 'fast-check';
import { decodeRdmPacket, encodeRdmAck, encodeRdmData, MAX_ACK_IDS, RDM_VERSION } from '../../../lib/codecs/rdmPacket';

const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

describe('rdmPacket', () => {
  it('decodes every DATA packet it encodes', () => {
    fc.assert(
      fc.property(uint32, uint32, fc.uint8Array({ maxLength: 300 }), (session, id, bytes) => {
        const payload = Buffer.from(bytes);
        expect(decodeRdmPacket(encodeRdmData(session, id, payload))).to.deep.equal({ kind: 'data', session, id, payload });
      }),
    );
  });

  it('decodes every ACK packet it encodes', () => {
    fc.assert(
      fc.property(uint32, fc.array(uint32, { maxLength: MAX_ACK_IDS }), (session, ids) => {
        expect(decodeRdmPacket(encodeRdmAck(session, ids))).to.deep.equal({ kind: 'ack', session, ids });
      }),
    );
  });

  it('never throws on arbitrary bytes: they are a packet or not the protocol', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const packet = decodeRdmPacket(Buffer.from(bytes));
        if (packet) expect(bytes[0]).to.equal(RDM_VERSION);
      }),
    );
  });

  it('refuses another version, an unknown kind, a short header and an ACK whose count disagrees with its length', () => {
    const data = encodeRdmData(7, 1, Buffer.from('hi'));
    expect(decodeRdmPacket(Buffer.concat([Buffer.from([2]), data.subarray(1)]))).to.equal(undefined);
    expect(decodeRdmPacket(Buffer.from([RDM_VERSION, 3, 0, 0, 0, 7, 0, 0, 0, 1]))).to.equal(undefined);
    expect(decodeRdmPacket(data.subarray(0, 9))).to.equal(undefined);
    expect(decodeRdmPacket(encodeRdmAck(7, [1, 2]).subarray(0, 12))).to.equal(undefined);
    expect(() => encodeRdmAck(7, new Array(MAX_ACK_IDS + 1).fill(0))).to.throw(RangeError);
  });
});
