import { isIPv4, isIPv6 } from 'node:net';
import { ProxyHeaderError } from '../core/errors';

// The PROXY protocol (haproxy.org/download/2.9/doc/proxy-protocol.txt): what a load balancer
// sends first on a connection to say whose it is. v1 is one text line, v2 a binary block.

/** How the proxied connection was made; `unknown` when the sender does not say (its addresses are then not given). */
export type ProxyFamily = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix' | 'unix-dgram' | 'unknown';

/** An IP address and port, or (for the `unix` families) a socket path and no port. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port?: number;
}

/**
 * One PROXY header. `LOCAL` (v2 only: a proxy's own health check) and the `unknown` family carry
 * no addresses: the connection is then the socket's own.
 */
export interface ProxyHeader {
  readonly version: 1 | 2;
  readonly command: 'PROXY' | 'LOCAL';
  readonly family: ProxyFamily;
  readonly source?: ProxyEndpoint;
  readonly destination?: ProxyEndpoint;
}

/** What reading the start of a connection gave: its header and the bytes after it, or why there is none. */
export type ProxyHeaderRead = { readonly header: ProxyHeader; readonly rest: Buffer } | { readonly error: ProxyHeaderError };

const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line, CRLF included (`PROXY UNKNOWN` with two IPv6 addresses and ports). */
export const V1_MAX_BYTES = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;
/** The v2 address block's length for each family (high nibble of byte 13). */
const V2_ADDRESS_BYTES = [0, 12, 36, 216] as const;
const UNIX_PATH_BYTES = 108;

/**
 * Reads a PROXY header (v1 or v2) off the start of a connection, chunk by chunk: `push` returns
 * undefined while more bytes are needed. It fails as soon as the bytes cannot start a valid
 * header, and never waits for more than `maxV2Bytes` (v1 lines are at most 107 by their spec).
 */
export class ProxyHeaderReader {
  private parts: Buffer[] = [];
  private held = 0;
  /** Bytes the header needs before it is worth looking at again. */
  private needed = 1;
  private result: ProxyHeaderRead | undefined;

  constructor(private readonly maxV2Bytes: number) {}

  push(chunk: Buffer): ProxyHeaderRead | undefined {
    if (this.result) return this.result;
    this.parts.push(chunk);
    this.held += chunk.length;
    if (this.held < this.needed) return undefined;
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const read = bytes[0] === V1_PREFIX[0] ? readV1(bytes) : readV2(bytes, this.maxV2Bytes);
    if (typeof read === 'number') {
      this.parts = [bytes];
      this.needed = read;
      return undefined;
    }
    this.parts = [];
    this.held = 0;
    return (this.result = read);
  }

  /** Bytes held for a header that has not fully arrived. */
  get buffered(): number {
    return this.held;
  }
}

function fail(message: string): { error: ProxyHeaderError } {
  return { error: new ProxyHeaderError(message) };
}

/** True when `bytes` is `expected` or a start of it. */
function startsLike(bytes: Buffer, expected: Buffer): boolean {
  const n = Math.min(bytes.length, expected.length);
  return bytes.subarray(0, n).equals(expected.subarray(0, n));
}

// Each returns the header, an error, or how many bytes it needs in all before it can tell.

function readV1(bytes: Buffer): ProxyHeaderRead | number {
  if (!startsLike(bytes, V1_PREFIX)) return fail('no PROXY header');
  const lf = bytes.subarray(0, V1_MAX_BYTES).indexOf(0x0a);
  if (lf < 0) return bytes.length >= V1_MAX_BYTES ? fail(`v1 line longer than ${V1_MAX_BYTES} bytes`) : bytes.length + 1;
  const end = lf + 1;
  if (bytes[lf - 1] !== 0x0d) return fail('v1 line not ended by CRLF');
  const header = parseV1Line(bytes.toString('latin1', V1_PREFIX.length, lf - 1));
  return 'error' in header ? header : { header, rest: bytes.subarray(end) };
}

