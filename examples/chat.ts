// Line-framed chat: every line a client sends goes to every other client, prefixed with the
// sender's address. One Subject is the room; each connection's pipeline joins and leaves it.
// With --redis the room is a Redis pub/sub channel instead, shared by every chat server on that
// Redis: workers (--workers) and other machines alike.
//   npx ts-node examples/chat.ts [--port N] [--redis redis://127.0.0.1:6379] ...    then several `nc localhost 50007`
import { isRight } from 'fp-ts/Either';
import * as t from 'io-ts';
import { randomBytes } from 'node:crypto';
import { defer, endWith, EMPTY, filter, ignoreElements, map, merge, mergeMap, Observable, of, Subject, takeWhile, tap } from 'rxjs';
import { dropWhileBackedUp, encodeLines, Handler, lines, SharedChannel, sharedChannel } from 'rxwire';
import { serverArgsOrExit, serveUntilSignalled } from 'rxwire/cli';

// What one client said: `from` is the chat's own id of its connection.
const Said = t.type({ from: t.string, text: t.string });
type Said = t.TypeOf<typeof Said>;

/** Where a chat's lines go and where everyone's come from. */
interface Room {
  say(message: Said): void;
  readonly heard: Observable<Said>;
}

// Connection ids (`#1`) are counted per process: two workers both have a #1. In a room shared
// through Redis a sender is known by this process's random prefix and its id: `3fa9c2e1d07b#1`.
const PROCESS = randomBytes(6).toString('hex');

const LEFT = Symbol('left');

/** The room of one process: a Subject. */
function localRoom(): Room {
  const room = new Subject<Said>();
  return { say: (message) => room.next(message), heard: room };
}

/**
 * The room shared through a Redis channel. It is opened with the first connection: the primary of
 * a program run with --workers serves none, and needs no Redis.
 */
function redisRoom(redis: string): Room {
  let channel: SharedChannel | undefined;
  const open = (): SharedChannel => {
    if (channel) return channel;
    channel = sharedChannel('rxwire-chat', { redis });
    void channel.ready().then(() => console.error(`chat: room shared through ${redis}`));
    return channel;
  };
  return {
    say: (message) => open().publish(JSON.stringify(message)),
    // What comes from Redis comes from outside: anything but a Said is dropped.
    heard: defer(() => open().messages).pipe(mergeMap((bytes) => decodeSaid(bytes))),
  };
}

function decodeSaid(bytes: Buffer): Observable<Said> {
  try {
    const decoded = Said.decode(JSON.parse(bytes.toString()));
    return isRight(decoded) ? of(decoded.right) : EMPTY;
  } catch {
    return EMPTY;
  }
}

/** A room of its own (or the one on `redis`): everyone served by the returned handler hears everyone else in it. */
export function chatRoom(options: { redis?: string | undefined } = {}): Handler {
  const room = options.redis === undefined ? localRoom() : redisRoom(options.redis);
  return (input, conn) => {
    const me = `${PROCESS}#${conn.id}`;
    const said = input.pipe(
      lines(),
      tap((line) => room.say({ from: me, text: `${conn.remote}: ${line}` })),
    );
    const heard = room.heard.pipe(
      filter((message) => message.from !== me),
      map((message) => message.text),
      // A client that stops reading misses lines rather than making the server hoard them; 1 MiB
      // leaves room for a burst to a client that does read.
      dropWhileBackedUp({ highWaterMark: 1 << 20 }),
    );
    // Once the client's input ends it has left: stop hearing the room, so the connection ends.
    return merge(said.pipe(ignoreElements(), endWith(LEFT)), heard).pipe(
      takeWhile((text): text is string => text !== LEFT),
      encodeLines(),
    );
  };
}

const RedisUrl = new t.Type<string, string, unknown>(
  'a redis:// URL',
  (u): u is string => typeof u === 'string' && /^rediss?:\/\/\S+$/.test(u),
  (u, c) => (typeof u === 'string' && /^rediss?:\/\/\S+$/.test(u) ? t.success(u) : t.failure(u, c, 'expected a redis:// or rediss:// URL')),
  (url) => url,
);

if (require.main === module) {
  const ownFlags = { redis: { codec: RedisUrl, value: 'URL', help: 'share the room through Redis pub/sub with every chat server on it' } };
  const { options, flags } = serverArgsOrExit('chat', process.argv.slice(2), ownFlags);
  serveUntilSignalled('chat', options, chatRoom({ redis: flags.redis }), flags);
}
