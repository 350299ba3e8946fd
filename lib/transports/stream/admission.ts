import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { RefusalReason } from '../../core/events';
import { PeerName } from '../identity';
import { EventStream } from '../serverEvents';

/**
 * Who may open a connection: at most `maxConnections` in all (where the OS-level check does not
 * already apply) and `perAddress` from one address. A refused socket is destroyed at once, and
 * told as a `refused` event, its peer named by `remote` as its connection would have been.
 */
export class Admission {
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly maxConnections: number | undefined,
    private readonly perAddress: number | undefined,
    private readonly events: EventStream,
    private readonly remote: PeerName,
  ) {}

  /**
   * Counts `socket` in, or refuses and destroys it. `open` is how many connections are open now;
   * `address` is its peer's (behind a proxy, the one the PROXY header gives).
   */
  admit(socket: Socket, open: number, address = socket.remoteAddress): boolean {
    if (this.maxConnections !== undefined && open >= this.maxConnections) {
      return this.refuse(socket, 'max-connections', this.maxConnections);
    }
    if (this.perAddress === undefined || address === undefined) return true;
    const count = this.byAddress.get(address) ?? 0;
    if (count >= this.perAddress) return this.refuse(socket, 'per-address', this.perAddress, address);
    this.byAddress.set(address, count + 1);
    socket.once('close', () => {
      const left = this.byAddress.get(address)! - 1;
      if (left === 0) this.byAddress.delete(address);
      else this.byAddress.set(address, left);
    });
    return true;
  }

  /** Tells of a peer refused: here, by the OS-level limit, or for a PROXY header it may not send (`detail`). */
  refused(remote: string, reason: RefusalReason, limit: number | undefined, detail?: { address?: string; detail?: string }): void {
    if (this.events.connectionsObserved) this.events.emit({ type: 'refused', remote, reason, ...(limit === undefined ? {} : { limit }), ...detail });
  }

  private refuse(socket: Socket, reason: RefusalReason, limit: number, address?: string): false {
    this.refused(this.remote(socket), reason, limit, address === undefined ? undefined : { address });
    socket.destroy();
    return false;
  }
}

// Descriptors left for everything but a server's sockets: log files, DNS, a client, a second server.
const DESCRIPTOR_RESERVE = 64;

/**
 * How many sockets a server may hold before the process runs out of descriptors: the open-files
 * limit (which Node raises to the hard limit at startup) less a reserve. Out of descriptors,
 * libuv accepts and closes waiting connections itself and tells nobody, so a server refuses
 * before that point, where it can log it. Undefined where the limit cannot be read (not Linux).
 */
export function descriptorCap(limitsFile = '/proc/self/limits'): { limit: number; cap: number } | undefined {
  let limits: string;
  try {
    limits = readFileSync(limitsFile, 'utf8');
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
  if (soft === undefined) return undefined;
  const limit = Number(soft);
  return { limit, cap: Math.max(1, limit - DESCRIPTOR_RESERVE) };
}