function parseV1Line(line: string): ProxyHeader | { error: ProxyHeaderError } {
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return { version: 1, command: 'PROXY', family: 'unknown' };
  const fields = line.split(' ');
  const [protocol, source, destination, sourcePort, destinationPort] = fields;
  if (fields.length !== 5 || (protocol !== 'TCP4' && protocol !== 'TCP6')) return fail(`bad v1 line "${line.slice(0, 40)}"`);
  const ipv4 = protocol === 'TCP4';
  const valid = (address: string) => (ipv4 ? isIPv4(address) : isIPv6(address) && !address.includes('%'));
  if (!valid(source!) || !valid(destination!)) return fail(`bad ${protocol} address in v1 line`);
  const ports = [sourcePort!, destinationPort!].map(parsePort);
  if (ports.some((p) => p === undefined)) return fail('bad port in v1 line');
  const canonical = (address: string) => (ipv4 ? address : formatIPv6(ipv6Bytes(address)));
  return {
    version: 1,
    command: 'PROXY',
    family: ipv4 ? 'tcp4' : 'tcp6',
    source: { address: canonical(source!), port: ports[0] },
    destination: { address: canonical(destination!), port: ports[1] },
  };
}

function parsePort(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function readV2(bytes: Buffer, maxBytes: number): ProxyHeaderRead | number {
  if (!startsLike(bytes, V2_SIGNATURE)) return fail('no PROXY header');
  if (bytes.length < V2_FIXED_BYTES) return bytes.length < V2_SIGNATURE.length ? bytes.length + 1 : V2_FIXED_BYTES;
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return fail(`unknown v2 version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return fail(`unknown v2 command ${command}`);
  const familyByte = bytes[13]!;
  const addressFamily = familyByte >> 4;
  const protocol = familyByte & 0x0f;
  if (addressFamily > 3 || protocol > 2) return fail(`unknown v2 family 0x${familyByte.toString(16).padStart(2, '0')}`);
  const total = V2_FIXED_BYTES + bytes.readUInt16BE(14);
  if (total > maxBytes) return fail(`v2 header of ${total} bytes exceeds the ${maxBytes}-byte limit`);
  if (bytes.length < total) return total;
  const rest = bytes.subarray(total);
  if (command === 0) return { header: { version: 2, command: 'LOCAL', family: 'unknown' }, rest };
  if (addressFamily === 0 || protocol === 0) return { header: { version: 2, command: 'PROXY', family: 'unknown' }, rest };
  if (total - V2_FIXED_BYTES < V2_ADDRESS_BYTES[addressFamily]!) return fail('v2 address block shorter than its family needs');
  const block = bytes.subarray(V2_FIXED_BYTES, total);
  const stream = protocol === 1;
  let header: ProxyHeader;
  if (addressFamily === 3) {
    header = { version: 2, command: 'PROXY', family: stream ? 'unix' : 'unix-dgram', source: { address: unixPath(block, 0) }, destination: { address: unixPath(block, UNIX_PATH_BYTES) } };
  } else {
    const ipv4 = addressFamily === 1;
    const size = ipv4 ? 4 : 16;
    const format = (at: number) => (ipv4 ? [...block.subarray(at, at + 4)].join('.') : formatIPv6(block.subarray(at, at + 16)));
    header = {
      version: 2,
      command: 'PROXY',
      family: ipv4 ? (stream ? 'tcp4' : 'udp4') : stream ? 'tcp6' : 'udp6',
      source: { address: format(0), port: block.readUInt16BE(2 * size) },
      destination: { address: format(size), port: block.readUInt16BE(2 * size + 2) },
    };
  }
  // What follows the addresses (TLVs) is not used, and the spec lets a receiver skip it.
  return { header, rest };
}

function unixPath(block: Buffer, at: number): string {
  const field = block.subarray(at, at + UNIX_PATH_BYTES);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? field.length : nul);
}

// ---- Writing ----------------------------------------------------------------------------------

const V2_FAMILY_BYTE: Readonly<Record<ProxyFamily, number>> = { unknown: 0x00, tcp4: 0x11, udp4: 0x12, tcp6: 0x21, udp6: 0x22, unix: 0x31, 'unix-dgram': 0x32 };

/**
 * The bytes of `header`, as a proxy sends them (for tests, and for proxies written with rxwire).
 * Throws a TypeError for what no header can carry: v1 with LOCAL, a UDP or Unix family, or an
 * address that is not of its family.
 */
export function encodeProxyHeader(header: ProxyHeader): Buffer {
  const { source, destination } = header;
  const addressed = header.command === 'PROXY' && header.family !== 'unknown';
  if (addressed && (!source || !destination)) throw new TypeError(`a ${header.family} PROXY header needs a source and a destination`);
  if (header.version === 1) {
    if (header.command === 'LOCAL') throw new TypeError('PROXY v1 has no LOCAL command');
    if (!addressed) return Buffer.from('PROXY UNKNOWN\r\n');
    if (header.family !== 'tcp4' && header.family !== 'tcp6') throw new TypeError(`PROXY v1 cannot carry ${header.family}`);
    const ipv4 = header.family === 'tcp4';
    for (const { address } of [source!, destination!]) {
      if (ipv4 ? !isIPv4(address) : !isIPv6(address)) throw new TypeError(`not an ${header.family} address: ${address}`);
    }
    return Buffer.from(`PROXY ${ipv4 ? 'TCP4' : 'TCP6'} ${source!.address} ${destination!.address} ${source!.port} ${destination!.port}\r\n`);
  }
  const familyByte = header.command === 'LOCAL' ? 0 : V2_FAMILY_BYTE[header.family];
  const block = Buffer.alloc(header.command === 'LOCAL' ? 0 : V2_ADDRESS_BYTES[familyByte >> 4]!);
  if (header.command === 'PROXY' && (familyByte >> 4 === 1 || familyByte >> 4 === 2)) {
    const ipv4 = familyByte >> 4 === 1;
    const size = ipv4 ? 4 : 16;
    [source!, destination!].forEach(({ address }, i) => ipBytes(address, ipv4).copy(block, i * size));
    block.writeUInt16BE(source!.port ?? 0, 2 * size);
    block.writeUInt16BE(destination!.port ?? 0, 2 * size + 2);
  } else if (familyByte >> 4 === 3) {
    [source!, destination!].forEach(({ address }, i) => {
      if (Buffer.byteLength(address) > UNIX_PATH_BYTES) throw new TypeError(`unix path longer than ${UNIX_PATH_BYTES} bytes`);
      block.write(address, i * UNIX_PATH_BYTES);
    });
  }
  const fixed = Buffer.alloc(V2_FIXED_BYTES);
  V2_SIGNATURE.copy(fixed);
  fixed[12] = header.command === 'LOCAL' ? 0x20 : 0x21;
  fixed[13] = familyByte;
  fixed.writeUInt16BE(block.length, 14);
  return Buffer.concat([fixed, block]);
}

function ipBytes(address: string, ipv4: boolean): Buffer {
  if (ipv4 ? !isIPv4(address) : !isIPv6(address)) throw new TypeError(`not an ${ipv4 ? 'IPv4' : 'IPv6'} address: ${address}`);
  return ipv4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
}

// ---- IPv6 text ----------------------------------------------------------------------------------

/** The 16 bytes of a valid IPv6 address in text (`::1`, `2001:db8::ffff:1.2.3.4`). */
function ipv6Bytes(text: string): Buffer {
  const bytes = Buffer.alloc(16);
  let tail = text;
  let embedded: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    embedded = text.slice(lastColon + 1).split('.').map(Number);
    tail = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = tail.includes('::') ? tail.split('::') : [tail, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(rest);
  const all = rest === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  all.forEach((group, i) => bytes.writeUInt16BE(group, 2 * i));
  if (embedded.length === 4) Buffer.from(embedded).copy(bytes, 12);
  return bytes;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (two or more) of zero groups as `::`. */
function formatIPv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
