import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually, isAlive, listening, portOf, Program, root, roundTrip, runCommand } from './support/net';

// The package as a user gets it: `npm pack`, the tarball installed into fresh projects (CommonJS,
// ESM, TypeScript under nodenext and bundler with every strict flag), run with plain `node`, and
// the `rxwire` command through npx. No ts-node or typescript is installed there; the TypeScript
// projects are compiled with this repository's tsc, as a user's build would. The slow checks (attw,
// publint, the two compiles) start together once the tarball is installed; each spec awaits its own.

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

/** Runs a command to its end (bounded), returning its exit status and output. */
function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): { status: number | null; out: string } {
  const done = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1' } });
  return { status: done.status, out: `${done.stdout}${done.stderr}${done.error ? String(done.error) : ''}` };
}

/** The same as `run`, without blocking: for the checks that run side by side. */
function runInBackground(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.once('error', (err) => resolve({ status: null, out: `${out}${String(err)}` }));
    child.once('close', (status) => resolve({ status, out }));
  });
}

function mustRun(command: string, args: string[], cwd: string, timeoutMs?: number): string {
  const { status, out } = run(command, args, cwd, timeoutMs);
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${status}:\n${out}`);
  return out;
}


async function stop(program: Program): Promise<void> {
  if (program.child.exitCode !== null || program.child.signalCode !== null) return;
  try {
    process.kill(-program.child.pid!, 'SIGTERM');
  } catch {
    return; // already gone
  }
  await program.exit;
}

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A round trip through the upper handler, written for each kind of consumer. */
const roundTripProgram = {
  cjs: `const { connect, serve } = require('rxwire');
const upper = require('rxwire/handlers/upper').default;
const { lastValueFrom, mergeMap, of, reduce } = require('rxjs');
(async () => {
  const server = await serve({ host: '127.0.0.1', port: 0, log: false }, upper);
  const reply = await lastValueFrom(
    connect({ host: '127.0.0.1', port: server.port }).pipe(
      mergeMap((conn) => conn.exchange(of(Buffer.from('hello cjs')))),
      reduce((all, chunk) => Buffer.concat([all, chunk]), Buffer.alloc(0)),
    ),
  );
  console.log('Received ' + reply.toString());
  await server.close();
})();
`,
  esm: `import { connect, serve } from 'rxwire';
import upper from 'rxwire/handlers/upper';
import { lastValueFrom, mergeMap, of, reduce } from 'rxjs';
const server = await serve({ host: '127.0.0.1', port: 0, log: false }, upper);
const reply = await lastValueFrom(
  connect({ host: '127.0.0.1', port: server.port }).pipe(
    mergeMap((conn) => conn.exchange(of(Buffer.from('hello esm')))),
    reduce((all, chunk) => Buffer.concat([all, chunk]), Buffer.alloc(0)),
  ),
);
console.log('Received ' + reply.toString());
await server.close();
`,
  ts: (greeting: string) => `import { backpressure, closeOnEmptyRead, connect, InvalidOption, serve, type Handler, type ServeOptions } from 'rxwire';
import type { AnyServeOptions } from 'rxwire/cli';
import upper, { upperBytes } from 'rxwire/handlers/upper';
import { lastValueFrom, map, mergeMap, of, pipe, reduce } from 'rxjs';

const options: ServeOptions = { host: '127.0.0.1', port: 0, log: false };
const viaFlags: AnyServeOptions = { udp: { port: 0 } };
const exclaim: Handler = pipe(backpressure(), closeOnEmptyRead(), map((chunk: Buffer) => Buffer.concat([upperBytes(chunk), Buffer.from('!')])));

async function main(): Promise<void> {
  const servers = [await serve(options, upper), await serve(options, exclaim)];
  for (const server of servers) {
    const reply = await lastValueFrom(
      connect({ host: '127.0.0.1', port: server.port }).pipe(
        mergeMap((conn) => conn.exchange(of(Buffer.from('${greeting}')))),
        reduce((all, chunk) => Buffer.concat([all, chunk]), Buffer.alloc(0)),
      ),
    );
    console.log(\`Received \${reply.toString()}\`);
    await server.close();
  }
  try {
    await serve({ port: 70000 }, upper);
  } catch (err) {
    console.log(err instanceof InvalidOption ? 'InvalidOption' : 'something else', 'udp' in viaFlags);
  }
}
void main();
`,
};

/** The strict consumer flags of the issue, under a module setting. */
function tsconfig(module: Record<string, string | boolean>, include: string[]): string {
  return JSON.stringify({
    compilerOptions: {
      ...module,
      target: 'ES2022',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      isolatedModules: true,
      skipLibCheck: false,
      types: ['node'],
      outDir: 'out',
    },
    include,
  });
}

/** The README's ```ts and ```js blocks, each as it is written, as files: TypeScript, and CommonJS. */
function readmeSnippets(): { file: string; code: string }[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)].map((m, i) => ({ file: `snippet${i + 1}.${m[1] === 'ts' ? 'ts' : 'cjs'}`, code: m[2]! }));
}

/** Whether dist/ was built after the last change to what it is built from, judged by times as make does. */
function distIsFresh(): boolean {
  const dist = path.join(root, 'dist');
  if (!existsSync(dist)) return false;
  const modified = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs);
  const builtAt = Math.min(...modified(dist));
  const inputs = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.js'].map((f) => statSync(path.join(root, f)).mtimeMs);
  return Math.max(...modified(path.join(root, 'lib')), ...modified(path.join(root, 'handlers')), ...inputs) < builtAt;
}

