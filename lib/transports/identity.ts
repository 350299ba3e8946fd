import { isIPv4 } from 'node:net';

// What names a connection in logs and to its handler: its id and its addresses.

let lastId = 0;

/** The next connection's id: one count for the process, across servers, clients and transports. */
export function nextConnectionId(): number {
  return ++lastId;
}

/** `127.0.0.1:41234`, `[::1]:41234`; an IPv4 peer on a dual-stack socket shows as plain IPv4. */
export function formatHost(host: string | undefined, port: number | undefined): string {
  return `${hostPart(host)}:${port}`;
}

// The last host formatted, since most connections come from the same address as the one before:
// one string compare instead of isIPv4's regular expression for every connection.
let lastHost: string | undefined;
let lastHostPart = '?';

/** `127.0.0.1`, `[::1]`: the host as it stands before `:port`. */
function hostPart(host: string | undefined): string {
  if (host === lastHost && host !== undefined) return lastHostPart;
  const plain = host?.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : (host ?? '?');
  // Of addresses and host names only IPv6 addresses hold a colon: cheaper than isIPv6's regular expression.
  const part = plain.includes(':') ? `[${plain}]` : plain;
  lastHost = host;
  lastHostPart = part;
  return part;
}
