import { Observable, Subject } from 'rxjs';
import { BufferBudgetExceeded, IdleTimeout, ProtocolError, RxwireError, SendBacklogFull, SessionShed } from '../core/errors';
import { CloseReason, CONNECTION_EVENT_TYPES, EventError, ListeningEvent, ServerEvent } from '../core/events';

// One server's stream of events (`server.events`), and what tells a failure's kind: the
// transports emit plain data here; the text log, metrics and users' code subscribe.

const CLOSED: ServerEvent = { type: 'closed' };

/**
 * A hot stream of one server's events. A subscriber is told `listening` first, at once (a server
 * is handed out already listening), then what happens from then on; it completes after `closed`.
 * Nothing else is kept for late subscribers. Emitters check `observed` (or, for an event about a
 * single connection, `connectionsObserved`) first, so that with nobody to tell no event object is
 * built at all.
 */
export class EventStream {
  private readonly live = new Subject<ServerEvent>();
  // Those told only the server's own events (`rxwire -q`'s log): with no other subscriber, no
  // event about a single connection is built.
  private readonly serverLive = new Subject<ServerEvent>();
  private listeningEvent: ListeningEvent | undefined;
  private ended = false;

  readonly events: Observable<ServerEvent> = this.streamOf(this.live);
  /** @internal `events` without those about single connections (`CONNECTION_EVENT_TYPES`): for a log that writes none. */
  readonly serverEvents: Observable<ServerEvent> = this.streamOf(this.serverLive);

  /** Whether anyone subscribes: emit only then. */
  get observed(): boolean {
    return this.live.observed || this.serverLive.observed;
  }

  /** Whether anyone subscribes to the events about single connections (`open`, `close`, `refused`, …): emit those only then. */
  get connectionsObserved(): boolean {
    return this.live.observed;
  }

  emit(event: ServerEvent): void {
    this.live.next(event);
    if (!CONNECTION_EVENT_TYPES.has(event.type)) this.serverLive.next(event);
  }

  /** The server listens: told to every subscriber, now and later. */
  listening(event: ListeningEvent): void {
    this.listeningEvent = event;
    this.live.next(event);
    this.serverLive.next(event);
  }

  /** The server has closed: `closed`, then the stream completes. */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    for (const subject of [this.live, this.serverLive]) {
      subject.next(CLOSED);
      subject.complete();
    }
  }

  private streamOf(subject: Subject<ServerEvent>): Observable<ServerEvent> {
    return new Observable<ServerEvent>((subscriber) => {
      if (this.listeningEvent) subscriber.next(this.listeningEvent);
      if (!this.ended) return subject.subscribe(subscriber);
      subscriber.next(CLOSED);
      subscriber.complete();
      return undefined;
    });
  }
}

/** `err` as an event carries it: its class name, code and message, and the Error itself. */
export function eventError(err: unknown): EventError {
  if (!(err instanceof Error)) return { name: typeof err, code: undefined, message: String(err), cause: undefined };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, code: typeof code === 'string' ? code : undefined, message: err.message, cause: err };
}

/**
 * Why a failure with `err` closes a connection, by the error's class and code: a frame that broke
 * the protocol is the peer's, a socket's system error (ECONNRESET, EPIPE, …) is the network's,
 * one of rxwire's own says what happened, anything else is the handler's.
 */
export function closeReasonOf(err: unknown): CloseReason {
  if (err instanceof ProtocolError) return 'protocol-error';
  if (err instanceof IdleTimeout) return 'idle';
  if (err instanceof BufferBudgetExceeded || err instanceof SessionShed || err instanceof SendBacklogFull) return 'over-budget';
  if (err instanceof RxwireError) return 'error';
  if (err instanceof Error && isSystemError(err)) return 'reset';
  return 'handler-error';
}

/** Whether a connection's failure is its handler's fault: neither one of rxwire's errors nor the network's. */
export function isHandlerFault(err: unknown): boolean {
  return closeReasonOf(err) === 'handler-error';
}

/** Node's errors from the OS (ECONNRESET, EPIPE, EMFILE, …) carry the call that failed. */
function isSystemError(err: Error): boolean {
  return typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

// What the command asks of a server that users' code is not shown: a close saying why (`SIGTERM`),
// and the server's own events (none about single connections), which it listens to for its
// shutdown line, so that under `-q` nothing subscribes to those and none is built.
interface ForCommand {
  readonly close: (reason: string) => Promise<void>;
  readonly ownEvents?: Observable<ServerEvent>;
}
const forCommand = new WeakMap<object, ForCommand>();

/** Registers how `server` closes with a reason of its shutdown event, and its own events (`EventStream.serverEvents`) if it has them apart. */
export function closesFor<S extends object>(server: S, close: (reason: string) => Promise<void>, ownEvents?: Observable<ServerEvent>): S {
  forCommand.set(server, { close, ownEvents });
  return server;
}

/** Closes `server` as `close()` does, its `shutdown` event saying `reason` (`SIGTERM`, `parent exited`). */
export function closeBecause(server: { close(): Promise<void> }, reason: string): Promise<void> {
  return forCommand.get(server)?.close(reason) ?? server.close();
}

/** `server`'s own events, without those about single connections; all its events when it registered none. */
export function ownEventsOf(server: { readonly events: Observable<ServerEvent> }): Observable<ServerEvent> {
  return forCommand.get(server)?.ownEvents ?? server.events;
}
