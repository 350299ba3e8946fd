import { EventEmitter } from 'node:events';
import { isObservable, Observable } from 'rxjs';
import { DEFAULTS } from '../core/defaults';
import { InvalidOption } from '../core/errors';
import { ServerEvent } from '../core/events';
import { ConnectionInfo, Handler, Transport } from '../core/handler';
import { withLifetime } from './lifetime';
import { LinkedSet } from './linkedSet';
import { isServerLinesOnly, LineSink } from './log/sink';
import { writeTextLog } from './log/textLog';
import { closeReasonOf, closesFor, EventStream, eventError } from './serverEvents';
import { Traffic, TrafficTotals } from './traffic';
import { CloseCause, TransportConnection } from './transportConnection';

export { escapeLine, logger } from './log/sink';
export type { Log } from './log/sink';

// What every server does the same way, whatever its socket type: count connections and tell of
// them as events, run the handler on each, tell whose fault a failure was, and close with a grace period.

export interface Server extends AsyncDisposable {
  /** What it serves: `tcp`, `unix`, `tls` (over TCP or a Unix socket) or `udp`. */
  readonly transport: Transport;
  /** Where it listens: `[::]:50007`, `127.0.0.1:41234`, `unix:/tmp/rxwire.sock`. */
  readonly address: string;
  /** The real port (useful after `port: 0`); undefined on a Unix socket. */
  readonly port: number | undefined;
  /** Connections open right now (for UDP: peers with a session). */
  readonly connections: number;
  /** Bytes and decoded frames so far, the open connections' included: what metrics read at each scrape. */
  traffic(): Traffic;
  /**
   * What happens to it, as plain data: `listening` first (at once, on subscribing), then each
   * connection's `open` and `close`, refusals, failures, its shutdown; completes after `closed`.
   */
  readonly events: Observable<ServerEvent>;
  /**
   * Stops accepting at once, lets open connections finish for up to `graceMs` (default: the
   * `graceMs` option, else 5 s), then ends what is left. Resolves once every socket is closed.
   * `await using` and an aborted `signal` close it so.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * `handler`, checked to be a function when a server starts, in one line, so that a module object
 * (`require('rxwire/handlers/upper')`) does not fail every connection later. Refused rather than
 * unwrapped: `serve()` takes a function, and its types say so; only the command loads modules.
 */
export function checkHandler<H>(fn: string, handler: H): H {
  const never = neverAHandler(handler);
  if (never) throw new InvalidOption(`${fn}: handler: expected a handler function, got ${never}`);
  if (typeof handler === 'function') return handler;
  const exported = (handler as { default?: unknown } | null)?.default;
  const module = typeof exported === 'function' ? `a module object: pass its default export (require('…').default)` : handler === null ? 'null' : typeof handler;
  throw new InvalidOption(`${fn}: handler: expected a handler function, got ${module}`);
}

// What to say of a handler that is an async function, or returns a Promise.
const ASYNC_HANDLER = 'a handler returns an Observable, not a Promise (from(promise), or defer(async () => …))';

/**
 * What `fn` is, when it is a function that can never be a handler: an async function, whose
 * Promise is no Observable, or an async generator function, which `fromAsyncGenerator` serves.
 */
export function neverAHandler(fn: unknown): string | undefined {
  const kind = typeof fn === 'function' ? Object.prototype.toString.call(fn) : undefined;
  if (kind === '[object AsyncFunction]') return `an async function: ${ASYNC_HANDLER}`;
  if (kind === '[object AsyncGeneratorFunction]') return 'an async generator function: serve it as fromAsyncGenerator(generator)';
  return undefined;
}

/** The handler's pipeline for one connection; throws when the handler throws or returns no Observable. */
export function handlerOutput(handler: Handler, input: Observable<Buffer>, info: ConnectionInfo): Observable<Buffer> {
  // Unknown: the user's handler may be typed one way and return another.
  const output: unknown = handler(input, info);
  if (isObservable(output)) return output as Observable<Buffer>;
  const got = output instanceof Promise ? `a Promise: ${ASYNC_HANDLER}` : output === null ? 'null' : typeof output;
  throw new TypeError(`the handler must return an Observable, got ${got}`);
}

/** Resolves once `start` calls back (listening, bound), or rejects with the first 'error' `emitter` emits before. */
export function untilListening(emitter: EventEmitter, start: (listening: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    emitter.once('error', reject);
    start(() => {
      emitter.off('error', reject);
      resolve();
    });
  });
}

/** What a datagram session carried, besides its bytes: for its `close` event. */
export interface DatagramCounts {
  readonly datagramsIn: number;
  readonly datagramsOut: number;
  readonly droppedUnread: number;
}

/**
 * The open connections of one server, its events, and its one close: stop accepting, give the
 * open ones `graceMs`, then `cut` what is left; resolves once `stopAccepting` reports every
 * socket closed. Unless `log` is false, the text log subscribes to its events.
 */
