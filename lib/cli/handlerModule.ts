import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Handler } from '../core/handler';

// The ready handlers sit beside lib/ as source in the repository, and beside dist/lib/ compiled.
const builtInDir = path.resolve(__dirname, '..', '..', 'handlers');
const builtInExtension = path.extname(__filename);

/** The ready handlers shipped in handlers/: `upper`, `echo`, … */
export function builtInHandlers(): string[] {
  return readdirSync(builtInDir)
    .filter((file) => file.endsWith(builtInExtension) && !file.endsWith(`.d${builtInExtension}`))
    .map((file) => file.slice(0, -builtInExtension.length))
    .sort();
}

const HandlerFunction = new t.Type<Handler, Handler, unknown>(
  'Handler',
  (u): u is Handler => typeof u === 'function',
  (u, c) =>
    typeof u === 'function'
      ? t.success(u as Handler)
      : t.failure(u, c, `default export must be a handler function, got ${u === null ? 'null' : typeof u}`),
  (h) => h,
);

/**
 * The packages a handler module shares with the framework, by the name it imports them with. A
 * module outside any project that has them is given the server's own copies, so its operators
 * and the server are one rxwire and one rxjs.
 */
function frameworkCopies(): Record<string, string> {
  const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
  return {
    rxwire: require.resolve(path.resolve(__dirname, '..', 'index')),
    'rxwire/cli': require.resolve(path.resolve(__dirname, 'index')),
    'rxwire/testing': require.resolve(path.resolve(__dirname, '..', 'testing', 'index')),
    'rxwire/handlers': builtInDir,
    rxjs: packageDir('rxjs'),
    'io-ts': packageDir('io-ts'),
    'fp-ts': packageDir('fp-ts'),
  };
}

/** Whether a module in `dir` finds package `name` by itself, its own package's name included. */
function canResolve(name: string, dir: string): boolean {
  try {
    createRequire(path.join(dir, 'handler.js')).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** What a handler module exports as its handler: `module.exports = handler`, or its default export. */
function exportedHandler(loaded: unknown): unknown {
  return typeof loaded === 'function' ? loaded : (loaded as { default?: unknown } | null | undefined)?.default;
}

// jiti reports a syntax error as `ParseError: MESSAGE \n FILE:LINE:COLUMN`, the column from 0.
const parseError = /^(?:\w*Error: )?(.*?)\s*\n\s*(\S.*):(\d+):(\d+)\s*$/s;

/** One line for a module that could not load: `FILE:LINE:COL: MESSAGE` for a syntax error. */
function loadFailure(nameOrPath: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const syntax = parseError.exec(message);
  if (syntax) return `${syntax[2]}:${syntax[3]}:${Number(syntax[4]) + 1}: ${syntax[1]!.split('\n')[0]}`;
  return `${nameOrPath}: cannot load: ${message.split('\n')[0]}`;
}

/**
 * A handler by built-in name (`upper`) or module path (`./my-handler.ts`), its default export
 * checked to be a handler function. A module may be `.js`, `.cjs`, `.mjs`, `.ts`, `.mts` or
 * `.cts`, CommonJS or ESM, loaded by jiti. Left is one line: `my.ts: default export must be a
 * handler function, got object`.
 */
export async function loadHandler(nameOrPath: string, cwd = process.cwd()): Promise<E.Either<string, Handler>> {
  const isPath = nameOrPath.includes('/') || /\.[cm]?[jt]s$/.test(nameOrPath);
  const file = isPath ? path.resolve(cwd, nameOrPath) : path.join(builtInDir, `${nameOrPath}${builtInExtension}`);
  if (!existsSync(file) || (!isPath && !builtInHandlers().includes(nameOrPath))) {
    return E.left(
      isPath ? `${nameOrPath}: no such file` : `--handler: no built-in handler "${nameOrPath}" (built in: ${builtInHandlers().join(', ')})`,
    );
  }
  let loaded: unknown;
  try {
    // A built-in handler is one of ours, compiled or run by ts-node like the rest of the server.
    loaded = isPath ? await importModule(file) : require(file);
  } catch (err) {
    return E.left(loadFailure(nameOrPath, err));
  }
  return E.mapLeft((errors: t.Errors) => `${nameOrPath}: ${errors[0]!.message}`)(HandlerFunction.decode(exportedHandler(loaded)));
}

async function importModule(file: string): Promise<unknown> {
  // Loaded only for a user's module, so the command serving a built-in handler starts without it.
  const { createJiti } = await import('jiti');
  const dir = path.dirname(file);
  const alias = Object.fromEntries(Object.entries(frameworkCopies()).filter(([name]) => !canResolve(name.split('/')[0]!, dir)));
  const jiti = createJiti(__filename, { alias, fsCache: false, interopDefault: false });
  return jiti.import(file);
}
