import { Observable, Subscriber, Subscription } from 'rxjs';
import { FlowUnavailable } from './errors';

/**
 * What a transport tells the operators of one connection's pipeline, without showing them the
 * socket: how much output waits to be flushed, when bytes move either way, and a way to hold
 * reads. Reads are held while any holder holds them, so several operators can ask at once.
 */
export interface Flow {
  /** Bytes handed to the transport for writing and not yet flushed to the OS. */
  readonly pendingOutput: number;
  /** The transport's own high-water mark for output: `serve({ highWaterMark })`. */
  readonly outputHighWaterMark: number;
  /**
   * What the pipeline emits is one byte stream, where write boundaries mean nothing (a stream
   * socket, not datagrams): an operator that ends the pipeline may join Buffers that follow each other.
   */
  readonly joinsWrites?: boolean;
  /** Calls `listener` whenever bytes are read, queued for writing, or flushed. */
  onActivity(listener: (event: FlowEvent) => void): () => void;
  /**
   * Calls `watcher.outputMoved()` whenever output is queued or flushed, until `unwatchOutput`:
   * `onActivity` for an operator on every connection (`backpressure()`), held as an object rather
   * than a listener closure and its stopper. Optional: a Flow of an older copy, or of a test, has none.
   */
  watchOutput?(watcher: OutputWatcher): void;
  unwatchOutput?(watcher: OutputWatcher): void;
  /** Calls `listener` once the connection has closed and its pipeline has been unsubscribed. */
  onClose(listener: () => void): () => void;
  /**
   * Records that `holder` (a decoder, say) now holds `bytes`, against the server's budget for
   * buffered bytes; false, recording nothing, when that would pass the budget.
   */
  reserve(holder: object, bytes: number): boolean;
  /** Stops reading until every holder has released. */
  holdReads(holder: object): void;
  releaseReads(holder: object): void;
  /**
   * The tally a decoder named `codec` counts its frames and protocol errors into, for the
   * server's metrics: asked once per subscription, then one add per chunk decoded. Optional: a
   * Flow of an older copy of rxwire, or of a test, counts nothing.
   */
  frameTally?(codec: string): FrameTally;
}

export type FlowEvent = 'read' | 'queued' | 'flushed';

/** What `Flow.watchOutput` tells: output was queued or flushed, so `pendingOutput` may have changed. */
export interface OutputWatcher {
  outputMoved(): void;
}

/** Frames a codec's decoder has cut on one connection, and the protocol errors it raised. */
export interface FrameTally {
  decoded: number;
  protocolErrors: number;
}

// Registered with Symbol.for, so that two copies of rxwire in one process (a handler module with
// its own node_modules) see the same flows. The `@1` is the version of the Flow contract above.
const FLOW = Symbol.for('rxwire.flow@1');
const context: { subscribing: Flow | undefined } = ((globalThis as Record<symbol, unknown>)[Symbol.for('rxwire.flow-context@1')] ??= {
  subscribing: undefined,
}) as { subscribing: Flow | undefined };

/**
 * For transports, through `subscribeWithFlow` (lib/operators/internal/operate.ts): subscribes a
 * connection's pipeline with `sink` as the end of its subscriber chain, so that its operators find
 * `flow`, the connection's, with `flowOf`, like Reactor's Context travels with the subscriber.
 */
export function subscribeUnder<T>(flow: Flow, source: Observable<T>, sink: Subscriber<T>): Subscription {
  (sink as { [FLOW]?: Flow })[FLOW] = flow;
  const outer = context.subscribing;
  context.subscribing = flow;
  try {
    source.subscribe(sink);
  } finally {
    context.subscribing = outer;
  }
  return sink;
}

const JOINS = Symbol.for('rxwire.joins-writes@1');

/**
 * Whether what `subscriber` is given goes straight to a byte stream (`Flow.joinsWrites`): it is
 * the transport's own, or marked by `forwardsWritesTo` as handing every Buffer on unchanged to one.
 */
export function joinsWrites(subscriber: Subscriber<unknown>): boolean {
  const link = subscriber as { [FLOW]?: Flow; [JOINS]?: boolean };
  return link[JOINS] === true || link[FLOW]?.joinsWrites === true;
}

/**
 * For an operator whose `forwarder` hands every value on unchanged to `destination`, in order, and
 * is the only one that emits to it: it joins writes when that does.
 */
export function forwardsWritesTo<T extends Subscriber<unknown>>(forwarder: T, destination: Subscriber<unknown>): T {
  if (joinsWrites(destination)) (forwarder as { [JOINS]?: boolean })[JOINS] = true;
  return forwarder;
}

// Subscriber chains are as deep as the pipeline: a few dozen operators. The bound only stops a loop.
const MAX_CHAIN = 10_000;

/**
 * The flow of the connection `subscriber` serves, for an operator that needs one (`backpressure`,
 * `idleTimeout`, …), found through its subscriber chain, so it holds for an operator subscribed
 * late (inside a `mergeMap`) too. Undefined outside a transport (over `of(...)` in a test).
 *
 * An operator subscribed through `share()` or a Subject has no chain to its connection: it acts on
 * the connection whose subscription started it, and if that connection closes while the operator
 * still runs (the shared source serves other connections), it errors, naming `operator`, rather
 * than go on silently doing nothing.
 */
export function flowOf(subscriber: Subscriber<unknown>, operator: string): Flow | undefined {
  const chained = chainedFlowOf(subscriber);
  if (chained) return chained;
  const flow = context.subscribing;
  if (!flow) return undefined;
  const stopWatching = flow.onClose(() =>
    subscriber.error(
      new FlowUnavailable(
        `${operator}: the connection it was subscribed for has closed while it still runs, so it was ` +
          'shared by several connections (share(), a Subject); put it inside each connection\'s pipeline',
      ),
    ),
  );
  subscriber.add(stopWatching);
  return flow;
}

/** The flow `subscriber`'s chain leads to, if it leads to one. */
function chainedFlowOf(subscriber: Subscriber<unknown>): Flow | undefined {
  let link: unknown = subscriber;
  for (let depth = 0; link && depth < MAX_CHAIN; depth++) {
    const flow = (link as { [FLOW]?: Flow })[FLOW];
    if (flow) return flow;
    const { destination, partialObserver } = link as { destination?: unknown; partialObserver?: unknown };
    link = destination ?? partialObserver;
  }
  return undefined;
}
