import { expect } from 'chai';
import { lastValueFrom, of, toArray } from 'rxjs';
import upperHandler, { upper, upperBytes } from '../../handlers/upper';
import { delay, dial, readAll, roundTrip, startServer } from '../support/net';
import { expectHandler, everySplit } from 'rxwire/testing';

/** Python's bytes.upper(), byte by byte: only a–z change. */
const pythonUpper = (byte: number) => (byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte);

describe('handlers/upper', () => {
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
