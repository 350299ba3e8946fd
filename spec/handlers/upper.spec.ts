import { expect } from 'chai';
import fc from 'fast-check';
import { lastValueFrom, of, toArray } from 'rxjs';
import upperHandler, { upper, upperBytes, upperInPlace } from '../../handlers/upper';
import { delay, dial, readAll, roundTrip, startServer } from '../support/net';
import { expectHandler, everySplit } from 'rxwire/testing';

/** Python's bytes.upper(), byte by byte: only a–z change. */
const pythonUpper = (byte: number) => (byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte);

describe('handlers/upper', () => {
  it('uppercases exactly a–z and leaves the other 230 byte values alone', () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect([...upperBytes(every)]).to.deep.equal([...every].map(pythonUpper));
  });

  it('uppercases every byte value at every offset and length, word by word or not, as bytes.upper() would', () => {
    // Views at every alignment of one ArrayBuffer, from empty to past the word-at-a-time threshold.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(7), fc.nat(7), (bytes, before, after) => {
        const whole = Buffer.alloc(before + bytes.length + after, 0x61);
        whole.set(bytes, before);
        const view = whole.subarray(before, before + bytes.length);
        const expected = [...bytes].map(pythonUpper);
        expect([...upperBytes(view)]).to.deep.equal(expected);
        expect(upperInPlace(view)).to.equal(view);
        expect([...view]).to.deep.equal(expected);
        // Not a byte outside the view changes.
        expect([...whole.subarray(0, before), ...whole.subarray(before + bytes.length)]).to.deep.equal(Array(before + after).fill(0x61));
      }),
      { numRuns: 500 },
    );
  });

  it('uppercases the frames of one buffer in turn, short and long, in any order', () => {
    // Views side by side in one ArrayBuffer, as a decoder cuts a read's frames, in random order.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(511), fc.nat(120)), { maxLength: 40 }), (cuts) => {
        const whole = Buffer.alloc(640, 0x61);
        for (const [start, length] of cuts) upperInPlace(whole.subarray(start, start + length));
        const touched = new Set(cuts.flatMap(([start, length]) => Array.from({ length: Math.min(length, 640 - start) }, (_, i) => start + i)));
        expect([...whole].map((byte, i) => (touched.has(i) ? byte === 0x41 : byte === 0x61)).every(Boolean)).to.equal(true);
      }),
      { numRuns: 200 },
    );
    // A buffer seen first through a short frame, then whole.
    const later = Buffer.alloc(200, 0x62);
    upperInPlace(later.subarray(1, 40));
    upperInPlace(later);
    expect(later.toString()).to.equal('B'.repeat(200));
  });

  it('uppercases a view of a resizable ArrayBuffer after it has grown', () => {
    // Resizable ArrayBuffers (Node 20) are past the TypeScript lib this project targets.
    const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(length: number): void };
    const buffer = new Resizable(128, { maxByteLength: 512 });
    upperInPlace(Buffer.from(buffer, 0, 128).fill(0x61));
    buffer.resize(512);
    const grown = Buffer.from(buffer, 128, 384).fill(0x61);
    upperInPlace(grown);
    expect(grown.toString()).to.equal('A'.repeat(384));
  });

  it('uppercases all 256 byte values in each of the four lanes of a word', () => {
    for (let lane = 0; lane < 4; lane++) {
      const every = Buffer.alloc(256 * 4, 0x7a);
      for (let byte = 0; byte < 256; byte++) every[byte * 4 + lane] = byte;
      const expected = [...every].map(pythonUpper);
      expect([...upperInPlace(every)]).to.deep.equal(expected);
    }
  });

  it('uppercases the chunk it is given in place, as the default handler does with each read it owns', async () => {
    const chunk = Buffer.from('abc');
    const [out] = await lastValueFrom(upperHandler(of(chunk), { id: 1, transport: 'tcp', local: '', remote: '' }).pipe(toArray()));
    expect(out).to.equal(chunk);
    expect(chunk.toString()).to.equal('ABC');
  });

  it('does not change the chunk it was given', () => {
    const chunk = Buffer.from('abc');
    upperBytes(chunk);
    expect(chunk.toString()).to.equal('abc');
  });

  it('maps every chunk on its own into a new Buffer', async () => {
    const out = await lastValueFrom(of(Buffer.from('ab'), Buffer.from('cd')).pipe(upper(), toArray()));
    expect(out.map(String)).to.deep.equal(['AB', 'CD']);
  });

  describe('served over a real socket', () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    before(async () => (server = await startServer(upperHandler)));
    after(() => server.close());

    it('answers all 256 byte values as bytes.upper() would', async () => {
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const reply = await roundTrip({ port: server.port }, every);
      expect([...reply]).to.deep.equal([...every].map(pythonUpper));
    });

    it('gives back a UTF-8 character split across two chunks intact', async () => {
      const text = Buffer.from('straße → STRASSE? ça va, 東京');
      const cut = text.indexOf(Buffer.from('東')) + 1; // inside the three bytes of 東
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      socket.write(text.subarray(0, cut));
      await delay(50); // so the two halves arrive as two reads
      socket.end(text.subarray(cut));
      expect((await reply).toString('utf8')).to.equal('STRAßE → STRASSE? çA VA, 東京');
    });

    it('ends the connection once the client has sent everything and half-closed', async () => {
      expect((await roundTrip({ port: server.port }, Buffer.from('Hello Huangpingyi'))).toString()).to.equal('HELLO HUANGPINGYI');
    });
  });

  describe('with rxwire/testing, in virtual time', () => {
    it('answers each read in the frame it came, and ends when the client does', () => {
      expectHandler(upperHandler, '-a--b|', { a: 'hello ', b: 'world' }).toBe('-A--B|', { A: 'HELLO ', B: 'WORLD' });
    });

    it('gives back a UTF-8 character split across two reads intact', () => {
      const tokyo = Buffer.from('東京');
      expectHandler(upperHandler, 'ab', { a: tokyo.subarray(0, 1), b: tokyo.subarray(1) }).toBe('ab', { a: tokyo.subarray(0, 1), b: tokyo.subarray(1) });
    });

    it('stops reading from a client that does not read what it answered', () => {
      const big = 'x'.repeat(100 * 1024);
      expectHandler(upperHandler, 'a-b|', { a: big }, { peerReads: false }).toRead('a', { a: big });
    });

    it('answers the same bytes however the input is split into reads', () => {
      everySplit(upperHandler, 'straße → STRASSE? ça va, 東京\n');
    });
  });
});
