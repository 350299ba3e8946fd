import { Observable, Observer, Subscription } from 'rxjs';

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
  /** Calls `listener` whenever bytes are read, queued for writing, or flushed. */
  onActivity(listener: (event: FlowEvent) => void): () => void;
  /** Stops reading until every holder has released. */
  holdReads(holder: object): void;
  releaseReads(holder: object): void;
}

export type FlowEvent = 'read' | 'queued' | 'flushed';

// Like Reactor's Context, the flow reaches operators at subscribe time: the transport subscribes
// the handler inside `subscribeWithFlow`, and each operator looks it up while it subscribes.
let subscribing: Flow | undefined;

export function subscribeWithFlow<T>(
  flow: Flow,
  source: Observable<T>,
  observer: Partial<Observer<T>>,
): Subscription {
  const outer = subscribing;
  subscribing = flow;
  try {
    return source.subscribe(observer);
  } finally {
    subscribing = outer;
  }
}

/**
 * The flow of the connection whose pipeline is being subscribed, or undefined when the pipeline
 * runs outside a transport (over `of(...)` in a test, say), where flow control has nothing to do.
 */
export function currentFlow(): Flow | undefined {
  return subscribing;
}

/**
 * What every transport's Flow keeps the same way: who listens for activity and who holds reads.
 * The sets are made when first needed, since a server keeps one per open connection. A transport
 * says what holding means for it in `readsHeld` and `readsFree`.
 */
export abstract class TransportFlow implements Flow {
  abstract readonly pendingOutput: number;
  abstract readonly outputHighWaterMark: number;
  private listeners: Set<(event: FlowEvent) => void> | undefined;
  private holders: Set<object> | undefined;

  onActivity(listener: (event: FlowEvent) => void): () => void {
    (this.listeners ??= new Set()).add(listener);
    return () => this.listeners!.delete(listener);
  }

  holdReads(holder: object): void {
    (this.holders ??= new Set()).add(holder);
    this.readsHeld();
  }

  releaseReads(holder: object): void {
    if (this.holders?.delete(holder) && this.holders.size === 0) this.readsFree();
  }

  protected get holdingReads(): boolean {
    return (this.holders?.size ?? 0) > 0;
  }

  protected readsHeld(): void {}

  protected readsFree(): void {}

  protected notify(event: FlowEvent): void {
    if (this.listeners) for (const listener of this.listeners) listener(event);
  }
}
