import { finalize, from, mergeMap, ObservableInput, OperatorFunction, tap } from 'rxjs';
import { flowOf } from '../core/flow';
import { decodeOptions, FunctionArgument, wholeNumber } from '../core/options';
import { createOperatorSubscriber, operate } from './internal/operate';

const Concurrency = wholeNumber(1);

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
  decodeOptions('mergeMapBounded: project', FunctionArgument, project);
  decodeOptions('mergeMapBounded: concurrency', Concurrency, concurrency);
  return operate((source, subscriber) => {
    const flow = flowOf(subscriber, 'mergeMapBounded()');
    const holder = {};
    // Values taken from the source whose work has not finished: running or queued in mergeMap.
    let unfinished = 0;
    const settle = () => {
      if (--unfinished < concurrency) flow?.releaseReads(holder);
    };
    source
      .pipe(
        tap(() => {
          if (++unfinished >= concurrency) flow?.holdReads(holder);
        }),
        mergeMap((value, index) => from(project(value, index)).pipe(finalize(settle)), concurrency),
        finalize(() => flow?.releaseReads(holder)),
      )
      .subscribe(createOperatorSubscriber(subscriber));
  });
}
