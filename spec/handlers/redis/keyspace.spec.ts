import { expect } from 'chai';
import { Keyspace } from '../../../handlers/redis/keyspace';

describe('the redis keyspace', () => {
  let now: number;
  const keyspace = () => new Keyspace({ maxMemory: 1 << 20, now: () => now });
  beforeEach(() => (now = 1_000_000));

  it('deletes an expired key when it is next looked up (lazy expiry)', () => {
    const keys = keyspace();
    keys.set('k', 'v');
    keys.expireAt('k', now + 100);
    now += 100;
    expect(keys.get('k')).to.equal('v');
    now += 1;
    expect(keys.size).to.equal(1);
    expect(keys.get('k')).to.equal(undefined);
    expect(keys.size).to.equal(0);
    expect(keys.usedMemory).to.equal(0);
  });

  it('sweeps expired keys nobody looks up, a bounded number per tick, and leaves the others', () => {
    const keys = keyspace();
    for (let i = 0; i < 30_000; i++) {
      keys.set(`gone:${i}`, 'v');
      keys.expireAt(`gone:${i}`, now + 10);
      keys.set(`kept:${i}`, 'v');
    }
    now += 11;
    keys.sweep();
    // Every round found them all expired: a tick runs its 50 rounds of 200, no more.
    expect(keys.size).to.equal(60_000 - 10_000);
    for (let tick = 0; tick < 2; tick++) keys.sweep();
    expect(keys.size).to.equal(30_000);
    expect(keys.keys('gone:*')).to.deep.equal([]);
  });

  it('stops a tick after one round when few of the keys it samples have expired', () => {
    const keys = keyspace();
    for (let i = 0; i < 1000; i++) {
      keys.set(`k:${i}`, 'v');
      keys.expireAt(`k:${i}`, i % 10 === 0 ? now + 10 : now + 1_000_000);
    }
    now += 11;
    keys.sweep();
    expect(keys.size).to.equal(1000 - 20);
  });

  it('sweeps before refusing a write for memory: keys that expired free their bytes first', () => {
    const keys = new Keyspace({ maxMemory: 10_000, now: () => now });
    for (let i = 0; i < 40; i++) {
      keys.set(`k:${i}`, 'x'.repeat(100));
      keys.expireAt(`k:${i}`, now + 10);
    }
    expect(keys.wouldExceed(8_000)).to.equal(true);
    now += 11;
    expect(keys.wouldExceed(8_000)).to.equal(false);
    expect(keys.size).to.equal(0);
  });

  it('runs one sweep timer for all its connections, and none once the last has gone', () => {
    const { setInterval, clearInterval } = globalThis;
    let running = 0;
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => (running++, setInterval(...args))) as typeof setInterval;
    globalThis.clearInterval = ((timer: NodeJS.Timeout) => (running--, clearInterval(timer))) as typeof clearInterval;
    try {
      const keys = keyspace();
      const closes = [keys.open(), keys.open(), keys.open()];
      expect(running).to.equal(1);
      closes[0]!();
      closes[0]!();
      expect(running).to.equal(1);
      for (const close of closes) close();
      expect(running).to.equal(0);
    } finally {
      Object.assign(globalThis, { setInterval, clearInterval });
    }
  });

  it('counts the bytes of keys, values and expiries, and gives them back', () => {
    const keys = keyspace();
    keys.set('key', 'x'.repeat(100));
    const one = keys.usedMemory;
    expect(one).to.be.above(103);
    keys.expireAt('key', now + 1000);
    expect(keys.usedMemory).to.be.above(one);
    keys.set('key', 'x'.repeat(50));
    expect(keys.usedMemory).to.equal(one - 50);
    keys.delete('key');
    expect(keys.usedMemory).to.equal(0);
    expect(keys.wouldExceed(1 << 20)).to.equal(false);
    expect(keys.wouldExceed((1 << 20) + 1)).to.equal(true);
  });


  it('SCAN returns every key present from start to end exactly once, though others come and go', () => {
    const keys = keyspace();
    for (let i = 0; i < 5000; i++) keys.set(`stay:${i}`, 'v');
    const seen: string[] = [];
    let cursor = 0;
    let steps = 0;
    do {
      const step = keys.scan(cursor, 100, 'stay:*');
      seen.push(...step.keys);
      cursor = step.next;
      keys.set(`new:${steps}`, 'v');
      keys.delete(`new:${steps - 3}`);
    } while (cursor !== 0 && ++steps < 10_000);
    expect(seen.length).to.equal(5000);
    expect(new Set(seen).size).to.equal(5000);
  });
});
