import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import { Handler } from './connection';
import { FlagValues, parseArgs, ParsedArgs, serveOptionsFromFlags, serverFlags, usage } from './flags';
import { serve } from './server';

/**
 * What a server program does between `main` and its handler: decode the flags (exit 2 with one
 * line naming the flag), serve, print `listening on ADDRESS`, and on SIGINT/SIGTERM stop
 * accepting, give open connections the grace period, and exit 0.
 */
export async function runServer(program: string, argv: readonly string[], handler: Handler): Promise<void> {
  const args = pipe(
    parseArgs(argv, serverFlags),
    E.chain(({ flags }) => (flags.help ? E.right(undefined) : serveOptionsFromFlags(flags))),
  );
  if (E.isLeft(args)) return exitWith(2, `${program}: ${args.left}`);
  if (args.right === undefined) {
    process.stdout.write(`${usage(`${program} [flags]`, serverFlags)}\n`);
    return;
  }
  const server = await serve(args.right, handler).catch((err: Error) => exitWith(1, `${program}: ${err.message}`));
  process.stdout.write(`listening on ${server.address}\n`);
  const shutdown = (signal: string) => {
    process.stderr.write(`${signal}: closing, ${server.connections} connection(s) open\n`);
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown).once('SIGTERM', shutdown);
}

/** Decoded flags for a client or tool, or exit 2 with one line naming the bad flag. */
export function argsOrExit<F extends Parameters<typeof parseArgs>[1]>(
  program: string,
  argv: readonly string[],
  flags: F,
  maxPositional = 0,
): ParsedArgs<F> & { flags: FlagValues<F> } {
  const parsed = parseArgs(argv, flags, maxPositional);
  if (E.isLeft(parsed)) return exitWith(2, `${program}: ${parsed.left}`);
  return parsed.right;
}

export function exitWith(code: number, line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}
