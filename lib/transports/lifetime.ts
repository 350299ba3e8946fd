import { MonoTypeOperatorFunction } from 'rxjs';
import { checked, decodeOptions, strictOptions } from '../core/options';
import { createOperatorSubscriber, operate } from '../operators/internal/operate';

// How a server or a client connection is ended from outside: an AbortSignal, or `await using`'s
// Symbol.asyncDispose. Both close gracefully, as `close()` does.

/** `serve(options, handler, { signal })`, `connect(options, { signal })`: what ends them from outside. */
export interface AbortOptions {
  /** Aborting closes the server (or the client connection) gracefully, with the grace period. */
  signal?: AbortSignal;
}

const AbortSignalCodec = checked('an AbortSignal', (u): u is AbortSignal => u instanceof AbortSignal);

const AbortOptionsCodec = strictOptions({}, { signal: AbortSignalCodec });

/** The signal of `options`, checked: a bad one is one line (`serve: signal: expected an AbortSignal`). */
export function signalOf(fn: string, options: AbortOptions | undefined): AbortSignal | undefined {
  return decodeOptions(fn, AbortOptionsCodec, options ?? {}).signal;
}

/** For a server: `signalOf`, and its reason thrown when it has already aborted, so that nothing listens. */
export function liveSignalOf(fn: string, options: AbortOptions | undefined): AbortSignal | undefined {
  const signal = signalOf(fn, options);
  signal?.throwIfAborted();
  return signal;
}

/** A server of any kind: what `withLifetime` closes. */
interface Closable extends AsyncDisposable {
  close(graceMs?: number): Promise<void>;
}

/**
 * `server` made disposable (`await using`), and closed when `signal` aborts. Should the signal
 * have aborted while the server started listening, it is closed and the abort's reason thrown.
 */
export function withLifetime<S extends Closable>(server: Omit<S, typeof Symbol.asyncDispose>, signal: AbortSignal | undefined): S {
  const disposable = server as S;
  disposable[Symbol.asyncDispose] = () => disposable.close();
  if (!signal) return disposable;
  if (signal.aborted) {
    void disposable.close(0);
    throw signal.reason;
  }
  const onAbort = () => void close();
  const close = disposable.close.bind(disposable);
  disposable.close = (graceMs) => {
    signal.removeEventListener('abort', onAbort);
    return close(graceMs);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return disposable;
}

/**
 * For a client: errors with the abort's reason while the connection is being made (which tears
 * the attempt and any retries down); once it is made, calls `close` on it.
 */
export function closeOnAbort<C>(signal: AbortSignal | undefined, close: (conn: C) => void): MonoTypeOperatorFunction<C> {
  if (!signal) return (source) => source;
  return operate((source, subscriber) => {
    let made: { conn: C } | undefined;
    const onAbort = () => (made ? close(made.conn) : subscriber.error(signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    subscriber.add(() => signal.removeEventListener('abort', onAbort));
    source.subscribe(
      createOperatorSubscriber(subscriber, (conn: C) => {
        made = { conn };
        subscriber.next(conn);
      }),
    );
  });
}