/** The nodenext project: the round trip as ESM and as CommonJS, and every README snippet. Returns its folder. */
function writeNodenextProject(dir: string, snippets: { file: string; code: string }[]): string {
  write(path.join(dir, 'package.json'), '{ "type": "module" }');
  write(path.join(dir, 'tsconfig.json'), tsconfig({ module: 'nodenext', moduleResolution: 'nodenext', allowJs: true, checkJs: true }, ['src', 'readme']));
  write(path.join(dir, 'src', 'main.ts'), roundTripProgram.ts('hello nodenext'));
  write(path.join(dir, 'src', 'main.cts'), roundTripProgram.ts('hello cts'));
  for (const { file, code } of snippets) write(path.join(dir, 'readme', file), code);
  return dir;
}

/** The bundler-resolution project: the round trip. Returns its folder. */
function writeBundlerProject(dir: string): string {
  write(path.join(dir, 'package.json'), '{ "type": "module" }');
  write(path.join(dir, 'tsconfig.json'), tsconfig({ module: 'esnext', moduleResolution: 'bundler' }, ['src']));
  write(path.join(dir, 'src', 'main.ts'), roundTripProgram.ts('hello bundler'));
  return dir;
}

describe('the npm package, installed from its tarball', function () {
  this.timeout(300_000);
  let work: string;
  let tarball: string;
  let app: string;
  let snippets: { file: string; code: string }[];
  let checks: Record<'attw' | 'publint' | 'nodenext' | 'bundler', ReturnType<typeof runInBackground>>;

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'rxwire-package-'));
    // Built only when stale, and packed without `prepack`, which would build it again.
    if (!distIsFresh()) mustRun('npm', ['run', 'build'], root);
    mustRun('npm', ['pack', '--ignore-scripts', '--pack-destination', work], root);
    tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    app = path.join(work, 'app');
    write(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // Old peers (rxjs 7.5.7 is the first 7.5 whose own types resolve under nodenext), one shared
    // install for every project below, from npm's cache where it can. Without the optional
    // raw-socket (its native build is most of an install's time): rxwire must work without it.
    mustRun('npm', ['install', '--prefer-offline', '--omit=optional', '--no-audit', '--no-fund', '--no-package-lock', tarball, 'rxjs@7.5.7', 'io-ts@2.2.22', 'fp-ts@2.10.0', '@types/node@20'], app);
    snippets = readmeSnippets();
    const entrypoints = ['handlers/upper', 'handlers/echo', 'handlers/reverse-lines', 'handlers/json-calc', 'handlers/redis'];
    checks = {
      // node16 profile: nodenext and bundler resolution; node10 predates `exports` and cannot see subpaths.
      attw: runInBackground(bin('attw'), [tarball, '--profile', 'node16', '--include-entrypoints', ...entrypoints, '--format', 'table-flipped'], work),
      publint: runInBackground(bin('publint'), ['run', tarball, '--strict'], work),
      nodenext: runInBackground(process.execPath, [tsc, '-p', 'tsconfig.json'], writeNodenextProject(path.join(app, 'ts-nodenext'), snippets)),
      bundler: runInBackground(process.execPath, [tsc, '-p', 'tsconfig.json'], writeBundlerProject(path.join(app, 'ts-bundler'))),
    };
  });
  after(() => work && rmSync(work, { recursive: true, force: true }));

  it('holds dist/, README.md, LICENSE, CHANGELOG.md and package.json only', () => {
    const listed = mustRun('tar', ['-tzf', tarball], work).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    const outside = listed.filter((f) => !f.startsWith('dist/') && !['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json'].includes(f));
    expect(outside).to.deep.equal([]);
    expect(listed).to.include.members(['LICENSE', 'CHANGELOG.md', 'dist/lib/index.js', 'dist/lib/index.mjs', 'dist/lib/index.d.ts', 'dist/lib/index.d.mts', 'dist/lib/index.js.map']);
  });

  it('passes attw and publint', async () => {
    const attw = await checks.attw;
    expect(attw.status, attw.out).to.equal(0);
    const publint = await checks.publint;
    expect(publint.status, publint.out).to.equal(0);
    expect(publint.out).to.include('All good!');
  });

  it('installs for production with no test-only package and no install script, and rxwire/testing says how to get fast-check', () => {
    const prod = path.join(work, 'prod');
    write(path.join(prod, 'package.json'), JSON.stringify({ name: 'production', private: true }));
    // Without raw-socket (optional, and a native build of its own): what is checked here is rxwire's own install.
    const { status, out } = run('npm', ['install', '--omit=dev', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tarball, 'rxjs@7.5.7', 'io-ts@2.2.22', 'fp-ts@2.10.0'], prod);
    expect(status, out).to.equal(0);
    expect(out).to.not.match(/install-scripts|prepare|postinstall/);
    const installed = readdirSync(path.join(prod, 'node_modules'));
    expect(installed).to.include('rxwire').and.not.include.members(['fast-check']);
    expect(installed).to.not.include('pure-rand');
    // The test kit loads without it; only the random splits ask for it, in one line.
    const program = `const { everySplit } = require('rxwire/testing'); const { linesDecoder } = require('rxwire');
everySplit(linesDecoder(), 'one\\ntwo\\n', { randomSplits: 0 });
try { everySplit(linesDecoder(), 'one\\ntwo\\n'); } catch (err) { console.log(err.message); }`;
    expect(mustRun(process.execPath, ['-e', program], prod).trim()).to.equal(
      'everySplit: the random splits need fast-check, an optional peer of rxwire/testing: npm install --save-dev fast-check (or pass { randomSplits: 0 })',
    );
  });

  it('loads from plain Node as CommonJS and as ESM, with no TypeScript tooling installed', () => {
    expect(run('npm', ['ls', 'typescript', 'ts-node', '--all'], app).out).to.not.match(/typescript@|ts-node@/);
    write(path.join(app, 'cjs', 'package.json'), '{ "type": "commonjs" }');
    write(path.join(app, 'cjs', 'main.js'), roundTripProgram.cjs);
    write(path.join(app, 'esm', 'main.mjs'), roundTripProgram.esm);
    expect(mustRun(process.execPath, ['cjs/main.js'], app).trim()).to.equal('Received HELLO CJS');
    expect(mustRun(process.execPath, ['esm/main.mjs'], app).trim()).to.equal('Received HELLO ESM');
  });

  // One compile for both (TypeScript checks all of @types/node each time): the round trip, and
  // every ts and js block of the README as written.
  it('compiles the round trip (ESM and CommonJS files) and every README snippet under strict nodenext with no error, and runs', async () => {
    const dir = path.join(app, 'ts-nodenext');
    expect(snippets.length).to.be.greaterThan(4);
    const { status, out } = await checks.nodenext;
    expect(out, 'readme/snippetN is the Nth ts or js block of README.md').to.equal('');
    expect(status).to.equal(0);
    expect(mustRun(process.execPath, ['out/src/main.js'], dir).trim().split('\n')).to.deep.equal([
      'Received HELLO NODENEXT',
      'Received HELLO NODENEXT!',
      'InvalidOption true',
    ]);
    expect(mustRun(process.execPath, ['out/src/main.cjs'], dir).trim().split('\n')[0]).to.equal('Received HELLO CTS');
  });

  it('compiles under strict TypeScript (bundler resolution) with no error, and runs', async () => {
    const dir = path.join(app, 'ts-bundler');
    const { status, out } = await checks.bundler;
    expect(status, out).to.equal(0);
    expect(mustRun(process.execPath, ['out/main.js'], dir).trim().split('\n')[0]).to.equal('Received HELLO BUNDLER');
  });

  // `npx rxwire` once, as a user types it; then the bin npx would run, without npx's second of lookup.
  describe('the installed rxwire command', () => {
    const npx = (args: string[], cwd = app) => runCommand('npx', ['--no', '--', 'rxwire', ...args], cwd);
    const rxwire = (args: string[], cwd = app) => runCommand(path.join(app, 'node_modules', '.bin', 'rxwire'), args, cwd);
    const served: Program[] = [];
    afterEach(async () => {
      await Promise.all(served.splice(0).map(stop));
    });

    async function serveAndAsk(args: string[], request: string, start = rxwire): Promise<string> {
      const server = await listening(start([...args, '--port=0', '--host', '127.0.0.1']));
      served.push(server);
      return (await roundTrip({ port: portOf(server.address) }, Buffer.from(request))).toString();
    }

    it('serves the default handler, then .mjs, .cjs and .ts modules of a "type": "module" project', async () => {
      expect(await serveAndAsk([], 'abc', npx)).to.equal('ABC');
      const mod = path.join(app, 'handlers');
      write(path.join(mod, 'package.json'), '{ "type": "module" }');
      const body = `pipe(backpressure(), closeOnEmptyRead(), map((chunk) => Buffer.concat([chunk, Buffer.from('!')])))`;
      write(path.join(mod, 'exclaim.mjs'), `import { map, pipe } from 'rxjs';\nimport { backpressure, closeOnEmptyRead } from 'rxwire';\nexport default ${body};\n`);
      write(path.join(mod, 'exclaim.cjs'), `const { map, pipe } = require('rxjs');\nconst { backpressure, closeOnEmptyRead } = require('rxwire');\nmodule.exports = ${body};\n`);
      write(
        path.join(mod, 'exclaim.ts'),
        `import { map, pipe } from 'rxjs';\nimport { backpressure, closeOnEmptyRead, type Handler } from 'rxwire';\nconst handler: Handler = ${body.replace('(chunk)', '(chunk: Buffer)')};\nexport default handler;\n`,
      );
      for (const file of ['exclaim.mjs', 'exclaim.cjs', 'exclaim.ts']) {
        expect(await serveAndAsk(['--handler', `handlers/${file}`], file)).to.equal(`${file}!`);
      }
    });

    it('serves from --workers 2, and SIGTERM to npx alone ends the primary and every worker', async () => {
      const server = await listening(npx(['--workers', '2', '--grace-ms', '200', '--port=0', '--host', '127.0.0.1']), 60_000);
      served.push(server);
      expect(server.stdout).to.deep.equal([`listening on ${server.address}`]);
      for (const text of ['one', 'two']) expect((await roundTrip({ port: portOf(server.address) }, Buffer.from(text))).toString()).to.equal(text.toUpperCase());
      process.kill(server.child.pid!, 'SIGTERM');
      await server.exit;
      await eventually(() => !isAlive(-server.child.pid!), 10_000, 'the primary and its workers to exit');
    });

    // npm runs the bin through `sh -c`; killed at once, it leaves that shell behind, still the server's parent.
    it('stops the server once npx is killed with SIGKILL, which passes no signal on', async () => {
      const server = await listening(npx(['--port=0', '--host', '127.0.0.1']), 60_000);
      served.push(server);
      process.kill(server.child.pid!, 'SIGKILL');
      await eventually(() => processesOfGroup(server.child.pid!).length === 0, 10_000, 'the server npx started to exit');
      expect(server.stderr).to.include('parent exited: closing, 0 connection(s) open');
    });

    it("serves a module from a folder with no node_modules, on the command's rxwire and rxjs", async () => {
      const lonely = write(
        path.join(work, 'lonely', 'shout.ts'),
        `import { map, pipe } from 'rxjs';\nimport { closeOnEmptyRead } from 'rxwire';\nexport default pipe(closeOnEmptyRead(), map((chunk: Buffer) => Buffer.from(chunk.toString().toUpperCase() + '!')));\n`,
      );
      expect(await serveAndAsk(['--handler', lonely], 'hey')).to.equal('HEY!');
    });

    it('refuses a .ts module that does not compile in one line naming FILE:LINE:COL, exit 2', async () => {
      const broken = write(path.join(app, 'handlers', 'broken.ts'), "import { map } from 'rxjs';\nexport default map((b: Buffer) => b.;\n");
      const program = rxwire(['--handler', broken, '--port', '0']);
      expect(await program.exit).to.equal(2);
      expect(program.stderr).to.have.length(1);
      expect(program.stderr[0]).to.match(new RegExp(`^rxwire: ${broken}:2:\\d+: \\S`));
    });

    it('answers -h, --help and --version, exit 0; -q and -v change the log; a bad flag exits 2', async () => {
      for (const flag of ['-h', '--help']) {
        const help = rxwire([flag]);
        expect(await help.exit).to.equal(0);
        expect(help.stdout[0]).to.equal('usage: rxwire [flags]');
        expect(help.stdout).to.include('exit codes:');
      }
      const version = rxwire(['--version']);
      expect(await version.exit).to.equal(0);
      expect(version.stdout).to.deep.equal([JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version]);

      const quiet = await listening(rxwire(['-q', '--port=0', '--host', '127.0.0.1']));
      const verbose = await listening(rxwire(['-v', '--port=0', '--host', '127.0.0.1']));
      served.push(quiet, verbose);
      for (const server of [quiet, verbose]) await roundTrip({ port: portOf(server.address) }, Buffer.from('x'));
      await eventually(() => verbose.stderr.some((l) => / #1 closed /.test(l)), 5000, 'the close line');
      expect(quiet.stderr).to.deep.equal([]);
      expect(verbose.stderr.join('\n')).to.match(/Z handler: upper\n.*Z serving with /);

      const bad = rxwire(['--port', '70000']);
      expect(await bad.exit).to.equal(2);
      expect(bad.stderr).to.deep.equal(['rxwire: --port: expected a whole number from 0 to 65535, got "70000"']);
    });
  });
});

/** The live processes of process group `group` (zombies left out), from /proc: `PID (COMMAND) STATE PPID PGRP …`. */
function processesOfGroup(group: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === group && state !== 'Z';
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}
