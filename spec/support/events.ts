import { expect } from 'chai';
import { Observable } from 'rxjs';
import type { ServerEvent } from 'rxwire';

// What the specs of `server.events` share: a subscriber that keeps every event, and ways to read them.

/** Every event `server` tells from now on (it must tell `listening` at once). */
export function watch(server: { events: Observable<ServerEvent> }): ServerEvent[] {
  const seen: ServerEvent[] = [];
  server.events.subscribe((event) => seen.push(event));
  expect(seen.map((e) => e.type), 'listening, told at once on subscribing').to.deep.equal(['listening']);
  return seen;
}

/** The types of `events`, in order. */
export const typesOf = (events: ServerEvent[]) => events.map((e) => e.type);
/** The first `close` of `events`. */
export const closeOf = (events: ServerEvent[]) => events.find((e): e is Extract<ServerEvent, { type: 'close' }> => e.type === 'close')!;
