// Line-framed chat: every line a client sends goes to every other client, prefixed with the
// sender's address. One Subject is the room; each connection's pipeline joins and leaves it.
//   npx ts-node examples/chat.ts [--port N] ...    then several `nc localhost 50007`
import { endWith, filter, ignoreElements, map, merge, Subject, takeWhile, tap } from 'rxjs';
import { dropWhileBackedUp, encodeLines, Handler, lines } from 'rxwire';
import { serverArgsOrExit, serveUntilSignalled } from 'rxwire/cli';

interface Said {
  from: number;
  text: string;
}

const LEFT = Symbol('left');

/** A room of its own: everyone served by the returned handler hears everyone else in it. */
export function chatRoom(): Handler {
  const room = new Subject<Said>();
  return (input, conn) => {
    const said = input.pipe(
      lines(),
      tap((line) => room.next({ from: conn.id, text: `${conn.remote}: ${line}` })),
    );
    const heard = room.pipe(
      filter((message) => message.from !== conn.id),
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

if (require.main === module) {
  const { options, flags } = serverArgsOrExit('chat', process.argv.slice(2));
  serveUntilSignalled('chat', options, chatRoom(), flags);
}
