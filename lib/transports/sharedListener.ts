import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { formatHost } from './identity';

// The listening socket of a server run by several processes, held by the one that supervises
// them, as an nginx master holds its listening sockets: the socket lives as long as the
// supervisor does, whatever happens to the processes that accept on it.
//
// The supervisor binds the socket and never accepts: it hands the socket to each worker (a file
// descriptor passed over the IPC channel), and the workers listen and accept on it. The kernel
// keeps it listening while any process holds it, so a worker crash loop neither frees the port
// for another process nor moves it; connections made while no worker is up wait in its backlog.
// Until the first worker listens, the socket is only bound: a process that listens on the port in
// that moment (binding it too, as SO_REUSEADDR allows) makes the start fail with EADDRINUSE, as a
// port already taken does.

/** A TCP socket bound by this process, to be listened on by others; Node's own handle type, opaque here. */
export interface SharedListener {
  readonly handle: object;
  /** `127.0.0.1:41234`, `[::]:9000`. */
  readonly address: string;
  readonly port: number;
  close(): void;
}

interface TcpHandle {
  getsockname(out: { address?: string; port?: number }): number;
  close(): void;
}

// Binding without listening is what node:cluster's primary does for its SCHED_NONE workers,
// through this same function; net.Server offers no public way to bind without accepting.
const createServerHandle = (net as unknown as { _createServerHandle: (address: string, port: number, addressType: number) => TcpHandle | number })
  ._createServerHandle;

/**
 * Binds `host` (a name is looked up first; none means every interface, IPv6 and IPv4, as
 * `net.Server.listen()` does) and `port` (0: any free port). Rejects with the line `serve()`'s
 * listen would give: `listen EADDRINUSE: address already in use 127.0.0.1:9000`.
 */
export async function bindSharedListener(host: string | undefined, port: number): Promise<SharedListener> {
  let handle: TcpHandle | number;
  let tried: string;
  if (host === undefined) {
    handle = createServerHandle('::', port, 6);
    tried = '::';
    if (typeof handle === 'number') handle = createServerHandle((tried = '0.0.0.0'), port, 4);
  } else {
    const { address, family } = await lookup(host);
    tried = address;
    handle = createServerHandle(address, port, family);
  }
  if (typeof handle === 'number') throw listenError(handle, tried, port);
  const tcp = handle;
  const bound: { address?: string; port?: number } = {};
  // libuv defers an EADDRINUSE from bind() to listen(), leaving the socket unbound meanwhile.
  if (tcp.getsockname(bound) !== 0 || !bound.port) {
    tcp.close();
    throw listenError(-constants.errno.EADDRINUSE, tried, port);
  }
  return { handle: tcp, address: formatHost(bound.address, bound.port), port: bound.port!, close: () => tcp.close() };
}

function listenError(errno: number, address: string, port: number): NodeJS.ErrnoException {
  const description = getSystemErrorMap().get(errno)?.[1] ?? 'unknown error';
  const code = getSystemErrorName(errno);
  const err: NodeJS.ErrnoException = new Error(`listen ${code}: ${description} ${address}${port > 0 ? `:${port}` : ''}`);
  err.code = code;
  err.errno = errno;
  err.syscall = 'listen';
  return err;
}
