import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { builtInHandlers, loadHandler } from '../../../lib/cli/handlerModule';
import { roundTrip, startServer } from '../../support/net';

describe('handler modules', () => {
  // A folder outside the project, with no node_modules: rxwire and rxjs are the server's own.
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'rxwire-handlers-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, source: string) => {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), source);
    return path.join(dir, name);
  };
  const leftOf = (result: E.Either<string, unknown>) => (E.isLeft(result) ? result.left : 'loaded');

  /** Loads `file` as the command does and answers one round trip through it. */
  async function answer(file: string, request: string): Promise<string> {
    const handler = await loadHandler(file);
    if (E.isLeft(handler)) return expect.fail(handler.left);
    const server = await startServer(handler.right);
    try {
      return (await roundTrip({ port: server.port }, Buffer.from(request))).toString();
    } finally {
      await server.close();
    }
  }

  const exclaim = `pipe(backpressure(), closeOnEmptyRead(), map((chunk) => Buffer.concat([chunk, Buffer.from('!')])))`;

  it('lists the built-in handlers and loads one by name', async () => {
    expect(builtInHandlers()).to.include.members(['echo', 'upper']);
    expect(E.isRight(await loadHandler('upper'))).to.equal(true);
  });

  it("serves a user's module from outside the project that imports rxwire and rxjs", async () => {
    const file = write(
      'shout.ts',
      `import { map, pipe } from 'rxjs';
       import { backpressure, closeOnEmptyRead } from 'rxwire';
       export default pipe(backpressure(), closeOnEmptyRead(), map((chunk: Buffer) => Buffer.from(chunk.toString().toUpperCase() + '!')));`,
    );
    expect(await answer(file, 'hey')).to.equal('HEY!');
  });

  it('loads CommonJS modules: module.exports = handler, in .js and .cjs', async () => {
    const source = `const { map, pipe } = require('rxjs');
       const { backpressure, closeOnEmptyRead } = require('rxwire');
       module.exports = ${exclaim};`;
    expect(await answer(write('plain.js', source), 'a')).to.equal('a!');
    expect(await answer(write('plain.cjs', source), 'b')).to.equal('b!');
  });

  it('loads ES modules with a default export: .mjs, .mts, and .ts and .js in a "type": "module" project', async () => {
    const source = (types: string) => `import { map, pipe } from 'rxjs';
       import { backpressure, closeOnEmptyRead } from 'rxwire';
       import upper from 'rxwire/handlers/upper';
       export const extra${types} = 1;
       export default ${exclaim};`;
    expect(await answer(write('esm.mjs', source('')), 'c')).to.equal('c!');
    expect(await answer(write('esm.mts', source(': number')), 'd')).to.equal('d!');
    write('module/package.json', '{ "type": "module" }');
    expect(await answer(write('module/handler.ts', source(': number')), 'e')).to.equal('e!');
    expect(await answer(write('module/handler.js', source('')), 'f')).to.equal('f!');
  });

  it('reports a module that does not compile in one line: FILE:LINE:COL and the message', async () => {
    const file = write('broken.ts', "import { map } from 'rxjs';\nconst x: number = ;\nexport default map((b: Buffer) => b);\n");
    expect(leftOf(await loadHandler(file))).to.equal(`${file}:2:19: Unexpected token`);
  });

  it('refuses a module whose default export is not a function, in one line', async () => {
    write('object.ts', 'export default { handler: true };');
    write('nothing.ts', 'export const handler = 1;');
    expect(leftOf(await loadHandler('object.ts', dir))).to.equal('object.ts: default export must be a handler function, got object');
    expect(leftOf(await loadHandler('./nothing.ts', dir))).to.equal('./nothing.ts: default export must be a handler function, got undefined');
    // A handler exported by name only is named, with what to do.
    write('named.ts', "import { map } from 'rxjs';\nexport const shout = map((b: Buffer) => b);\nexport const LIMIT = 3;\n");
    expect(leftOf(await loadHandler('./named.ts', dir))).to.equal('./named.ts: default export must be a handler function, got undefined (it exports shout: make the handler its default export)');
    write('generator.ts', 'export default async function* (input: AsyncIterable<Buffer>) { yield* input; }\n');
    expect(leftOf(await loadHandler('./generator.ts', dir))).to.equal('./generator.ts: default export must be a handler function, got an async generator function: serve it as fromAsyncGenerator(generator)');
    write('async.ts', "import { of } from 'rxjs';\nexport default async () => of(Buffer.from('x'));\n");
    expect(leftOf(await loadHandler('./async.ts', dir))).to.equal(
      './async.ts: default export must be a handler function, got an async function: a handler returns an Observable, not a Promise (from(promise), or defer(async () => …))',
    );
  });

  it('says which file is missing, or which built-ins there are', async () => {
    expect(leftOf(await loadHandler('./missing.ts', dir))).to.equal('./missing.ts: no such file');
    expect(leftOf(await loadHandler('nope'))).to.match(/^--handler: no built-in handler "nope" \(built in: .*echo.*upper.*\)$/);
  });

  it('reports a module that fails to load in one line, at FILE:LINE:COL where it threw', async () => {
    write('throws.ts', "throw new Error('broken on purpose\\nsecond line');");
    expect(leftOf(await loadHandler('throws.ts', dir))).to.equal(`${path.join(dir, 'throws.ts')}:1:7: broken on purpose`);
  });
});
