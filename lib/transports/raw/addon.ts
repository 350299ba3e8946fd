import { RawSocketUnavailable } from '../../core/errors';

// The few parts of the `raw-socket` addon (an optional dependency) that rxwire uses.
export interface AddonSocket {
  on(event: 'message', listener: (packet: Buffer, source: string) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  off(event: string, listener: (...args: never[]) => void): this;
  send(packet: Buffer, offset: number, length: number, address: string, sent: (err: Error | null, bytes: number) => void): this;
  setOption(level: number, option: number, value: number): void;
  close(): this;
}

export interface Addon {
  createSocket(options: { protocol: number; addressFamily: number; bufferSize: number }): AddonSocket;
  AddressFamily: { IPv4: number; IPv6: number };
  SocketLevel: { IPPROTO_IP: number };
  SocketOption: { IP_HDRINCL: number };
}

let loaded: Addon | RawSocketUnavailable | undefined;

/** The addon, loaded on first use; RawSocketUnavailable in one line when it is missing or did not build. */
export function rawSocketAddon(): Addon | RawSocketUnavailable {
  if (loaded) return loaded;
  try {
    loaded = require('raw-socket') as Addon;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    loaded = new RawSocketUnavailable(`raw sockets need the optional dependency raw-socket, which is not installed or did not build (${why})`);
  }
  return loaded;
}

/** Opening a raw socket without the privilege fails with EPERM or EACCES: one line, not a stack. */
export function openFailure(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/not permitted|permission denied|EPERM|EACCES/i.test(message)) return new RawSocketUnavailable('raw sockets need root or CAP_NET_RAW');
  return err instanceof Error ? err : new RawSocketUnavailable(message);
}
