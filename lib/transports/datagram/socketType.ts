import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';

/** udp4 for an IPv4 address or a name that resolves to one; udp6 for IPv6 and for no host (`::`, dual-stack). */
export async function socketTypeFor(host: string | undefined): Promise<dgram.SocketType> {
  if (host === undefined || isIPv6(host)) return 'udp6';
  if (isIPv4(host)) return 'udp4';
  return (await lookup(host)).family === 6 ? 'udp6' : 'udp4';
}
