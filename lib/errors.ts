/** A connection was silent, both ways, for longer than its idle timeout allows. */
export class IdleTimeout extends Error {
  override readonly name = 'IdleTimeout';
  constructor(readonly idleMs: number) {
    super(`idle for ${idleMs} ms`);
  }
}
