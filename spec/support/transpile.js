// Runs the project's TypeScript in a spec's child process in a fraction of ts-node's start-up:
// sucrase only strips types (`tsc --noEmit` checks them), keeping ES2022 and every line number as
// they are, and each file's output is kept by content in node_modules/.cache, one entry a file,
// so later processes skip sucrase too. tsconfig-paths maps 'rxwire' to the source, as for ts-node.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const cacheDir = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'rxwire-spec-transpile');
const options = { transforms: ['imports', 'typescript'], disableESTransforms: true };
const salt = `${require('sucrase/package.json').version} ${JSON.stringify(options)}`;
const sha1 = (text) => createHash('sha1').update(text).digest('hex');

// Node 20 runs no `using` declarations and sucrase keeps them: a file with one is compiled by
// TypeScript instead, which lowers them (its line numbers may then differ from the source's).
const USING = /^\s*(await\s+)?using\s+[A-Za-z_$]/m;

function lowerUsing(source, file) {
  const ts = require('typescript');
  const compilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true };
  return ts.transpileModule(source, { compilerOptions, fileName: file }).outputText;
}

function transpile(source, file) {
  const prefix = sha1(file);
  const entry = path.join(cacheDir, `${prefix}-${sha1(salt + source)}.js`);
  try {
    return fs.readFileSync(entry, 'utf8');
  } catch {
    // Not cached yet: compile, and replace this file's older entry.
  }
  const code = USING.test(source) ? lowerUsing(source, file) : require('sucrase').transform(source, { ...options, filePath: file }).code;
  fs.mkdirSync(cacheDir, { recursive: true });
  for (const old of fs.readdirSync(cacheDir)) if (old.startsWith(prefix) && old.endsWith('.js')) fs.rmSync(path.join(cacheDir, old), { force: true });
  // Renamed into place whole, for processes that start at the same time.
  const partial = `${entry}.${process.pid}`;
  fs.writeFileSync(partial, code);
  fs.renameSync(partial, entry);
  return code;
}

Module._extensions['.ts'] = (module, file) => module._compile(transpile(fs.readFileSync(file, 'utf8'), file), file);
require('tsconfig-paths/register');
