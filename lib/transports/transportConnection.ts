import { merge, Observable, Subscriber, TeardownLogic, Unsubscribable } from 'rxjs';
import { Flow, FlowEvent, FrameTally, OutputWatcher } from '../core/flow';
import { CloseReason } from '../core/events';
import { ConnectionInfo } from '../core/handler';
import { Linked } from './linkedSet';

/** The bytes a server lets all its connections hold in decoders and pending output together. */
export class BufferBudget {
  used = 0;
  constructor(readonly limit: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

const UNLIMITED = new BufferBudget(Infinity);

/** Why a connection will close, once something other than its end decided it. */
export interface CloseCause {
  readonly reason: CloseReason;
  readonly error?: unknown;
}

/**
 * What every transport's connection keeps the same way: the input as an Observable with one
 * subscriber at a time, the Flow bookkeeping (who listens for activity, who holds reads, who waits
 * for the close), and `exchange`. A transport says how it moves bytes: `startReading` and
 * `stopReading`, `send`, and its byte counts. Listeners are held alone until there are two, and
 * sets made when first needed, since a server keeps one connection per open socket.
 */
export abstract class TransportConnection implements Flow, Linked<TransportConnection> {
  readonly input: Observable<Buffer>;
  readonly openedAt = Date.now();
  /** @internal Its place in its server's open connections (a LinkedSet: see there why not a Set); unused on a client's. */
  listPrev: this | undefined = undefined;
  /** @internal */
  listNext: this | undefined = undefined;
  /** @internal For its server: why it will close, once something other than its end decided it. */
  closeCause: CloseCause | undefined = undefined;
  abstract readonly pendingOutput: number;
  abstract readonly outputHighWaterMark: number;
  abstract readonly bytesRead: number;
  abstract readonly bytesWritten: number;
  protected reader: Subscriber<Buffer> | undefined;
  private inputEnd: { error?: Error } | undefined;
  private listeners: OneOrMany<(event: FlowEvent) => void>;
  private outputWatchers: OneOrMany<OutputWatcher>;
  private closeListeners: OneOrMany<() => void>;
  private holders: Set<object> | undefined;
  private reserved: Map<object, number> | undefined;
  private outputReserved = 0;
  private tallies: OneOrList<CodecTally>;

  constructor(
    readonly info: ConnectionInfo,
    private readonly budget: BufferBudget = UNLIMITED,
  ) {
    this.input = new Input(this);
  }

  /** @internal For Input: a subscriber to the input reads from now on, unless it is not the first. */
  inputSubscribed(subscriber: Subscriber<Buffer>): TeardownLogic {
    if (this.reader) return subscriber.error(new Error(`connection #${this.info.id}: input already has a subscriber`));
    if (this.inputEnd) return this.inputEnd.error ? subscriber.error(this.inputEnd.error) : subscriber.complete();
    this.reader = subscriber;
    if (!this.holdingReads) this.startReading();
    return this.input as Input;
  }

  /** @internal For Input: the reader has unsubscribed (its Subscription is closed by then), unless the input ended first. */
  inputUnsubscribed(): void {
    if (!this.reader?.closed) return;
    this.reader = undefined;
    this.stopReading();
  }

  /** Sends what `output` emits; completes once it is all sent. Subscribes `output` with this connection as its Flow. */
  abstract send(output: Observable<Buffer>): Observable<never>;

  /** What the peer sends, while `output` is sent: the client's side of `send`. */
  exchange(output: Observable<Buffer>): Observable<Buffer> {
    return merge(this.input, this.send(output));
  }

  get inputEnded(): boolean {
    return this.inputEnd !== undefined;
  }

  /** For the transport: no more input will come (the peer ended, the socket closed), or `error`. */
  endInput(error?: Error): void {
    if (this.inputEnd) return;
    this.inputEnd = error ? { error } : {};
    const reader = this.reader;
    this.reader = undefined;
    if (error) reader?.error(error);
    else reader?.complete();
  }

  /** For the transport: one read's bytes, handed to the input's subscriber. */
  protected emitRead(chunk: Buffer): void {
    this.notify('read');
    this.reader?.next(chunk);
  }

  /** Called when the input gets a subscriber and reads are not held: read from the peer. */
  protected abstract startReading(): void;
  /** Called when the input loses its subscriber, or an operator holds reads. */
  protected abstract stopReading(): void;

  // ---- Flow ---------------------------------------------------------------------------------

  onActivity(listener: (event: FlowEvent) => void): () => void {
    this.listeners = added(this.listeners, listener);
    return () => (this.listeners = removed(this.listeners, listener));
  }

  watchOutput(watcher: OutputWatcher): void {
    this.outputWatchers = added(this.outputWatchers, watcher);
  }

  unwatchOutput(watcher: OutputWatcher): void {
    this.outputWatchers = removed(this.outputWatchers, watcher);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners = added(this.closeListeners, listener);
    return () => (this.closeListeners = removed(this.closeListeners, listener));
  }

  holdReads(holder: object): void {
    (this.holders ??= new Set()).add(holder);
    this.stopReading();
  }

  releaseReads(holder: object): void {
    if (this.holders?.delete(holder) && this.holders.size === 0 && this.reader) this.startReading();
  }

  reserve(holder: object, bytes: number): boolean {
    const held = this.reserved?.get(holder) ?? 0;
    if (!this.rebudget(held, bytes)) return false;
    if (bytes === 0) this.reserved?.delete(holder);
    else (this.reserved ??= new Map()).set(holder, bytes);
    return true;
  }

  /**
   * For the transport: its pending output is now `bytes`, counted against the server's budget
   * like a decoder's; false (and nothing counted) when that would pass it.
   */
  protected reserveOutput(bytes: number): boolean {
    if (!this.rebudget(this.outputReserved, bytes)) return false;
    this.outputReserved = bytes;
    return true;
  }

  private rebudget(held: number, bytes: number): boolean {
    if (bytes > held) return this.budget.take(bytes - held);
    if (bytes < held) this.budget.give(held - bytes);
    return true;
  }

  frameTally(codec: string): FrameTally {
    const held = this.tallies;
    if (held === undefined) return (this.tallies = newTally(codec));
    if (!Array.isArray(held)) {
      if (held.codec === codec) return held;
      const tally = newTally(codec);
      this.tallies = [held, tally];
      return tally;
    }
    let tally = held.find((each) => each.codec === codec);
    if (!tally) held.push((tally = newTally(codec)));
    return tally;
  }

  /** What its decoders have counted so far, a tally per codec; empty while none has. */
  get frameTallies(): readonly Readonly<CodecTally>[] {
    const held = this.tallies;
    return held === undefined ? NO_TALLIES : Array.isArray(held) ? held : [held];
  }

  protected get holdingReads(): boolean {
    return (this.holders?.size ?? 0) > 0;
  }

  protected notify(event: FlowEvent): void {
    const listeners = this.listeners;
    if (typeof listeners === 'function') listeners(event);
    else if (listeners) for (const listener of listeners) listener(event);
    if (event === 'read') return;
    const watchers = this.outputWatchers;
    if (watchers instanceof Set) for (const watcher of watchers) watcher.outputMoved();
    else watchers?.outputMoved();
  }

  /** For the transport, once the connection has closed and its pipeline is unsubscribed. */
  protected closed(): void {
    if (this.reserved) for (const bytes of this.reserved.values()) this.budget.give(bytes);
    this.reserved = undefined;
    this.budget.give(this.outputReserved);
    this.outputReserved = 0;
    this.tellServerClosed();
    const listeners = this.closeListeners;
    this.closeListeners = undefined;
    if (typeof listeners === 'function') listeners();
    else if (listeners) for (const listener of [...listeners]) listener();
  }

  /** For a transport whose server hears of each close through one function of its own, given the connection, before the listeners. */
  protected tellServerClosed(): void {}
}

/**
 * A connection's input: an Observable that is also the teardown of its one reader, so that a
 * connection makes neither a subscribe function nor a teardown closure of its own.
 */
class Input extends Observable<Buffer> implements Unsubscribable {
  constructor(readonly conn: TransportConnection) {
    super(subscribeToInput);
  }

  unsubscribe(): void {
    this.conn.inputUnsubscribed();
  }
}

function subscribeToInput(this: Observable<Buffer>, subscriber: Subscriber<Buffer>): TeardownLogic {
  return (this as Input).conn.inputSubscribed(subscriber);
}

/** One codec's tally on a connection. */
export interface CodecTally extends FrameTally {
  readonly codec: string;
}

// What most connections' close hands the traffic totals: one array for all of them.
const NO_TALLIES: readonly CodecTally[] = [];

function newTally(codec: string): CodecTally {
  return { codec, decoded: 0, protocolErrors: 0 };
}

// A connection's tallies as most have them: none or one codec's, held without a Map (~180 B less
// for every connection that decodes).
type OneOrList<T> = T | T[] | undefined;

/** Listeners as most connections have them: none or one, held without a Set. */
type OneOrMany<L> = L | Set<L> | undefined;

function added<L>(held: OneOrMany<L>, listener: L): OneOrMany<L> {
  if (held === undefined || held === listener) return listener;
  if (held instanceof Set) return held.add(listener);
  return new Set([held, listener]);
}

function removed<L>(held: OneOrMany<L>, listener: L): OneOrMany<L> {
  if (held === listener) return undefined;
  if (held instanceof Set) held.delete(listener);
  return held;
}
