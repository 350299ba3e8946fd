// The data a redis server keeps: string values by key, with expiry times, within a memory
// budget. One Keyspace serves every connection of a server process; it knows nothing of RESP.
//
// Keys and values are latin1 strings: one character per byte, so any bytes round-trip, and each a
// copy of the read it came in (a view would keep the whole read alive). A string is one heap
// object of its length plus 16 bytes; a Buffer of its own would add a typed-array object of some
// 100 bytes per value, half of what the store costs per key (bench/README.md, issue #24).

import { globMatch } from './glob';

/** What one key costs besides its bytes: the Map entry, the SCAN bucket entry, the two strings' headers. */
const ENTRY_OVERHEAD = 96;
/** What a key's expiry costs besides the key: a second Map entry and its number. */
const EXPIRY_OVERHEAD = 48;
/** SCAN walks the keys bucket by bucket: a key stays in its bucket, so one present from start to end is returned. */
const SCAN_BUCKETS = 4096;
/** The sweep looks at this many keys with an expiry per round, as Redis's active expiry samples 20 per loop. */
const SWEEP_KEYS = 200;
/**
 * A tick runs another round while more than a quarter of the last one had expired (Redis's
 * `activeExpireCycle` rule), up to this many: 100,000 keys a second at most, and ~1 ms a tick.
 */
const SWEEP_ROUNDS = 50;
/** Ticks a second, as Redis's default `hz`. */
const SWEEP_MS = 100;

export interface KeyspaceOptions {
  /** Bytes of keys and values (with a fixed cost per key) past which writes are refused. */
  maxMemory: number;
  /** The clock, in milliseconds; tests move it by hand. */
  now?: () => number;
}

export class Keyspace {
  private readonly values = new Map<string, string>();
  private readonly expiries = new Map<string, number>();
  private readonly buckets: Set<string>[] = Array.from({ length: SCAN_BUCKETS }, () => new Set());
  private used = 0;
  /** Where the sweep goes on from: Map iterators stay valid as keys come and go. */
  private sweepAt: Iterator<[string, number]> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private users = 0;
  readonly maxMemory: number;
  readonly now: () => number;

  constructor(options: KeyspaceOptions) {
    this.maxMemory = options.maxMemory;
    this.now = options.now ?? Date.now;
  }

  /** Bytes counted against `maxMemory`. */
  get usedMemory(): number {
    return this.used;
  }

  get size(): number {
    return this.values.size;
  }

  /** Whether a write adding about `bytes` would pass the budget, once a sweep has freed what expired. */
  wouldExceed(bytes: number): boolean {
    if (this.used + bytes <= this.maxMemory) return false;
    this.sweep();
    return this.used + bytes > this.maxMemory;
  }

  /**
   * A connection starts using the keyspace: the first starts the sweep, one timer for all keys.
   * Returns what the connection calls when it ends; the last one stops the timer.
   */
  open(): () => void {
    if (this.users++ === 0) {
      this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweepTimer.unref();
    }
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      if (--this.users === 0) clearInterval(this.sweepTimer);
    };
  }

  /** The value at `key`, or undefined; an expired key is deleted as it is found (lazy expiry). */
  get(key: string): string | undefined {
    const value = this.values.get(key);
    if (value === undefined || this.expiries.size === 0) return value;
    const at = this.expiries.get(key);
    if (at === undefined || this.now() <= at) return value;
    this.delete(key);
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets `key` to `value` (latin1, a byte per character), keeping its expiry only when `keepTtl`. */
  set(key: string, value: string, keepTtl = false): void {
    const old = this.values.get(key);
    if (old === undefined) {
      this.used += key.length + value.length + ENTRY_OVERHEAD;
      this.buckets[bucketOf(key)]!.add(key);
    } else {
      this.used += value.length - old.length;
      if (!keepTtl) this.persist(key);
    }
    this.values.set(key, value);
  }

  delete(key: string): boolean {
    const old = this.values.get(key);
    if (old === undefined) return false;
    this.persist(key);
    this.values.delete(key);
    this.buckets[bucketOf(key)]!.delete(key);
    this.used -= key.length + old.length + ENTRY_OVERHEAD;
    return true;
  }

  /** When `key` expires (ms since the epoch), or undefined for none. The key must be live. */
  expiryOf(key: string): number | undefined {
    return this.expiries.get(key);
  }

  /** Expires `key` at `at`; the key must be live. */
  expireAt(key: string, at: number): void {
    if (!this.expiries.has(key)) this.used += key.length + EXPIRY_OVERHEAD;
    this.expiries.set(key, at);
  }

  /** Removes `key`'s expiry; whether it had one. */
  persist(key: string): boolean {
    if (!this.expiries.delete(key)) return false;
    this.used -= key.length + EXPIRY_OVERHEAD;
    return true;
  }

  clear(): void {
    this.values.clear();
    this.expiries.clear();
    for (const bucket of this.buckets) bucket.clear();
    this.used = 0;
    this.sweepAt = undefined;
  }

  /** Every live key matching `pattern`. */
  keys(pattern: string): string[] {
    const all = pattern === '*';
    const found: string[] = [];
    // A Map's iterator goes on past entries deleted meanwhile: has() deletes the expired ones it finds.
    for (const key of this.values.keys()) if ((all || globMatch(pattern, key)) && this.has(key)) found.push(key);
    return found;
  }

  /**
   * One SCAN step from `cursor` (a bucket index): whole buckets until at least `count` keys were
   * looked at; the next cursor is 0 after the last bucket.
   */
  scan(cursor: number, count: number, pattern: string | undefined): { next: number; keys: string[] } {
    const keys: string[] = [];
    let looked = 0;
    let bucket = cursor;
    while (bucket < SCAN_BUCKETS && looked < count) {
      for (const key of this.buckets[bucket]!) {
        looked++;
        if ((pattern === undefined || globMatch(pattern, key)) && this.has(key)) keys.push(key);
      }
      bucket++;
    }
    return { next: bucket >= SCAN_BUCKETS ? 0 : bucket, keys };
  }

  /**
   * Active expiry: rounds of SWEEP_KEYS keys with an expiry, from where the last one stopped,
   * deleting those past it; another round while more than a quarter of one had expired, at most
   * SWEEP_ROUNDS. A full cycle visits every such key.
   */
  sweep(): void {
    const now = this.now();
    for (let round = 0; round < SWEEP_ROUNDS; round++) {
      if (this.expiries.size === 0) {
        // A Map iterator left half-way keeps the Map's old table, and every key deleted since, alive.
        this.sweepAt = undefined;
        return;
      }
      const expired: string[] = [];
      let sampled = 0;
      for (; sampled < SWEEP_KEYS; sampled++) {
        this.sweepAt ??= this.expiries.entries();
        const next = this.sweepAt.next();
        if (next.done) {
          this.sweepAt = undefined;
          break;
        }
        if (now > next.value[1]) expired.push(next.value[0]);
      }
      for (const key of expired) this.delete(key);
      if (expired.length * 4 <= sampled) return;
    }
  }
}

/** The SCAN bucket of a key: FNV-1a over its bytes. */
function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SCAN_BUCKETS;
}