export class Hosting<C extends TransportConnection> {
  readonly open = new LinkedSet<C>();
  readonly events = new EventStream();
  private readonly totals = new TrafficTotals();
  private closing: Promise<void> | undefined;
  // Set once the server has stopped: called when the last connection has told its close.
  private drained: (() => void) | undefined;

  constructor(
    readonly transport: Transport,
    log: LineSink | false,
    private readonly graceMs: number = DEFAULTS.graceMs,
    private readonly datagramCounts?: (conn: C) => DatagramCounts,
  ) {
    // A log that writes no line about single connections (`rxwire -q`) is told none, so that with
    // nobody else subscribed none is built.
    if (log !== false) writeTextLog(isServerLinesOnly(log) ? this.events.serverEvents : this.events.events, log);
  }

  opened(conn: C): void {
    this.open.add(conn);
    if (this.events.connectionsObserved) this.events.emit({ type: 'open', id: conn.info.id, transport: this.transport, remote: conn.info.remote, local: conn.info.local });
  }

  /** `conn` failed with `err`: it closes for that reason (the first one given). A bad frame and a handler's fault are told at once. */
  failed(conn: C, err: unknown): void {
    if (conn.closeCause || !this.open.has(conn)) return;
    const reason = closeReasonOf(err);
    conn.closeCause = { reason, error: err };
    if ((reason === 'protocol-error' || reason === 'handler-error') && this.events.connectionsObserved) {
      this.events.emit({ type: reason, id: conn.info.id, error: eventError(err) });
    }
  }

  /** A UDP or rdm session went silent past `idleMs`: it closes as idle unless something else ends it first. */
  expired(conn: C, idleMs: number): void {
    conn.closeCause ??= { reason: 'idle' };
    if (this.events.connectionsObserved) this.events.emit({ type: 'expired', id: conn.info.id, idleMs });
  }

  /** Forgets `conn`, and tells of its close: why, its totals, how long it lived. */
  closed(conn: C): void {
    this.open.delete(conn);
    this.totals.ended(conn);
    const cause = conn.closeCause;
    conn.closeCause = undefined;
    if (this.events.connectionsObserved) this.tellClose(conn, cause);
    if (this.drained && this.open.size === 0) this.drained();
  }

  private tellClose(conn: C, cause: CloseCause | undefined): void {
    const { id, remote } = conn.info;
    this.events.emit({
      type: 'close',
      id,
      transport: this.transport,
      remote,
      reason: cause?.reason ?? 'end',
      bytesIn: conn.bytesRead,
      bytesOut: conn.bytesWritten,
      ...this.datagramCounts?.(conn),
      durationMs: Date.now() - conn.openedAt,
      ...(cause?.error === undefined ? {} : { error: eventError(cause.error) }),
    });
  }

  /** What the connections have carried so far, open ones included. */
  traffic(): Traffic {
    return this.totals.with(this.open);
  }

  /** An error of the server itself (EMFILE on accept): told, and the server goes on. */
  serverError(err: unknown): void {
    if (this.events.observed) this.events.emit({ type: 'server-error', error: eventError(err) });
  }

  /**
   * `server`, listening, made whole: its `events` (telling `listening` now), and its `close`
   * (`stopAccepting`, the grace period, then `cut`), which `signal`, `await using` and the
   * command (saying why) call too.
   */
  serving<S extends Server>(
    server: Omit<S, 'events' | 'close' | typeof Symbol.asyncDispose>,
    signal: AbortSignal | undefined,
    stopAccepting: (done: () => void) => void,
    cut: (conn: C) => void,
  ): S {
    this.events.listening({ type: 'listening', transport: this.transport, address: server.address });
    const close = (graceMs: number | undefined, reason: string) => this.close(graceMs, reason, stopAccepting, cut);
    // Assigned, not spread: the server's getters (`connections`) must stay getters.
    const whole = Object.assign(server, { events: this.events.events, close: (graceMs?: number) => close(graceMs, 'close()') });
    return closesFor(withLifetime<S>(whole as unknown as Omit<S, typeof Symbol.asyncDispose>, signal), (reason) => close(undefined, reason), this.events.serverEvents);
  }

  private close(
    graceMs: number | undefined,
    reason: string,
    stopAccepting: (done: () => void) => void,
    cut: (conn: C) => void,
  ): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const ms = graceMs ?? this.graceMs;
      if (this.events.observed) this.events.emit({ type: 'shutdown', reason, open: this.open.size, counting: 'connections', graceMs: ms });
      const timer = setTimeout(() => {
        if (this.open.size > 0 && this.events.observed) this.events.emit({ type: 'grace-expired', graceMs: ms, cut: this.open.size });
        for (const conn of [...this.open]) {
          conn.closeCause ??= { reason: 'grace-expired' };
          cut(conn);
        }
      }, ms);
      stopAccepting(() => {
        clearTimeout(timer);
        // A socket's server may report it gone before the socket's own close has run: `closed` comes after every `close`.
        this.drained = () => {
          this.drained = undefined;
          this.events.closed();
          resolve();
        };
        if (this.open.size === 0) this.drained();
      });
    });
    return this.closing;
  }
}
