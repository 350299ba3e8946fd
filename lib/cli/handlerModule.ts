import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire, SourceMap } from 'node:module';
import * as path from 'node:path';
import { Handler } from '../core/handler';
import { neverAHandler } from '../transports/hosting';

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
  (u): u is Handler => typeof u === 'function' && neverAHandler(u) === undefined,
  (u, c) =>
    typeof u === 'function' && neverAHandler(u) === undefined
      ? t.success(u as Handler)
      : t.failure(u, c, `default export must be a handler function, got ${neverAHandler(u) ?? (u === null ? 'null' : typeof u)}`),
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

/**
 * One line for a module that could not load: `FILE:LINE:COL: MESSAGE` for a syntax error, and for
 * an error thrown while it ran, at the first place in the user's code the stack names.
 */
function loadFailure(nameOrPath: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const syntax = parseError.exec(message);
  if (syntax) return `${syntax[2]}:${syntax[3]}:${Number(syntax[4]) + 1}: ${syntax[1]!.split('\n')[0]}`;
  const thrownAt = err instanceof Error ? userFrame(sourceMappedStack(err)) : undefined;
  return `${thrownAt ?? `${nameOrPath}: cannot load`}: ${message.split('\n')[0]}`;
}

// A stack frame's place: `    at f (/app/h.ts:9:18)` or `    at /app/h.ts:9:18`.
const framePlace = /(?<=^\s*at (?:.*\()?)((?:file:\/\/)?\/[^()\s]*?):(\d+):(\d+)(?=\)?$)/gm;

/** `FILE:LINE:COL` of the first frame in a user's module: not Node's own, not under node_modules. */
function userFrame(stack: string): string | undefined {
  for (const [place, file] of stack.matchAll(framePlace)) {
    if (!file!.includes(`${path.sep}node_modules${path.sep}`)) return place;
  }
  return undefined;
}

// The source maps of the modules jiti has compiled, by file. A module is compiled once per
// process, so this holds one map per module of the user's the server loaded.
const compiledMaps = new Map<string, SourceMap>();

/**
 * `err.stack`, its frames in modules jiti compiled given as places in their source. Node 20 does
 * not map code run by `vm` (jiti's way), even with source maps enabled.
 */
export function sourceMappedStack(err: Error): string {
  const stack = err.stack ?? `${err.name}: ${err.message}`;
  if (compiledMaps.size === 0) return stack;
  return stack.replace(framePlace, (place, file: string, line: string, column: string) => {
    const map = compiledMaps.get(file);
    if (!map) return place;
    const entry = map.findEntry(Number(line) - 1 - WRAPPER_LINES, Number(column) - 1) as { originalLine?: number; originalColumn?: number };
    return entry.originalLine === undefined ? place : `${file}:${entry.originalLine + 1}:${entry.originalColumn! + 1}`;
  });
}

const inlineMap = /\n\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/;

// jiti runs a module's code inside a function it opens on the code's first line; the compiled
// code is given to it a line down, so that no frame's column counts the wrapper's.
const WRAPPER_LINES = 1;

/** `code`, its inline source map (babel's, when jiti is asked for maps) kept for `file`, a line down. */
function keepSourceMap(file: string | undefined, code: string): string {
  const map = inlineMap.exec(code);
  if (file !== undefined && map) {
    try {
      compiledMaps.set(file, new SourceMap(JSON.parse(Buffer.from(map[1]!, 'base64').toString('utf8'))));
    } catch {
      // A map that cannot be read leaves that module's frames as they are.
    }
  }
  return `${'\n'.repeat(WRAPPER_LINES)}${code}`;
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
  const handler = exportedHandler(loaded);
  return E.mapLeft((errors: t.Errors) => `${nameOrPath}: ${errors[0]!.message}${handler === undefined ? namedExports(loaded) : ''}`)(HandlerFunction.decode(handler));
}

/** ` (it exports handler: make the handler its default export)`, for a module with no default export but named functions. */
function namedExports(loaded: unknown): string {
  const module = typeof loaded === 'object' && loaded !== null ? (loaded as Record<string, unknown>) : {};
  const named = Object.keys(module).filter((key) => key !== 'default' && typeof module[key] === 'function');
  return named.length === 0 ? '' : ` (it exports ${named.join(', ')}: make the handler its default export)`;
}

async function importModule(file: string): Promise<unknown> {
  // Loaded only for a user's module, so the command serving a built-in handler starts without it.
  const { createJiti } = await import('jiti');
  const dir = path.dirname(file);
  const alias = Object.fromEntries(Object.entries(frameworkCopies()).filter(([name]) => !canResolve(name.split('/')[0]!, dir)));
  const options = { alias, fsCache: false, interopDefault: false, sourceMaps: true };
  // jiti's own compiler, wrapped to keep each module's source map, which it would otherwise only inline.
  const compiler = createJiti(__filename, options);
  const jiti = createJiti(__filename, { ...options, transform: (opts) => ({ code: keepSourceMap(opts.filename, compiler.transform(opts)) }) });
  return jiti.import(file);
}
