import { expect } from 'chai';
import fc from 'fast-check';
import { decodeRdmPacket, encodeRdmAck, encodeRdmData, encodeRdmProbe, MAX_ACK_IDS, RDM_VERSION, setRdmFloor } from '../../../lib/codecs/rdmPacket';

const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

describe('rdmPacket', () => {
  it('decodes every DATA packet it encodes, and the floor it is given again', () => {
    fc.assert(
      fc.property(uint32, uint32, uint32, uint32, uint32, fc.uint8Array({ maxLength: 300 }), (session, to, id, floor, later, bytes) => {
        const payload = Buffer.from(bytes);
        const datagram = encodeRdmData(session, to, id, floor, payload);
        expect(decodeRdmPacket(datagram)).to.deep.equal({ kind: 'data', session, to, id, floor, payload });
        setRdmFloor(datagram, later);
        expect(decodeRdmPacket(datagram)).to.deep.equal({ kind: 'data', session, to, id, floor: later, payload });
      }),
    );
  });

  it('decodes every ACK and PROBE packet it encodes', () => {
    fc.assert(
      fc.property(uint32, uint32, fc.array(uint32, { maxLength: MAX_ACK_IDS }), (session, ackedSession, ids) => {
        expect(decodeRdmPacket(encodeRdmAck(session, ackedSession, ids))).to.deep.equal({ kind: 'ack', session, ackedSession, ids });
        expect(decodeRdmPacket(encodeRdmProbe(session))).to.deep.equal({ kind: 'probe', session });
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
    const data = encodeRdmData(7, 0, 1, 0, Buffer.from('hi'));
    expect(decodeRdmPacket(Buffer.concat([Buffer.from([1]), data.subarray(1)]))).to.equal(undefined);
    expect(decodeRdmPacket(Buffer.from([RDM_VERSION, 4, 0, 0, 0, 7, 0, 0, 0, 1]))).to.equal(undefined);
    expect(decodeRdmPacket(data.subarray(0, 17))).to.equal(undefined);
    expect(decodeRdmPacket(encodeRdmAck(7, 8, [1, 2]).subarray(0, 16))).to.equal(undefined);
    expect(decodeRdmPacket(Buffer.concat([encodeRdmProbe(7), Buffer.from([0])]))).to.equal(undefined);
    expect(() => encodeRdmAck(7, 8, new Array(MAX_ACK_IDS + 1).fill(0))).to.throw(RangeError);
  });
});
