import { BlockList, Socket } from 'node:net';
import { ProxyHeader, ProxyHeaderReader } from '../../codecs/proxyHeader';
import { DEFAULTS } from '../../core/defaults';
import { ProxyHeaderError, ProxyHeaderTimeout } from '../../core/errors';
import { formatHost, PeerName, plainAddress } from '../identity';
import { Linked, LinkedSet } from '../linkedSet';
import { EventStream, eventError } from '../serverEvents';
import { Admission } from './admission';
import { addressList, ProxyProtocolOptions } from './options';

/** A proxied connection's addresses, as the PROXY header gives them; `remoteAddress` is the bare IP, for per-address limits. */
export interface ProxiedAddresses {
  readonly local: string;
  readonly remote: string;
  readonly remoteAddress?: string;
}

/**
 * Reads the PROXY header off each new socket before anything else does. Only peers on the
 * allow-list may send one (a Unix socket's peers all may: its file's permissions decide who
 * connects); any other is refused at once, so a client reaching the server directly cannot
 * claim another address. A header that is bad, too long or late ends its connection, told as a
 * `refused` event with its error. At most `maxPending` sockets wait for theirs; past that the oldest gives way.
 */
export class ProxyHeaderGate {
  private readonly allow: BlockList;
  private readonly timeoutMs: number;
  private readonly maxHeaderBytes: number;
  /** Sockets whose header has not arrived, oldest first, each with what gives it up (saying why, or silently on close). */
  private readonly pending = new LinkedSet<Pending>();

  constructor(
    options: true | ProxyProtocolOptions,
    private readonly overUnix: boolean,
    /** How the server names a peer: a refused one is named as its connection would have been. */
    private readonly remote: PeerName,
    private readonly admission: Admission,
    private readonly events: EventStream,
    private readonly maxPending: number = DEFAULTS.maxPendingHandshakes,
  ) {
    const given = options === true ? {} : options;
    this.allow = addressList(given.allow ?? DEFAULTS.proxyAllow);
    this.timeoutMs = given.timeoutMs ?? DEFAULTS.proxyHeaderTimeoutMs;
    this.maxHeaderBytes = given.maxHeaderBytes ?? DEFAULTS.maxProxyHeaderBytes;
  }

  /**
   * Reads `socket`'s header, then calls `proxied` with its addresses (undefined for `LOCAL` and
   * unknown families: the socket's own), the socket paused and the bytes after the header unread.
   */
  read(socket: Socket, proxied: (addresses: ProxiedAddresses | undefined) => void): void {
    const peer = this.remote(socket);
    if (!this.overUnix && !this.allowed(socket.remoteAddress)) {
      this.admission.refused(peer, 'proxy-header', undefined, { detail: 'not allowed to send a PROXY header (proxyProtocol.allow)' });
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.maxPending) {
      this.pending.first?.giveUp(new ProxyHeaderError(`gave way to a newer connection: ${this.maxPending} headers pending`));
    }
    const reader = new ProxyHeaderReader(this.maxHeaderBytes);
    const settle = () => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError);
      this.pending.delete(waiting);
    };
    const fail = (err?: Error) => {
      settle();
      if (err && this.events.connectionsObserved) this.events.emit({ type: 'refused', remote: peer, reason: 'proxy-header', error: eventError(err) });
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      const read = reader.push(chunk);
      if (!read) return;
      if ('error' in read) return fail(read.error);
      settle();
      socket.pause();
      if (read.rest.length > 0) socket.unshift(read.rest);
      proxied(addressesOf(read.header));
    };
    const onEnd = () => fail(new ProxyHeaderError(reader.buffered > 0 ? 'the peer hung up inside it' : 'the peer hung up before sending one'));
    const onError = (err: Error) => fail(err);
    const timer = setTimeout(() => fail(new ProxyHeaderTimeout(this.timeoutMs)), this.timeoutMs);
    const waiting: Pending = { giveUp: fail, listPrev: undefined, listNext: undefined };
    this.pending.add(waiting);
    socket.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onError);
    socket.resume();
  }

  /** Destroys the sockets still waiting for their header: on close they have nothing to finish. */
  destroyPending(): void {
    for (const waiting of [...this.pending]) waiting.giveUp();
  }

  private allowed(address: string | undefined): boolean {
    if (address === undefined) return false;
    const plain = plainAddress(address);
    return this.allow.check(plain, plain.includes(':') ? 'ipv6' : 'ipv4');
  }
}

/** A socket waiting for its header, in the gate's list. */
interface Pending extends Linked<Pending> {
  readonly giveUp: (why?: Error) => void;
}

function addressesOf(header: ProxyHeader): ProxiedAddresses | undefined {
  const { source, destination } = header;
  if (header.command === 'LOCAL' || !source || !destination) return undefined;
  if (header.family === 'unix' || header.family === 'unix-dgram') return { local: `unix:${destination.address}`, remote: `unix:${source.address}` };
  return { local: formatHost(destination.address, destination.port), remote: formatHost(source.address, source.port), remoteAddress: source.address };
}
