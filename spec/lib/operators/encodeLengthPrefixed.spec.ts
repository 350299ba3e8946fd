import { expect } from 'chai';
import { of } from 'rxjs';
import { encodeLengthPrefixed, FrameTooLong } from 'rxwire';
import { collect } from '../codecs/splits';

describe('encodeLengthPrefixed', () => {
  it('puts the length in front of each payload, in the byte order asked for', () => {
    const payload = Buffer.from('abc');
    const encodedWith = (options: Parameters<typeof encodeLengthPrefixed>[0]) =>
      collect(of(payload).pipe(encodeLengthPrefixed(options))).values;
    expect(encodedWith({ headerBytes: 2 })).to.deep.equal([Buffer.from([0, 3, 0x61, 0x62, 0x63])]);
    expect(encodedWith({ headerBytes: 4, endian: 'little', lengthIncludesHeader: true })).to.deep.equal([
      Buffer.from([7, 0, 0, 0, 0x61, 0x62, 0x63]),
    ]);
  });

  it('errors with FrameTooLong for a payload the header cannot express', () => {
    const outcome = collect(of(Buffer.alloc(255), Buffer.alloc(256)).pipe(encodeLengthPrefixed({ headerBytes: 1 })));
    expect(outcome.values).to.have.length(1);
    expect(outcome.error).to.deep.equal(new FrameTooLong(256, 255));
  });
});
