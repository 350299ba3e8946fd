import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import { ServeOptions } from './config';
import { Handler } from './connection';
import { Flags, FlagValues, parseArgs, serveOptionsFromFlags, serverFlags, usage } from './flags';
import { serve } from './server';

// What a server program does around its handler: decode the flags (exit 2 with one line naming
// the flag), serve, print `listening on ADDRESS`, and on SIGINT/SIGTERM stop accepting, give open
// connections the grace period, and exit 0.

/** Decoded flags, or exit: 2 with one line for a bad flag, 0 after printing `--help`. */
export function argsOrExit<F extends Flags>(
  program: string,
  synopsis: string,
  argv: readonly string[],
  flags: F,
  maxPositional = 0,
): { flags: FlagValues<F>; positional: readonly string[] } {
  const parsed = parseArgs(argv, flags, maxPositional);
  if (E.isLeft(parsed)) return exitWith(2, `${program}: ${parsed.left}`);
  if ((parsed.right.flags as { help?: true }).help) {
    process.stdout.write(`${usage(synopsis, flags)}\n`);
    process.exit(0);
  }
  return parsed.right;
}

/** The server flags, plus a program's own, decoded into `serve()` options, or exit as above. */
export function serverArgsOrExit<F extends Flags>(
  program: string,
  argv: readonly string[],
  ownFlags: F = {} as F,
): { options: ServeOptions; flags: FlagValues<F & typeof serverFlags> } {
  const flags = { ...ownFlags, ...serverFlags };
  const parsed = argsOrExit(program, `${program} [flags]`, argv, flags).flags as FlagValues<F & typeof serverFlags>;
  const options = pipe(
    serveOptionsFromFlags(parsed),
    E.getOrElse((line): ServeOptions => exitWith(2, `${program}: ${line}`)),
  );
  return { options, flags: parsed };
}

/** Serves until SIGINT or SIGTERM, then closes gracefully and exits 0; exits 1 if it can't listen. */
export async function serveUntilSignalled(program: string, options: ServeOptions, handler: Handler): Promise<void> {
  const server = await serve(options, handler).catch((err: Error) => exitWith(1, `${program}: ${err.message}`));
  process.stdout.write(`listening on ${server.address}\n`);
  const shutdown = (signal: string) => {
    process.stderr.write(`${signal}: closing, ${server.connections} connection(s) open\n`);
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown).once('SIGTERM', shutdown);
}

export function exitWith(code: number, line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}
