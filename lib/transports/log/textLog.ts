import { Observable, Subscription } from 'rxjs';
import { DatagramTooLarge, IdleTimeout, ProtocolError } from '../../core/errors';
import { CloseEvent, CONNECTION_EVENT_TYPES, EventError, RefusedEvent, ServerEvent, ShutdownEvent, WorkerExitEvent } from '../../core/events';
import { ConnectionLog, EventSummary } from './lineBudget';
import { isServerLinesOnly, LineSink } from './sink';

// The text log is one subscriber of a server's events: each event becomes today's line
// (`#1 open …`, `#1 closed …: 12 bytes in, 12 bytes out, 4 ms`), within the line budget, floods
// summed up. The wording is a contract: specs and operators' scripts read it.

/**
 * Writes `events` to `log` as text lines until the server has closed. A sink made by
 * `serverLinesOnly` (`rxwire -q`) is given only the server's own lines: those about single
 * connections are left out by type, before any is rendered.
 */
export function writeTextLog(events: Observable<ServerEvent>, log: LineSink): Subscription {
  const text = new TextLog(log, isServerLinesOnly(log));
  return events.subscribe((event) => text.write(event));
}

/** `SIGTERM: closing, 3 connection(s) open`: the command writes it as it is, unstamped, to stderr. */
export function shutdownLine(event: ShutdownEvent): string {
  return `${event.reason}: closing, ${event.open} ${event.counting === 'workers' ? 'worker(s) serving' : 'connection(s) open'}`;
}

/**
 * The one log line for connection `id` failing with `error`. A timeout, or a datagram too large to
 * answer, is expected of a peer: its line says the connection is closing.
 */
export function failureLine(id: number, error: EventError, kind: 'protocol-error' | 'handler-error' | undefined): string {
  return `#${id} ${describeFailure(error, kind)}${error.cause instanceof IdleTimeout || error.cause instanceof DatagramTooLarge ? ', closing' : ''}`;
}

/** A failure's words: a frame that broke the protocol and a handler's fault say so; others are their message. */
export function describeFailure(error: EventError, kind: 'protocol-error' | 'handler-error' | undefined): string {
  if (kind === 'protocol-error') return `protocol error: ${error.message}`;
  if (kind === 'handler-error') return `handler error: ${error.message}`;
  return error.message;
}

class TextLog {
  private readonly connectionLog: ConnectionLog;
  private readonly refusals: EventSummary;
  private readonly serverErrors: EventSummary;
  // UDP: datagrams from new peers dropped so far, and when that was last said (once a second at most).
  private fullDrops = 0;
  private fullSaidAt = 0;

  constructor(
    private readonly log: LineSink,
    private readonly serverLinesOnly: boolean,
  ) {
    this.connectionLog = new ConnectionLog(log);
    this.refusals = new EventSummary(log, (count) => `refused ${count} more connection(s) in the last 1 s`);
    this.serverErrors = new EventSummary(log, (count) => `server: ${count} more error(s) in the last 1 s`);
  }

  write(event: ServerEvent): void {
    if (this.serverLinesOnly && CONNECTION_EVENT_TYPES.has(event.type)) return;
    switch (event.type) {
      case 'open':
        if (this.connectionLog.takes('opened')) this.log(`#${event.id} open ${event.remote}`, undefined, event);
        return;
      case 'close':
        return this.closed(event);
      case 'protocol-error':
      case 'handler-error':
        if (this.connectionLog.takes('other')) this.log(failureLine(event.id, event.error, event.type), event.error.cause, event);
        return;
      case 'expired':
        if (this.connectionLog.takes('other')) this.log(`#${event.id} expired: silent for ${event.idleMs} ms`, undefined, event);
        return;
      case 'refused':
        return this.refused(event);
      case 'udp-dropped':
        return this.log(`closed: ${event.fromNewPeers} datagram(s) from new peers dropped (maxPeers ${event.maxPeers}), ${event.unread} dropped unread`, undefined, event);
      case 'worker-exit':
        return this.log(workerExitLine(event), undefined, event);
      case 'server-error':
        return this.serverErrors.record(`server: ${event.error.message}`, event);
      case 'grace-expired':
        return this.log(`grace period of ${event.graceMs} ms over: cutting ${event.cut} connection(s)`, undefined, event);
      case 'closed':
        // What the last second's summaries have counted and not yet said.
        this.refusals.flush();
        this.serverErrors.flush();
        return this.connectionLog.flush();
      // `listening on …` goes to stdout and `SIGTERM: closing, …` unstamped, both from the command;
      // a restarted worker says so itself.
      case 'listening':
      case 'shutdown':
      case 'worker-restart':
        return;
    }
  }

  /** A failure other than the protocol's or the handler's (told as it happened) is said with the close: `#3 idle for 300 ms, closing`. */
  private closed(event: CloseEvent): void {
    if (event.error && event.reason !== 'protocol-error' && event.reason !== 'handler-error') {
      // A line, not a record: the close's own record carries its error.
      if (this.connectionLog.takes('other')) this.log(failureLine(event.id, event.error, undefined), event.error.cause);
    }
    if (!this.connectionLog.takes('closed')) return;
    const totals =
      event.datagramsIn === undefined
        ? `${event.bytesIn} bytes in, ${event.bytesOut} bytes out`
        : `${event.datagramsIn} datagrams (${event.bytesIn} bytes) in${event.droppedUnread ? `, ${event.droppedUnread} dropped unread` : ''}, ${event.datagramsOut} datagrams (${event.bytesOut} bytes) out`;
    this.log(`#${event.id} closed ${event.remote}: ${totals}, ${event.durationMs} ms`, undefined, event);
  }

  private refused(event: RefusedEvent): void {
    switch (event.reason) {
      case 'tls-handshake':
        return this.log(`tls handshake with ${event.remote} failed: ${event.detail}`, undefined, event);
      case 'max-peers':
        // One line a second at most: a flood of new peers must not flood the log too.
        this.fullDrops++;
        if (Date.now() - this.fullSaidAt < 1000) return;
        this.fullSaidAt = Date.now();
        return this.log(`refused ${event.remote}: ${event.limit} peers open; datagrams from new peers dropped so far: ${this.fullDrops}`, undefined, event);
      case 'proxy-header':
        // A header that failed ends its socket as a bad frame would; one that was not allowed is refused.
        if (event.error) return this.log(`${event.remote} ${describeFailure(event.error, event.error.cause instanceof ProtocolError ? 'protocol-error' : undefined)}, closing`, undefined, event);
        return this.refusals.record(`refused ${event.remote}: ${event.detail}`, event);
      case 'max-connections':
        return this.refusals.record(`refused ${event.remote}: ${event.limit} connections open`, event);
      case 'per-address':
        return this.refusals.record(`refused ${event.remote}: ${event.limit} connections open from ${event.address}`, event);
      case 'near-fd-limit':
        return this.refusals.record(`refused ${event.remote}: near the process's limit of ${event.limit} open files`, event);
    }
  }
}

/** `server: worker 2 (pid 4242) exited with code 1 (cannot listen: …) after 0.3 s: restarting it in 100 ms`. */
function workerExitLine(event: WorkerExitEvent): string {
  const how = event.signal ? `was killed by ${event.signal}` : `exited with code ${event.code}`;
  const why = event.reason === undefined ? '' : ` (${event.reason})`;
  return `server: worker ${event.worker} (pid ${event.pid}) ${how}${why} after ${(event.livedMs / 1000).toFixed(1)} s: restarting it in ${event.restartInMs} ms`;
}
