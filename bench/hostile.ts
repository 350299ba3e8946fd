// `npm run hostile -- [--command "…"] [--project DIR] [--only 1,5]`: issue #13's table of hostile
// and unlucky peers, played from outside with plain sockets against the server command a user
// runs (`npx rxwire` in a fresh project with the packed tarball installed). See bench/README.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RowRun } from './hostile/row';
import * as rows from './hostile/rows';
import { Command } from './hostile/server';
import { freshProject, selfSigned, writeHandlers } from './hostile/setup';

const USAGE = `usage: npm run hostile -- [--command "CMD ARGS"] [--project DIR] [--only N,N]

  --project DIR     a project with rxwire installed, where \`npx rxwire\` runs
                    (default: pack this checkout and install it with its peers in a fresh temp project)
  --command "…"     the server command instead of \`npx rxwire\` (split on spaces; run in --project,
                    else here); it must take the rxwire command's flags
  --only N,N        play only these rows of the table (1 to 13)

Exits 0 when every row played holds, 1 when one does not, 2 for a bad flag.`;

const PLAYS = [
  rows.oneMoreByte,
  rows.nonReaders,
  rows.silentTlsPeers,
  rows.trickledLine,
  rows.bigFrames,
  rows.repliesBeforeError,
  rows.nonBufferOutput,
  rows.deepJson,
  rows.escapedDecodeErrors,
  rows.launcherSigterm,
  rows.busyUnixSocket,
  rows.slowloris,
  rows.logging,
];

interface Args {
  readonly project: string | undefined;
  readonly command: string | undefined;
  readonly only: readonly number[];
}

function argsOrExit(argv: string[]): Args {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { project: { type: 'string' }, command: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean' } } }));
  } catch (err) {
    exit(2, `hostile: ${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) exit(0, USAGE);
  const only = values.only === undefined ? PLAYS.map((_, i) => i + 1) : values.only.split(',').map(Number);
  if (only.some((n) => !Number.isInteger(n) || n < 1 || n > PLAYS.length)) exit(2, `hostile: --only: expected row numbers from 1 to ${PLAYS.length}, got ${values.only}`);
  return { project: values.project, command: values.command, only };
}

function exit(code: number, text: string): never {
  (code === 0 ? process.stdout : process.stderr).write(`${text}\n`);
  process.exit(code);
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function report(run: RowRun, seconds: number): void {
  say(`row ${run.id}: ${run.title} — ${run.passed ? 'HOLDS' : 'DOES NOT HOLD'} (${seconds.toFixed(0)} s)`);
  for (const note of run.notes) say(`    ${note}`);
  for (const check of run.checks) say(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.what}: ${check.detail}`);
  say();
}

async function main(): Promise<void> {
  const args = argsOrExit(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-hostile-'));
  let project = args.project;
  try {
    if (project === undefined && args.command === undefined) {
      say('packing this checkout and installing it in a fresh project …');
      project = freshProject();
    }
    const command: Command = { argv: args.command?.split(' ').filter((word) => word !== '') ?? ['npx', 'rxwire'], cwd: path.resolve(project ?? '.') };
    say(`server command: ${command.argv.join(' ')} (in ${command.cwd}); every peer on loopback`);
    say();
    const scene: rows.Scene = { command, handlers: writeHandlers(dir), cert: selfSigned(dir), dir };
    const results: { run: RowRun; seconds: number }[] = [];
    for (const n of args.only) {
      const started = Date.now();
      const run = await PLAYS[n - 1]!(scene).catch((err: Error) => {
        const failed = new RowRun(String(n), 'could not be played');
        failed.check('row played to the end', false, err.stack ?? err.message);
        return failed;
      });
      results.push({ run, seconds: (Date.now() - started) / 1000 });
      report(run, (Date.now() - started) / 1000);
    }
    for (const { run } of results) say(`${run.passed ? 'HOLDS        ' : 'DOES NOT HOLD'}  row ${run.id.padStart(2)}  ${run.title}`);
    const failed = results.filter(({ run }) => !run.passed).length;
    say(`${results.length - failed} of ${results.length} rows hold`);
    process.exitCode = failed === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (args.project === undefined && project !== undefined) rmSync(project, { recursive: true, force: true });
  }
}

main().catch((err: Error) => exit(1, `hostile: ${err.stack ?? err.message}`));
