import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { root } from './support/net';

/** Every .ts file under `dir`, as a path relative to the repository. */
function filesUnder(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
  );
}

/**
 * What in `source` is state shared by everything that loads the module: a top-level `let` or
 * `var`, a top-level object, array or `new` value that is not frozen nor readonly (`as const`,
 * `Readonly<…>`), a top-level statement, and any use of `globalThis`. Top-level functions,
 * literals, frozen values, io-ts codecs and values made by a call (a Symbol, a lookup table) are not.
 */
function sharedState(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const where = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      const isConst = (statement.declarationList.flags & ts.NodeFlags.Const) !== 0;
      for (const declaration of statement.declarationList.declarations) {
        const name = declaration.name.getText(source);
        if (!isConst) found.push(`${where(declaration)} top-level let/var ${name}`);
        // `as const` and a Readonly type say it is never changed; an io-ts codec never is.
        const init = declaration.initializer;
        const readonly = (init && ts.isAsExpression(init) && init.type.getText(source) === 'const') || declaration.type?.getText(source).startsWith('Readonly');
        const codec = init && ts.isNewExpression(init) && init.expression.getText(source) === 't.Type';
        if (!readonly && !codec && init && (ts.isObjectLiteralExpression(init) || ts.isArrayLiteralExpression(init) || ts.isNewExpression(init))) {
          found.push(`${where(declaration)} top-level mutable value ${name} (freeze it, or make it per call)`);
        }
      }
    } else if (ts.isExpressionStatement(statement)) {
      found.push(`${where(statement)} top-level statement ${statement.getText(source).slice(0, 40)}`);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === 'globalThis') found.push(`${where(node)} globalThis`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('codecs and operators', () => {
  it('hold no state shared by every connection of the process: no global mutable state in lib/codecs/ and lib/operators/', () => {
    const files = [...filesUnder('lib/codecs'), ...filesUnder('lib/operators')];
    expect(files.length).to.be.greaterThan(20);
    const found = files.flatMap((file) => sharedState(file, readFileSync(path.join(root, file), 'utf8')));
    expect(found).to.deep.equal([]);
  });

  it('the check finds a process-global slot, as codecs/frameOrigin.ts had, and a module-level cache', () => {
    const slot = "export const emitting: Origin = { frame: undefined, source: undefined };\n";
    const cache = 'let seenBuffer: ArrayBufferLike | undefined;\n';
    const shared = "const context = ((globalThis as any)[Symbol.for('x')] ??= {});\n";
    expect(sharedState('slot.ts', slot)).to.deep.equal(['slot.ts:1 top-level mutable value emitting (freeze it, or make it per call)']);
    expect(sharedState('cache.ts', cache)).to.deep.equal(['cache.ts:1 top-level let/var seenBuffer']);
    expect(sharedState('shared.ts', shared)).to.deep.equal(['shared.ts:1 globalThis']);
  });

  it('codecs run alone: a decoder and an encoder made and run with no operator, transport or RxJS loaded', () => {
    const script = `
      const { linesDecoder, linesEncoder } = require('./lib/codecs/lines');
      const { lengthPrefixedDecoder } = require('./lib/codecs/lengthPrefixed');
      const decoder = linesDecoder()();
      const frames = [...decoder.decode(Buffer.from('one\\ntw')).frames, ...decoder.decode(Buffer.from('o\\n')).frames];
      const payloads = lengthPrefixedDecoder({ headerBytes: 1 })().decode(Buffer.from([1, 0x61])).frames;
      const loaded = Object.keys(require.cache).filter((file) => /lib[\\/](operators|transports|testing)|node_modules[\\/]rxjs/.test(file));
      console.log(JSON.stringify({ frames: frames.map(String), payloads: payloads.map(String), encoded: String(linesEncoder()('x').right), loaded }));
    `;
    const run = spawnSync(process.execPath, ['-r', './spec/support/transpile.js', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).to.equal('');
    expect(JSON.parse(run.stdout)).to.deep.equal({ frames: ['one', 'two'], payloads: ['a'], encoded: 'x\n', loaded: [] });
  });
});
