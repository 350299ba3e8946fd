#!/usr/bin/env node
// `npm run build`: dist/ as users install it. tsc compiles lib/ and handlers/ to CommonJS with
// declarations and source maps; then every entry in package.json's `exports` gets an ESM face: a
// `.mjs` that re-exports the CommonJS module (one copy of rxwire in a process, whichever way it
// is loaded, as ws does) and `.d.mts` declarations beside every `.d.ts`.
'use strict';
const { execFileSync } = require('node:child_process');
const { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

function* filesUnder(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(file);
    else yield file;
  }
}

// ESM declarations: the same text, each relative specifier pointing at the `.mjs` face, so that
// TypeScript reads one module format per entry point (nodenext and bundler alike).
const relativeSpecifier = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*)\2/g;
for (const file of filesUnder(dist)) {
  if (!file.endsWith('.d.ts')) continue;
  const dir = path.dirname(file);
  const text = readFileSync(file, 'utf8').replace(relativeSpecifier, (_, keyword, quote, specifier) => {
    const target = path.resolve(dir, specifier);
    const mjs = existsSync(`${target}.d.ts`) ? `${specifier}.mjs` : existsSync(path.join(target, 'index.d.ts')) ? `${specifier}/index.mjs` : undefined;
    if (!mjs) throw new Error(`${path.relative(root, file)}: cannot resolve ${specifier}`);
    return `${keyword}${quote}${mjs}${quote}`;
  });
  writeFileSync(`${file.slice(0, -'.d.ts'.length)}.d.mts`, text);
}

// ESM runtime faces, for the entry points only: named exports listed from the loaded module.
function entryModules() {
  const targets = Object.values(pkg.exports)
    .filter((target) => typeof target === 'object')
    .map((target) => target.require.default);
  const modules = [];
  for (const target of targets) {
    const [before, after] = target.split('*');
    if (after === undefined) {
      modules.push(path.join(root, target));
      continue;
    }
    // A pattern stands for whole file names: `./dist/handlers/*.js`.
    const dir = path.join(root, before);
    for (const name of readdirSync(dir)) if (name.endsWith(after)) modules.push(path.join(dir, name));
  }
  return modules;
}

for (const file of entryModules()) {
  if (!existsSync(file)) throw new Error(`package.json exports ${path.relative(root, file)}, which the build did not make`);
  const loaded = require(file);
  const names = Object.keys(loaded).filter((name) => name !== 'default' && name !== '__esModule');
  const lines = [`import cjs from './${path.basename(file)}';`];
  if (names.length > 0) lines.push(`export const { ${names.join(', ')} } = cjs;`);
  if ('default' in loaded) lines.push('export default cjs.default;');
  writeFileSync(`${file.slice(0, -'.js'.length)}.mjs`, `${lines.join('\n')}\n`);
}

chmodSync(path.join(root, pkg.bin.rxwire), 0o755);
