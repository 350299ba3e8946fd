import { expect } from 'chai';
import fc from 'fast-check';
import { encodeProxyHeader, ProxyHeader, ProxyHeaderRead, ProxyHeaderReader, V1_MAX_BYTES } from '../../../lib/codecs/proxyHeader';
import { ProxyHeaderError } from '../../../lib/core/errors';
import { splitAt } from './splits';

const MAX_V2 = 1024;

const port = fc.integer({ min: 0, max: 65535 });
const ipv4 = fc.ipV4();
// The reader gives IPv6 addresses in RFC 5952 form; these are made by encoding and reading back random bytes.
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => {
  const read = new ProxyHeaderReader(MAX_V2).push(
    Buffer.concat([encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp6', source: { address: '::', port: 0 }, destination: { address: '::', port: 0 } }).subarray(0, 16), Buffer.from(bytes), Buffer.alloc(20)]),
  );
  return (read as { header: ProxyHeader }).header.source!.address;
});
const unixPath = fc.string({ minLength: 1, maxLength: 100, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz/._-'.split('')) });
const endpoint = (address: fc.Arbitrary<string>) => fc.record({ address, port });

const v1Header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.record({ version: fc.constant(1 as const), command: fc.constant('PROXY' as const), family: fc.constant('tcp4' as const), source: endpoint(ipv4), destination: endpoint(ipv4) }),
  fc.record({ version: fc.constant(1 as const), command: fc.constant('PROXY' as const), family: fc.constant('tcp6' as const), source: endpoint(ipv6), destination: endpoint(ipv6) }),
  fc.constant<ProxyHeader>({ version: 1, command: 'PROXY', family: 'unknown' }),
);
const v2Header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.record({ version: fc.constant(2 as const), command: fc.constant('PROXY' as const), family: fc.constantFrom('tcp4' as const, 'udp4' as const), source: endpoint(ipv4), destination: endpoint(ipv4) }),
  fc.record({ version: fc.constant(2 as const), command: fc.constant('PROXY' as const), family: fc.constantFrom('tcp6' as const, 'udp6' as const), source: endpoint(ipv6), destination: endpoint(ipv6) }),
  fc.record({
    version: fc.constant(2 as const),
    command: fc.constant('PROXY' as const),
    family: fc.constantFrom('unix' as const, 'unix-dgram' as const),
    source: fc.record({ address: unixPath }),
    destination: fc.record({ address: unixPath }),
  }),
  fc.constant<ProxyHeader>({ version: 2, command: 'PROXY', family: 'unknown' }),
  fc.constant<ProxyHeader>({ version: 2, command: 'LOCAL', family: 'unknown' }),
);
const anyHeader = fc.oneof(v1Header, v2Header);

/** What a reader gives for `chunks`, pushed one by one until it has a result, with the chunks after that in `rest`; undefined while it needs more. */
function read(chunks: Buffer[], maxV2 = MAX_V2): ProxyHeaderRead | undefined {
  const reader = new ProxyHeaderReader(maxV2);
  for (const [i, chunk] of chunks.entries()) {
    const result = reader.push(chunk);
    if (result && 'header' in result) return { header: result.header, rest: Buffer.concat([result.rest, ...chunks.slice(i + 1)]) };
    if (result) return result;
  }
  return undefined;
}

function errorOf(bytes: Buffer | string, maxV2 = MAX_V2): string {
  const result = read([Buffer.from(bytes as string)], maxV2);
  expect(result, 'a result').to.not.equal(undefined);
  expect(result).to.have.property('error').that.is.instanceOf(ProxyHeaderError);
  return (result as { error: Error }).error.message;
}

describe('proxyHeader', () => {
  it('reads back every header it writes, with the bytes after it, however the bytes are split', () => {
    fc.assert(
      fc.property(anyHeader, fc.uint8Array({ maxLength: 40 }), fc.array(fc.nat(), { maxLength: 8 }), (header, after, cuts) => {
        const bytes = Buffer.concat([encodeProxyHeader(header), Buffer.from(after)]);
        const result = read(splitAt(bytes, cuts.map((cut) => cut % (bytes.length + 1))));
        expect(result).to.deep.equal({ header, rest: Buffer.from(after) });
      }),
    );
  });

  it('reads a header given a byte at a time, and gives the rest of the last chunk', () => {
    const bytes = Buffer.concat([encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp4', source: { address: '10.1.2.3', port: 4567 }, destination: { address: '10.0.0.1', port: 80 } }), Buffer.from('hello')]);
    const reader = new ProxyHeaderReader(MAX_V2);
    for (let i = 0; i < 27; i++) expect(reader.push(bytes.subarray(i, i + 1))).to.equal(undefined);
    expect(reader.buffered).to.equal(27);
    const result = reader.push(bytes.subarray(27));
    expect(result).to.deep.equal({
      header: { version: 2, command: 'PROXY', family: 'tcp4', source: { address: '10.1.2.3', port: 4567 }, destination: { address: '10.0.0.1', port: 80 } },
      rest: Buffer.from('hello'),
    });
    expect(reader.buffered).to.equal(0);
  });

  it('never throws on arbitrary bytes, and never waits past its limits', () => {
    const signatureStart = fc.constantFrom(Buffer.from('PROXY '), Buffer.from('\r\n\r\n\0\r\nQUIT\n'), Buffer.alloc(0));
    fc.assert(
      fc.property(signatureStart, fc.uint8Array({ maxLength: 200 }), (start, tail) => {
        const bytes = Buffer.concat([start, Buffer.from(tail)]);
        const result = read([bytes], 64);
        if (result === undefined) expect(bytes.length).to.be.lessThan(Math.max(V1_MAX_BYTES, 64));
      }),
    );
  });

  it('reads what HAProxy sends: v1 lines and UNKNOWN with anything after it', () => {
    expect(read([Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /')])).to.deep.equal({
      header: { version: 1, command: 'PROXY', family: 'tcp4', source: { address: '192.168.0.1', port: 56324 }, destination: { address: '192.168.0.11', port: 443 } },
      rest: Buffer.from('GET /'),
    });
    expect(read([Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::ffff:127.0.0.1 1 2\r\n')])).to.deep.include({
      header: { version: 1, command: 'PROXY', family: 'tcp6', source: { address: '2001:db8::1', port: 1 }, destination: { address: '::ffff:7f00:1', port: 2 } },
    });
    expect(read([Buffer.from('PROXY UNKNOWN ffff:f...f:ffff 1 2\r\n')])).to.deep.include({ header: { version: 1, command: 'PROXY', family: 'unknown' } });
  });

  it('refuses what is not a PROXY header at the first byte that cannot start one', () => {
    expect(errorOf('GET / HTTP/1.1\r\n')).to.equal('PROXY header: no PROXY header');
    expect(errorOf('PROXX')).to.equal('PROXY header: no PROXY header');
    expect(errorOf('\r\n\r\n\0\r\nQUIX')).to.equal('PROXY header: no PROXY header');
    expect(read([Buffer.from('PROX')])).to.equal(undefined);
  });

  it('refuses malformed v1 lines', () => {
    expect(errorOf(`PROXY TCP4 ${'1'.repeat(120)}`)).to.match(/longer than 107 bytes/);
    expect(errorOf('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n')).to.match(/CRLF/);
    expect(errorOf('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n')).to.match(/bad v1 line/);
    expect(errorOf('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n')).to.match(/bad v1 line/);
    expect(errorOf('PROXY TCP4 ::1 5.6.7.8 1 2\r\n')).to.match(/bad TCP4 address/);
    expect(errorOf('PROXY TCP6 1.2.3.4 ::1 1 2\r\n')).to.match(/bad TCP6 address/);
    expect(errorOf('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n')).to.match(/bad port/);
    expect(errorOf('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n')).to.match(/bad port/);
  });

  it('refuses malformed v2 headers and one past the size limit', () => {
    const tcp4 = encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp4', source: { address: '1.2.3.4', port: 1 }, destination: { address: '5.6.7.8', port: 2 } });
    const patched = (at: number, value: number) => Buffer.from(tcp4).fill(value, at, at + 1);
    expect(errorOf(patched(12, 0x31))).to.match(/unknown v2 version 3/);
    expect(errorOf(patched(12, 0x22))).to.match(/unknown v2 command 2/);
    expect(errorOf(patched(13, 0x41))).to.match(/unknown v2 family 0x41/);
    expect(errorOf(patched(13, 0x21))).to.match(/shorter than its family needs/);
    const withTlvs = Buffer.concat([tcp4, Buffer.alloc(100)]).fill(12 + 100, 15, 16);
    expect(errorOf(withTlvs, 64)).to.equal('PROXY header: v2 header of 128 bytes exceeds the 64-byte limit');
    expect(read([withTlvs], 128)).to.have.property('header');
  });

  it('refuses to write what no header can carry', () => {
    expect(() => encodeProxyHeader({ version: 1, command: 'LOCAL', family: 'unknown' })).to.throw(TypeError);
    expect(() => encodeProxyHeader({ version: 1, command: 'PROXY', family: 'unix', source: { address: '/a' }, destination: { address: '/b' } })).to.throw(TypeError);
    expect(() => encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp4', source: { address: '::1', port: 1 }, destination: { address: '::1', port: 1 } })).to.throw(TypeError);
    expect(() => encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp4' })).to.throw(TypeError);
  });

  it('refuses to write a header with a family, version, command or port no header has, naming it', () => {
    const endpoints = { source: { address: '::1', port: 1 }, destination: { address: '::1', port: 2 } };
    expect(() => encodeProxyHeader({ version: 2, command: 'PROXY', family: 'TCP6' as 'tcp6', ...endpoints })).to.throw(
      TypeError,
      'encodeProxyHeader: family: expected unknown, tcp4, udp4, tcp6, udp6, unix, unix-dgram, got "TCP6" (did you mean "tcp6"?)',
    );
    expect(() => encodeProxyHeader({ version: 3 as 2, command: 'PROXY', family: 'tcp6', ...endpoints })).to.throw(TypeError, 'encodeProxyHeader: version: expected 1 or 2, got 3');
    expect(() => encodeProxyHeader({ version: 2, command: 'proxy' as 'PROXY', family: 'tcp6', ...endpoints })).to.throw(TypeError, 'encodeProxyHeader: command: expected "PROXY" or "LOCAL", got "proxy"');
    expect(() => encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp6', ...endpoints, source: { address: '::1', port: 70000 } })).to.throw(
      TypeError,
      'encodeProxyHeader: source.port: expected a whole number from 0 to 65535, got 70000',
    );
    expect(() => encodeProxyHeader({ version: 2, command: 'PROXY', family: 'tcp6', ...endpoints, destination: { address: '10.0.0.1', port: 80 } })).to.throw(TypeError, 'not an IPv6 address: 10.0.0.1');
  });
});
