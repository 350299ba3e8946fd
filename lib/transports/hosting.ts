import { EventEmitter } from 'node:events';
import { isObservable, Observable } from 'rxjs';
import { DEFAULTS } from '../core/defaults';
import { DatagramTooLarge, IdleTimeout, InvalidOption, ProtocolError, RxwireError } from '../core/errors';
import { ConnectionInfo, Handler, Transport } from '../core/handler';
import { Traffic, TrafficTotals } from './traffic';
import { TransportConnection } from './transportConnection';
import { logToStderr } from './stderrLog';

// What every server does the same way, whatever its socket type: count and log connections,
// run the handler on each, tell whose fault a failure was, and close with a grace period.

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
   * Stops accepting at once, lets open connections finish for up to `graceMs` (default: the
   * `graceMs` option, else 5 s), then ends what is left. Resolves once every socket is closed.
   * `await using` and an aborted `signal` close it so.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Where a server's log lines go. A connection's failure line comes with the Error that ended it,
 * for a stack or a report; a sink that takes only the line is a Log too.
 */
export type Log = (line: string, error?: Error) => void;

// Control characters (C0, DEL, C1) and the Unicode line separators: what could end a log line
// early or drive a terminal, should a peer's bytes reach a message.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

/** `line` with every unsafe character written as an escape (`\x1b`, `\u2028`): one event, one line. */
export function escapeLine(line: string): string {
  return UNSAFE.test(line)
    ? line.replace(UNSAFE_ALL, (c) => {
        const code = c.charCodeAt(0);
        return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
      })
    : line;
}

/**
 * Where a server's log lines go: the `log` option, stderr (buffered, not blocking) by default,
 * nowhere for `false`. Every line is escaped first, since messages may quote what a peer sent.
 */
export function logger(option: Log | false | undefined): Log {
  if (option === false) return () => {};
  const sink = option ?? logToStderr;
  // The error only when there is one: `log: console.log` would print a trailing `undefined`.
  return (line, error) => (error === undefined ? sink(escapeLine(line)) : sink(escapeLine(line), error));
}

/**
 * Logs the first of a storm of like events at once, then one line per second saying how many
 * followed (`refused 2900 connections in the last 1 s: limit 100`), so a flood of refusals or
 * accept errors cannot flood the log too.
 */
export class EventSummary {
  private count = 0;
  private window: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Log,
    private readonly summary: (count: number) => string,
    private readonly windowMs = 1000,
  ) {}

  record(line: string): void {
    if (this.window) {
      this.count++;
      return;
    }
    this.log(line);
    this.window = setTimeout(() => this.flush(), this.windowMs).unref();
  }

  /** Logs what has been counted and not yet said; the next event opens a new window. */
  flush(): void {
    clearTimeout(this.window);
    this.window = undefined;
    if (this.count === 0) return;
    const count = this.count;
    this.count = 0;
    this.log(this.summary(count));
  }
}

type ConnectionLine = 'opened' | 'closed' | 'other';

/**
 * Lines about single connections, at most `perSecond` in a second; past that they are counted by
 * kind, and the count is logged when the second is over (`2871 more connection(s) opened, 2850
 * closed, 12 other line(s) about them …`). A flood of peers, each costing a datagram or a
 * handshake, cannot then cost more than `perSecond` + 1 lines a second of log.
 */
export class ConnectionLog {
  private written = 0;
  private readonly counted: Record<ConnectionLine, number> = { opened: 0, closed: 0, other: 0 };
  private window: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Log,
    private readonly perSecond = DEFAULTS.connectionLogLinesPerSecond,
  ) {}

  write(kind: ConnectionLine, line: string, error?: Error): void {
    this.window ??= setTimeout(() => this.flush(), 1000).unref();
    if (this.written < this.perSecond) {
      this.written++;
      return this.log(line, error);
    }
    this.counted[kind]++;
  }

  /** Logs what has been counted and not yet said; the next line opens a new second. */
  flush(): void {
    clearTimeout(this.window);
    this.window = undefined;
    this.written = 0;
    const { opened, closed, other } = this.counted;
    if (opened + closed + other === 0) return;
    this.counted.opened = this.counted.closed = this.counted.other = 0;
    this.log(`${opened} more connection(s) opened, ${closed} closed, ${other} other line(s) about them, in the last 1 s: past ${this.perSecond} lines a second they are counted, not written`);
  }
}

