import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { builtInHandlers, loadHandler } from '../../../lib/cli/handlerModule';
import { roundTrip, startServer } from '../../support/net';

describe('handler modules', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'rxwire-handlers-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, source: string) => {
    writeFileSync(path.join(dir, name), source);
    return path.join(dir, name);
  };
  const leftOf = (result: E.Either<string, unknown>) => (E.isLeft(result) ? result.left : 'loaded');

  it('lists the built-in handlers and loads one by name', () => {
    expect(builtInHandlers()).to.include.members(['echo', 'upper']);
    expect(E.isRight(loadHandler('upper'))).to.equal(true);
  });

  it("serves a user's module from outside the project that imports rxwire and rxjs", async () => {
    const file = write(
      'shout.ts',
      `import { map, pipe } from 'rxjs';
       import { backpressure, closeOnEmptyRead } from 'rxwire';
       export default pipe(backpressure(), closeOnEmptyRead(), map((chunk: Buffer) => Buffer.from(chunk.toString().toUpperCase() + '!')));`,
    );
    const handler = loadHandler(file);
    if (E.isLeft(handler)) expect.fail(handler.left);
    const server = await startServer(handler.right);
    try {
      expect((await roundTrip({ port: server.port }, Buffer.from('hey'))).toString()).to.equal('HEY!');
    } finally {
      await server.close();
    }
  });

  it('refuses a module whose default export is not a function, in one line', () => {
    write('object.ts', 'export default { handler: true };');
    write('nothing.ts', 'export const handler = 1;');
    expect(leftOf(loadHandler('object.ts', dir))).to.equal('object.ts: default export must be a handler function, got object');
    expect(leftOf(loadHandler('./nothing.ts', dir))).to.equal('./nothing.ts: default export must be a handler function, got undefined');
  });

  it('says which file is missing, or which built-ins there are', () => {
    expect(leftOf(loadHandler('./missing.ts', dir))).to.equal('./missing.ts: no such file');
    expect(leftOf(loadHandler('nope'))).to.match(/^--handler: no built-in handler "nope" \(built in: .*echo.*upper.*\)$/);
  });

  it('reports a module that fails to load in one line', () => {
    write('throws.ts', "throw new Error('broken on purpose\\nsecond line');");
    expect(leftOf(loadHandler('throws.ts', dir))).to.equal('throws.ts: cannot load: broken on purpose');
  });
});
