import { expect } from 'chai';
import { IdleWatch, Watched } from '../../../../lib/transports/stream/idleWatch';
import { delay } from '../../../support/net';

/** A watched thing that notes when it expired. */
function watched(): Watched & { expiredAt: number | undefined } {
  return {
    listPrev: undefined,
    listNext: undefined,
    idleTick: 0,
    expiredAt: undefined,
    idleExpired() {
      this.expiredAt = Date.now();
    },
  };
}

describe('IdleWatch (the stream server\'s idle limit)', () => {
  // Never early; the upper bounds leave room for a busy machine's late timers.
  it('expires a silent connection no earlier than ms, and at most a sixteenth of it (and a timer\'s lateness) later', async () => {
    const watch = new IdleWatch(320);
    const silent = watched();
    const started = Date.now();
    watch.watch(silent);
    await delay(1000);
    expect(silent.expiredAt! - started).to.be.within(320, 320 + 20 + 500);
  });

  it('keeps to a few milliseconds for a limit under 16 ms, a timer\'s least being 1 ms', async () => {
    const watch = new IdleWatch(5);
    const silent = watched();
    const started = Date.now();
    watch.watch(silent);
    await delay(100);
    expect(silent.expiredAt! - started).to.be.within(5, 5 + 1 + 50);
  });

  it('spares a connection that keeps being touched, then expires it once it falls silent', async () => {
    const watch = new IdleWatch(200);
    const chatty = watched();
    const silent = watched();
    watch.watch(silent);
    watch.watch(chatty);
    let lastTouch = Date.now();
    for (let i = 0; i < 8; i++) {
      await delay(60);
      watch.touch(chatty);
      lastTouch = Date.now();
    }
    expect(silent.expiredAt).to.not.equal(undefined);
    expect(chatty.expiredAt).to.equal(undefined);
    await delay(900);
    expect(chatty.expiredAt! - lastTouch).to.be.within(200, 200 + 13 + 500);
  });

  it('forgets an unwatched connection: a touch does not bring it back, and it never expires', async () => {
    const watch = new IdleWatch(50);
    const gone = watched();
    const other = watched();
    watch.watch(gone);
    watch.watch(other);
    watch.unwatch(gone);
    watch.touch(gone);
    watch.unwatch(gone);
    await delay(200);
    expect(gone.expiredAt).to.equal(undefined);
    expect(other.expiredAt).to.not.equal(undefined);
    // Its timer stopped with the last one, and starts again with the next.
    const late = watched();
    watch.watch(late);
    await delay(200);
    expect(late.expiredAt).to.not.equal(undefined);
  });

  it('expires connections silent alike in the order they fell silent, each one once', async () => {
    const watch = new IdleWatch(40);
    const order: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => ({ ...watched(), idleExpired: () => order.push(i) }));
    all.forEach((conn) => watch.watch(conn));
    watch.touch(all[0]!);
    watch.touch(all[2]!);
    await delay(200);
    expect(order).to.deep.equal([1, 3, 4, 0, 2]);
  });
});
