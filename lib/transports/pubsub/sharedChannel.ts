import { Observable, Subject } from 'rxjs';
import { InvalidOption } from '../../core/errors';
import { checked, decodeOptions, LogOption, NonEmptyString, strictOptions, wholeNumber } from '../../core/options';
import { Log, logger } from '../hosting';

// A stream of messages shared by every process that opens the same channel, through Redis
// pub/sub: the broker users already run, rather than one of our own. The client is ioredis, an
// optional peer dependency loaded on the first call only: it reconnects by itself with a backoff
// we set, and lets us turn its own unbounded offline queue off, so that the bounded one here is
// the only one. We subscribe again on each reconnection ourselves rather than by its
// autoResubscribe, to know when Redis has confirmed it: only then is the queue published, so that
// this process hears its own queued messages.

export interface SharedChannelOptions {
  /** Where Redis is: `redis://127.0.0.1:6379`, `rediss://…` for TLS, with a user and password if need be. */
  redis: string;
  /** Messages kept while Redis is away, published once it is back; past this many, new ones are dropped and counted. Default 1000. */
  maxQueued?: number;
  /** The longest wait between two attempts to reconnect (the first waits 100 ms, each next 100 ms longer). Default 1 s. */
  maxReconnectDelayMs?: number;
  /** Where the channel says it lost and found Redis again; false for nowhere. Default: stderr. */
  log?: Log | false;
}

const RedisUrl = checked('a redis:// or rediss:// URL', (u): u is string => typeof u === 'string' && /^rediss?:\/\/[^\s]+$/.test(u));

const SharedChannelOptions = strictOptions(
  { redis: RedisUrl },
  { maxQueued: wholeNumber(0), maxReconnectDelayMs: wholeNumber(1), log: LogOption },
);

const DEFAULT_MAX_QUEUED = 1000;
const DEFAULT_MAX_RECONNECT_MS = 1000;

/** A channel's two ends: what one process publishes, every process's `messages` emits. */
export interface SharedChannel extends AsyncDisposable {
  /**
   * Publishes to every subscriber of the channel, in every process, this one included (through
   * Redis: one order for all). Never throws: while Redis is away, messages wait in a queue of
   * `maxQueued`; past it, or when Redis refuses one, they are dropped and counted.
   */
  publish(message: string | Buffer): void;
  /** Every message published on the channel by anyone, while this channel is open. Hot: subscribing does not replay. */
  readonly messages: Observable<Buffer>;
  /** Messages waiting for Redis to come back. */
  readonly queued: number;
  /** Messages dropped so far: the queue was full, or Redis failed to take one. */
  readonly dropped: number;
  /** Resolves once the channel is subscribed in Redis and ready to publish: at first, and after each reconnection; rejects once closed. */
  ready(): Promise<void>;
  /** Closes both connections to Redis; `messages` completes. */
  close(): Promise<void>;
}

/** The part of an ioredis client used here: no ioredis types in rxwire's own declarations. */
interface RedisClient {
  readonly status: string;
  publish(channel: string, message: string | Buffer): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: string, listener: (...args: never[]) => void): this;
}
type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisClient;

/** ioredis, loaded when first needed; a one-line error saying how to install it when missing. */
function loadRedis(): RedisConstructor {
  try {
    return (require('ioredis') as { Redis: RedisConstructor }).Redis;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error('sharedChannel: needs the ioredis package, which is not installed: npm install ioredis');
  }
}

/**
 * Opens `name` on the Redis at `options.redis`: two connections, one subscribed to the channel and
 * one to publish (a subscribed Redis connection may do nothing else).
 *
 * ```ts
 * const room = sharedChannel('chat', { redis: 'redis://127.0.0.1:6379' });
 * room.messages.subscribe((message) => console.log(message.toString()));
 * room.publish('hello from this process');
 * ```
 */
export function sharedChannel(name: string, options: SharedChannelOptions): SharedChannel {
  if (!NonEmptyString.is(name)) throw new InvalidOption('sharedChannel: name: expected a non-empty string');
  const opts = decodeOptions('sharedChannel', SharedChannelOptions, options);
  const Redis = loadRedis();
  const maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
  const maxDelay = opts.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_MS;
  const log = logger(opts.log);
  const where = redactedUrl(opts.redis);
  const clientOptions = {
    retryStrategy: (times: number) => Math.min(times * 100, maxDelay),
    // A publish while Redis is away fails at once: it waits in our bounded queue, not in ioredis'.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResubscribe: false,
  };
  const publisher = new Redis(opts.redis, clientOptions);
  const subscriber = new Redis(opts.redis, clientOptions);
  const messages = new Subject<Buffer>();
  const queue: (string | Buffer)[] = [];
  let dropped = 0;
  let subscribed = false;
  let closed = false;
  const waiting: { resolve(): void; reject(err: Error): void }[] = [];
  let lost = false;

  const isReady = () => subscribed && publisher.status === 'ready' && subscriber.status === 'ready';
  const send = (message: string | Buffer) => publisher.publish(name, message).catch(() => void dropped++);
  const becameReady = () => {
    if (!isReady()) return;
    if (lost) log(`sharedChannel ${name}: connected to ${where} again`);
    lost = false;
    // In order, before anything published from now on: a new publish finds the queue empty.
    for (const message of queue.splice(0)) void send(message);
    for (const wait of waiting.splice(0)) wait.resolve();
  };
  const wentAway = (err?: Error) => {
    if (closed || lost) return;
    lost = true;
    log(`sharedChannel ${name}: lost ${where}${err ? `: ${err.message}` : ''}; reconnecting, up to ${maxQueued} message(s) queued meanwhile`);
  };
  for (const client of [publisher, subscriber]) {
    // ioredis reports every failed attempt as an 'error': one line for the loss is enough.
    client.on('error', (err: Error) => wentAway(err));
    client.on('close', () => wentAway());
  }
  publisher.on('ready', () => becameReady());
  subscriber.on('close', () => (subscribed = false));
  subscriber.on('ready', () => {
    subscriber.subscribe(name).then(
      () => {
        subscribed = true;
        becameReady();
      },
      (err: Error) => wentAway(err),
    );
  });
  subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    if (channel.toString() === name) messages.next(message);
  });

  const close = async () => {
    if (closed) return;
    closed = true;
    messages.complete();
    for (const wait of waiting.splice(0)) wait.reject(new Error(`sharedChannel ${name}: closed before it was ready`));
    await Promise.all([publisher, subscriber].map((client) => client.quit().catch(() => client.disconnect())));
  };
  return {
    publish(message) {
      if (closed) return void dropped++;
      if (isReady() && queue.length === 0) return void send(message);
      if (queue.length >= maxQueued) return void dropped++;
      queue.push(message);
    },
    messages: messages.asObservable(),
    get queued() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
    ready: () =>
      closed
        ? Promise.reject(new Error(`sharedChannel ${name}: closed`))
        : isReady()
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => waiting.push({ resolve, reject })),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The URL without its password, for log lines. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
