import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { InvalidOption, sharedChannel } from 'rxwire';
import { eventually, root, transpileFlags } from '../../../support/net';
import { hasRedisServer, RedisServer } from '../../../support/redisServer';

/** Runs `code` in a fresh Node with the project's TypeScript loadable, returning what it printed. */
function runNode(code: string): string {
  const done = spawnSync(process.execPath, [...transpileFlags, '-e', code], { cwd: root, encoding: 'utf8', timeout: 30000 });
  return `${done.stdout}${done.stderr}`.trim();
}

const lib = JSON.stringify(path.join(root, 'lib', 'index.ts'));

describe('sharedChannel', function () {
  this.timeout(30000);

  it('loads ioredis only when called, and says in one line how to install it when it is missing', () => {
    expect(runNode(`require(${lib}); console.log(Object.keys(require.cache).some((f) => f.includes('/ioredis/')))`)).to.equal('false');
    const missing = runNode(`
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'ioredis') throw Object.assign(new Error("Cannot find module 'ioredis'"), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      try { require(${lib}).sharedChannel('room', { redis: 'redis://127.0.0.1:1' }); } catch (err) { console.log(err.message); }`);
    expect(missing).to.equal('sharedChannel: needs the ioredis package, which is not installed: npm install ioredis');
  });

  it('names a bad option in one line', () => {
    expect(() => sharedChannel('room', { redis: 'http://127.0.0.1' })).to.throw(InvalidOption, /^sharedChannel: redis: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => sharedChannel('room', { redis: 'redis://127.0.0.1', maxQueued: -1 })).to.throw(InvalidOption, /^sharedChannel: maxQueued: /);
  });

  describe('against a real redis-server', () => {
    let redis: RedisServer;
    before(async function () {
      if (!hasRedisServer()) return this.skip();
      redis = await RedisServer.start();
    });
    after(async () => redis?.stop());

    it('delivers what one channel publishes to every channel of that name, its own included', async () => {
      await using a = sharedChannel('news', { redis: redis.url, log: false });
      await using b = sharedChannel('news', { redis: redis.url, log: false });
      await Promise.all([a.ready(), b.ready()]);
      const heardByA = firstValueFrom(a.messages.pipe(take(2), toArray()));
      const heardByB = firstValueFrom(b.messages.pipe(take(2), toArray()));
      a.publish('one');
      a.publish(Buffer.from('two'));
      for (const heard of [await heardByA, await heardByB]) expect(heard.map(String)).to.deep.equal(['one', 'two']);
    });

    it('queues up to maxQueued while Redis is away, drops and counts the rest, and publishes the queue in order once it is back', async () => {
      const logs: string[] = [];
      await using channel = sharedChannel('queue', { redis: redis.url, maxQueued: 3, log: (line) => logs.push(line) });
      await channel.ready();
      await redis.stop();
      await eventually(() => logs.some((l) => l.startsWith('sharedChannel queue: lost redis://127.0.0.1:')), 5000, 'the loss to be noticed');
      for (let i = 1; i <= 5; i++) channel.publish(`queued ${i}`);
      expect([channel.queued, channel.dropped]).to.deep.equal([3, 2]);
      const heard = firstValueFrom(channel.messages.pipe(take(3), toArray()));
      await redis.restart();
      expect((await heard).map(String)).to.deep.equal(['queued 1', 'queued 2', 'queued 3']);
      expect(channel.queued).to.equal(0);
      expect(logs.at(-1)).to.match(/^sharedChannel queue: connected to redis:\/\/127\.0\.0\.1:\d+ again$/);
    });
  });
});
