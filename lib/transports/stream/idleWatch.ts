import { Linked, LinkedSet } from '../linkedSet';

/** What a connection carries to be watched: its place in the watch's list, and what expires it. */
export interface Watched extends Linked<Watched> {
  /** The watch's tick at its last activity. */
  idleTick: number;
  /** Silent past the limit: it is no longer watched when this is called. */
  idleExpired(): void;
}

// Ticks per idle limit (fewer under 16 ms, a timer's least being 1 ms): a connection expires
// between `ms` and `ms` + ms/16 after its last activity.
const TICKS = 16;

/**
 * A stream server's idle limit (`serve({ idleMs })`) for all its connections, with one timer: a
 * timer wheel of one slot, as Netty's HashedWheelTimer, since every connection has the same limit.
 * Why not `idleTimeout()` on each pipeline, as before: that cost every connection a Timeout, an
 * AsyncAction, a Subscriber, five closures and a clock read per read or write, about 1 KB of an
 * idle connection's heap. Here a connection is three fields in a list kept in order of last
 * activity (activity moves it to the end, no clock read), the timer counts ticks of ms/16, and
 * each tick expires the connections at the front that have been silent for 16 whole ticks.
 * The timer runs only while some connection is watched.
 */
export class IdleWatch {
  /** The watched connections, in order of last activity: the silent longest first. */
  private readonly watched = new LinkedSet<Watched>();
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  /** Ticks of silence that make `ms`. */
  private readonly ticks: number;

  constructor(readonly ms: number) {
    this.tickMs = Math.max(1, Math.floor(ms / TICKS));
    this.ticks = Math.ceil(ms / this.tickMs);
  }

  /** Watches `conn` from now. */
  watch(conn: Watched): void {
    conn.idleTick = this.tick;
    this.watched.add(conn);
    this.timer ??= setTimeout(() => this.ticked(), this.tickMs).unref();
  }

  /** Bytes moved on `conn`: its silence starts again. Nothing when it is not watched. */
  touch(conn: Watched): void {
    if (this.watched.moveLast(conn)) conn.idleTick = this.tick;
  }

  /** Stops watching `conn`; nothing when it is not watched. */
  unwatch(conn: Watched): void {
    if (!this.watched.delete(conn) || this.watched.size > 0) return;
    // A cleared Timeout cannot be refreshed: the next connection watched makes a new one.
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private ticked(): void {
    this.tick++;
    // A connection touched during tick t has been silent for `ticks` whole ticks once the count
    // has passed t + ticks: never early, at most one tick late.
    for (let conn = this.watched.first; conn !== undefined && this.tick - conn.idleTick > this.ticks; conn = this.watched.first) {
      this.unwatch(conn);
      conn.idleExpired();
    }
    this.timer?.refresh();
  }
}
