import { defer, finalize, from, mergeMap, ObservableInput, OperatorFunction, tap } from 'rxjs';
import { currentFlow } from '../flow';

/**
 * `mergeMap(project, concurrency)` that does not let reads run ahead of slow work. RxJS's
 * `mergeMap` queues without bound once every slot is busy; this one holds the connection's reads
 * instead, so what waits inside the pipeline is at most one read's worth of values.
 *
 * ```ts
 * pipe(lines(), mergeMapBounded((line) => lookup(line), 4), encodeLines())
 * ```
 */
export function mergeMapBounded<T, R>(
  project: (value: T, index: number) => ObservableInput<R>,
  concurrency: number,
): OperatorFunction<T, R> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`mergeMapBounded: concurrency must be a whole number ≥ 1, got ${concurrency}`);
  }
  return (source) =>
    defer(() => {
      const flow = currentFlow();
      const holder = {};
      // Values taken from the source whose work has not finished: running or queued in mergeMap.
      let unfinished = 0;
      const settle = () => {
        if (--unfinished < concurrency) flow?.releaseReads(holder);
      };
      return source.pipe(
        tap(() => {
          if (++unfinished >= concurrency) flow?.holdReads(holder);
        }),
        mergeMap((value, index) => from(project(value, index)).pipe(finalize(settle)), concurrency),
        finalize(() => flow?.releaseReads(holder)),
      );
    });
}
