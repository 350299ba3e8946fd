// What names a connection in logs and to its handler: its id and its addresses.

let lastId = 0;

/** The next connection's id: one count for the process, across servers, clients and transports. */
export function nextConnectionId(): number {
  return ++lastId;
}

/** `127.0.0.1:41234`, `[::1]:41234`; an IPv4 peer on a dual-stack socket shows as plain IPv4. */
export function formatHost(host: string | undefined, port: number | undefined): string {
  const plain = host === undefined ? '?' : plainAddress(host);
  // Of addresses and host names only IPv6 addresses hold a colon: cheaper than isIPv6's regular
  // expression, twice per connection.
  return plain.includes(':') ? `[${plain}]:${port}` : `${plain}:${port}`;
}

/** `unix:/tmp/rxwire.sock` for a Unix socket's path, else `formatHost`: how an endpoint is named in logs and events. */
export function endpointName(path: string | undefined, host: string | undefined, port: number | undefined): string {
  return path !== undefined ? `unix:${path}` : formatHost(host, port);
}

/** How a server names a peer, from a socket or from what Node tells of one it dropped. */
export type PeerName = (peer: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }) => string;

/**
 * `::ffff:1.2.3.4`, an IPv4 peer on a dual-stack socket, as `1.2.3.4`; any other address as it is.
 * A socket's addresses come from the OS in their usual form, so the mapped form is the one with a
 * dot and no colon past its prefix: no regular expression for every connection.
 */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') && address.indexOf(':', 7) === -1 ? address.slice(7) : address;
}
