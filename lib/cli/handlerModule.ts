import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import Module from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Handler } from '../core/handler';

const builtInDir = path.resolve(__dirname, '..', '..', 'handlers');

/** The ready handlers shipped in handlers/: `upper`, `echo`, … */
export function builtInHandlers(): string[] {
  return readdirSync(builtInDir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
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

// The packages a handler module shares with the framework. A module outside this project may
// not find them on its own; it then gets ours, the same instances the server runs.
const frameworkPackages = new Set(['rxwire', 'rxjs', 'io-ts', 'fp-ts']);
let sharing = false;
function shareFrameworkPackages(): void {
  if (sharing) return;
  sharing = true;
  const resolve = (Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string })._resolveFilename;
  (Module as unknown as { _resolveFilename: typeof resolve })._resolveFilename = function (request, ...rest) {
    try {
      return resolve.call(this, request, ...rest);
    } catch (err) {
      const name = request.startsWith('@') ? request.split('/', 2).join('/') : request.split('/', 1)[0];
      if (!frameworkPackages.has(name)) throw err;
      return require.resolve(request);
    }
  };
}

/**
 * A handler by built-in name (`upper`) or module path (`./my-handler.ts`), its default export
 * checked to be a handler function. Left is one line: `my.ts: default export must be a handler
 * function, got object`.
 */
export function loadHandler(nameOrPath: string, cwd = process.cwd()): E.Either<string, Handler> {
  const isPath = nameOrPath.includes('/') || /\.[cm]?[jt]s$/.test(nameOrPath);
  const file = isPath ? path.resolve(cwd, nameOrPath) : path.join(builtInDir, `${nameOrPath}.ts`);
  if (!existsSync(file)) {
    return E.left(
      isPath ? `${nameOrPath}: no such file` : `--handler: no built-in handler "${nameOrPath}" (built in: ${builtInHandlers().join(', ')})`,
    );
  }
  shareFrameworkPackages();
  let loaded: { default?: unknown };
  try {
    loaded = require(file);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return E.left(`${nameOrPath}: cannot load: ${message}`);
  }
  return E.mapLeft((errors: t.Errors) => `${nameOrPath}: ${errors[0].message}`)(HandlerFunction.decode(loaded.default));
}
