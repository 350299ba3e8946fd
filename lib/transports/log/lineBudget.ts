import { DEFAULTS } from '../../core/defaults';
import { ServerEvent } from '../../core/events';
import { LineSink } from './sink';

// How much of the log a flood may take: storms of like lines summed up once a second, and lines
// about single connections capped per second.

/**
 * Logs the first of a storm of like events at once, then one line per second saying how many
 * followed (`refused 2900 connections in the last 1 s: limit 100`), so a flood of refusals or
 * accept errors cannot flood the log too.
 */
export class EventSummary {
  private count = 0;
  private window: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: LineSink,
    private readonly summary: (count: number) => string,
    private readonly windowMs = 1000,
  ) {}

  record(line: string, event: ServerEvent): void {
    if (this.window) {
      this.count++;
      return;
    }
    this.log(line, undefined, event);
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
    private readonly log: LineSink,
    private readonly perSecond = DEFAULTS.connectionLogLinesPerSecond,
  ) {}

  /**
   * Whether a line of `kind` may be written now; if not, it is counted. Asked before the line is
   * made: past the budget, a flood's lines are never rendered.
   */
  takes(kind: ConnectionLine): boolean {
    this.window ??= setTimeout(() => this.flush(), 1000).unref();
    if (this.written < this.perSecond) {
      this.written++;
      return true;
    }
    this.counted[kind]++;
    return false;
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
