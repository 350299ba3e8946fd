import { isIPv4, isIPv6 } from 'node:net';

/** `127.0.0.1:41234`, `[::1]:41234`; an IPv4 peer on a dual-stack socket shows as plain IPv4. */
export function formatHost(host: string | undefined, port: number | undefined): string {
  const plain = host?.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : (host ?? '?');
  return isIPv6(plain) ? `[${plain}]:${port}` : `${plain}:${port}`;
}