/**
 * `handler`, checked to be a function when a server starts, in one line, so that a module object
 * (`require('rxwire/handlers/upper')`) does not fail every connection later. Refused rather than
 * unwrapped: `serve()` takes a function, and its types say so; only the command loads modules.
 */
export function checkHandler<H>(fn: string, handler: H): H {
  if (typeof handler === 'function') return handler;
  const exported = (handler as { default?: unknown } | null)?.default;
  const module = typeof exported === 'function' ? `a module object: pass its default export (require('…').default)` : handler === null ? 'null' : typeof handler;
  throw new InvalidOption(`${fn}: handler: expected a handler function, got ${module}`);
}

/** The handler's pipeline for one connection; throws when the handler throws or returns no Observable. */
export function handlerOutput(handler: Handler, input: Observable<Buffer>, info: ConnectionInfo): Observable<Buffer> {
  const output = handler(input, info);
  if (!isObservable(output)) throw new TypeError(`the handler must return an Observable, got ${typeof output}`);
  return output;
}

/**
 * The one log line for connection `id` failing with `err`. A timeout, or a datagram too large to
 * answer, is expected of a peer: its line says the connection is closing.
 */
export function failureLine(id: number, err: unknown): string {
  const closing = err instanceof IdleTimeout || err instanceof DatagramTooLarge;
  return `#${id} ${describeFailure(err)}${closing ? ', closing' : ''}`;
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

/**
 * A failed connection's log line, by the error's class and code: a frame that broke the protocol
 * is the peer's, a socket's system error (ECONNRESET, EPIPE, …) is the network's, one of rxwire's
 * own (an idle timeout) says what happened, anything else is the handler's.
 */
export function describeFailure(err: unknown): string {
  if (err instanceof ProtocolError) return `protocol error: ${err.message}`;
  if (isHandlerFault(err)) return `handler error: ${err instanceof Error ? err.message : String(err)}`;
  return (err as Error).message;
}

/** Whether a connection's failure is its handler's fault: neither one of rxwire's errors nor the network's. */
export function isHandlerFault(err: unknown): boolean {
  return !(err instanceof RxwireError) && !(err instanceof Error && isSystemError(err));
}

/** The Error a failure line is given to the log with, when it is one. */
export function failureError(err: unknown): Error | undefined {
  return err instanceof Error ? err : undefined;
}

/** Node's errors from the OS (ECONNRESET, EPIPE, EMFILE, …) carry the call that failed. */
function isSystemError(err: Error): boolean {
  return typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * The open connections of one server and its one close: stop accepting, give the open ones
 * `graceMs`, then `cut` what is left; resolves once `stopAccepting` reports every socket closed.
 */
export class Hosting<C extends TransportConnection> {
  readonly open = new Set<C>();
  private readonly totals = new TrafficTotals();
  private closing: Promise<void> | undefined;
  private readonly connectionLog: ConnectionLog;

  constructor(
    readonly log: Log,
    private readonly graceMs: number = DEFAULTS.graceMs,
  ) {
    this.connectionLog = new ConnectionLog(log);
  }

  opened(conn: C): void {
    this.open.add(conn);
    this.connectionLog.write('opened', `#${conn.info.id} open ${conn.info.remote}`);
  }

  /** Forgets `conn`, and logs its totals: `#3 closed 127.0.0.1:41234: 12 bytes in, 12 bytes out, 4 ms`. */
  closed(conn: C, totals = `${conn.bytesRead} bytes in, ${conn.bytesWritten} bytes out`): void {
    this.open.delete(conn);
    this.totals.ended(conn);
    this.connectionLog.write('closed', `#${conn.info.id} closed ${conn.info.remote}: ${totals}, ${Date.now() - conn.openedAt} ms`);
  }

  /** What the connections have carried so far, open ones included. */
  traffic(): Traffic {
    return this.totals.with(this.open);
  }

  /** Logs any other line about one connection (`#3 expired: …`), within the same budget as its open and close; a failure line with its Error. */
  logAbout(line: string, error?: Error): void {
    this.connectionLog.write('other', line, error);
  }

  close(graceMs: number | undefined, stopAccepting: (done: () => void) => void, cut: (conn: C) => void): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const ms = graceMs ?? this.graceMs;
      const timer = setTimeout(() => {
        if (this.open.size > 0) this.log(`grace period of ${ms} ms over: cutting ${this.open.size} connection(s)`);
        [...this.open].forEach(cut);
      }, ms);
      stopAccepting(() => {
        clearTimeout(timer);
        this.connectionLog.flush();
        resolve();
      });
    });
    return this.closing;
  }
}
