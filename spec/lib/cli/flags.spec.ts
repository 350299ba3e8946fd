import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import { clientFlags, connectOptionsFromFlags, parseArgs, serveOptionsFromFlags, serverFlags, usage } from '../../../lib/cli/flags';
import { selfSignedCert } from '../../support/net';

const left = <A>(result: E.Either<string, A>) => (E.isLeft(result) ? result.left : `right: ${JSON.stringify(result.right)}`);

describe('flags', () => {
  it('reads --flag value, --flag=value and switches', () => {
    const parsed = parseArgs(['--port', '80', '--host=::1', '--help'], serverFlags);
    expect(parsed).to.deep.equal(E.right({ flags: { port: 80, host: '::1', help: true }, positional: [] }));
  });

  it('names the flag and what it expected when a value is bad', () => {
    expect(left(parseArgs(['--port', '-1'], serverFlags))).to.equal('--port: expected a whole number from 0 to 65535, got "-1"');
    expect(left(parseArgs(['--port', '70000'], serverFlags))).to.equal('--port: expected a whole number from 0 to 65535, got "70000"');
    expect(left(parseArgs(['--port=abc'], serverFlags))).to.equal('--port: expected a whole number from 0 to 65535, got "abc"');
    expect(left(parseArgs(['--idle-ms', '-5'], serverFlags))).to.equal('--idle-ms: expected a whole number ≥ 0, got "-5"');
    expect(left(parseArgs(['--grace-ms', 'soon'], serverFlags))).to.equal('--grace-ms: expected a whole number ≥ 0, got "soon"');
  });

  it('refuses unknown flags, missing values, values given to switches, and stray arguments', () => {
    expect(left(parseArgs(['--prot', '80'], serverFlags))).to.equal('unknown flag --prot (did you mean --port? see --help)');
    expect(left(parseArgs(['--max-connection', '5'], serverFlags))).to.equal('unknown flag --max-connection (did you mean --max-connections? see --help)');
    expect(left(parseArgs(['--port'], serverFlags))).to.equal('--port: expected N, got nothing');
    expect(left(parseArgs(['--port', '--host', 'x'], serverFlags))).to.equal('--port: expected N, got nothing');
    expect(left(parseArgs(['--help=yes'], serverFlags))).to.equal('--help: takes no value, got "yes"');
    expect(left(parseArgs(['8080'], serverFlags))).to.equal('unexpected argument "8080" (see --help)');
    expect(left(parseArgs(['--constructor', '1'], serverFlags))).to.equal('unknown flag --constructor (see --help)');
  });

  it('reads one-letter switches alone or grouped, and names an unknown one as given', () => {
    expect(parseArgs(['-q', '--port=0'], serverFlags)).to.deep.equal(E.right({ flags: { quiet: true, port: 0 }, positional: [] }));
    expect(parseArgs(['-hv'], serverFlags)).to.deep.equal(E.right({ flags: { help: true, verbose: true }, positional: [] }));
    expect(left(parseArgs(['-x'], serverFlags))).to.equal('unknown flag -x (see --help)');
    expect(left(serveOptionsFromFlags({ quiet: true, verbose: true }))).to.equal('--quiet: cannot be combined with --verbose');
  });

  it('takes positional arguments where allowed, and everything after -- as one', () => {
    expect(parseArgs(['hi there'], clientFlags, 1)).to.deep.equal(E.right({ flags: {}, positional: ['hi there'] }));
    expect(parseArgs(['--', '--port'], clientFlags, 1)).to.deep.equal(E.right({ flags: {}, positional: ['--port'] }));
  });

  it('turns server flags into serve() options, with the seed port by default', () => {
    expect(serveOptionsFromFlags({})).to.deep.equal(
      E.right({ host: undefined, port: 50007, idleMs: 300000, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined }),
    );
    expect(serveOptionsFromFlags({ unix: '/tmp/s', 'idle-ms': 10 })).to.deep.equal(
      E.right({ path: '/tmp/s', idleMs: 10, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined }),
    );
    expect(left(serveOptionsFromFlags({ unix: '/tmp/s', port: 1 }))).to.equal('--unix: cannot be combined with --port or --host');
  });

  it('turns --udp into serveDatagrams() options, with --max-connections as maxPeers', () => {
    expect(serveOptionsFromFlags({ udp: true, 'max-connections': 3 })).to.deep.equal(
      E.right({ udp: { host: undefined, port: 50007, idleMs: undefined, maxPeers: 3, graceMs: 5000 } }),
    );
    expect(left(serveOptionsFromFlags({ udp: true, unix: '/tmp/s' }))).to.equal('--udp: cannot be combined with --unix');
    expect(left(serveOptionsFromFlags({ udp: true, backlog: 5 }))).to.equal('--udp: cannot be combined with --backlog');
  });

  it('passes --max-buffered-bytes as maxBufferedBytes to stream and rdm servers, and refuses it with --udp, which buffers nothing', () => {
    expect(serveOptionsFromFlags({ rdm: true, 'max-buffered-bytes': 4096 })).to.deep.equal(
      E.right({ rdm: { host: undefined, port: 50007, idleMs: undefined, maxPeers: undefined, graceMs: 5000, maxBufferedBytes: 4096 } }),
    );
    expect(serveOptionsFromFlags({ 'max-buffered-bytes': 4096 })).to.deep.include({ right: { host: undefined, port: 50007, idleMs: 300000, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined, maxBufferedBytes: 4096 } });
    expect(left(serveOptionsFromFlags({ udp: true, 'max-buffered-bytes': 4096 }))).to.equal('--udp: cannot be combined with --max-buffered-bytes');
    expect(left(parseArgs(['--max-buffered-bytes', '0'], serverFlags))).to.equal('--max-buffered-bytes: expected a whole number ≥ 1, got "0"');
  });

  it('turns --proxy-protocol into proxyProtocol: true, for stream servers only', () => {
    const parsed = parseArgs(['--proxy-protocol'], serverFlags);
    if (E.isLeft(parsed)) throw new Error(parsed.left);
    expect(serveOptionsFromFlags(parsed.right.flags)).to.deep.equal(
      E.right({ host: undefined, port: 50007, idleMs: 300000, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined, proxyProtocol: true }),
    );
    expect(left(serveOptionsFromFlags({ udp: true, 'proxy-protocol': true }))).to.equal('--udp: cannot be combined with --proxy-protocol');
  });

  it('reads --tls-cert and --tls-key at once, and wants both', () => {
    const { certFile, keyFile } = selfSignedCert();
    const parsed = parseArgs(['--tls-cert', certFile, '--tls-key', keyFile], serverFlags);
    if (E.isLeft(parsed)) return expect.fail(parsed.left);
    expect(parsed.right.flags['tls-cert']).to.deep.equal(readFileSync(certFile));
    const options = serveOptionsFromFlags(parsed.right.flags);
    expect(E.isRight(options) ? options.right : undefined).to.deep.include({ tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } });
    expect(left(parseArgs(['--tls-key', certFile], serverFlags))).to.equal(`--tls-key: expected a PEM file holding a PRIVATE KEY, got ${JSON.stringify(certFile)}`);
    expect(left(serveOptionsFromFlags({ 'tls-cert': readFileSync(certFile) }))).to.equal('--tls-cert: needs --tls-key too');
    expect(left(serveOptionsFromFlags({ 'tls-key': readFileSync(keyFile) }))).to.equal('--tls-key: needs --tls-cert too');
  });

  it('reads --tls-ca as mutual TLS and --tls-min-version as minVersion, each needing --tls-cert', () => {
    const { certFile, keyFile } = selfSignedCert();
    const parsed = parseArgs(['--tls-cert', certFile, '--tls-key', keyFile, '--tls-ca', certFile, '--tls-min-version', 'TLSv1.3'], serverFlags);
    if (E.isLeft(parsed)) return expect.fail(parsed.left);
    const options = serveOptionsFromFlags(parsed.right.flags);
    const cert = readFileSync(certFile);
    expect(E.isRight(options) ? options.right : undefined).to.deep.include({
      tls: { cert, key: readFileSync(keyFile), ca: cert, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
    });
    expect(left(parseArgs(['--tls-min-version', 'TLSv1.1'], serverFlags))).to.equal('--tls-min-version: expected "TLSv1.2" or "TLSv1.3", got "TLSv1.1"');
    expect(left(serveOptionsFromFlags({ 'tls-ca': cert }))).to.equal('--tls-ca: needs --tls-cert and --tls-key too');
    expect(left(serveOptionsFromFlags({ 'tls-min-version': 'TLSv1.3' }))).to.equal('--tls-min-version: needs --tls-cert and --tls-key too');
  });

  it('turns client flags into connect() or connectDatagram() options', () => {
    const ca = readFileSync(selfSignedCert().certFile);
    expect(connectOptionsFromFlags({ port: 1, 'timeout-ms': 300 })).to.deep.equal(E.right({ host: undefined, port: 1, timeoutMs: 300 }));
    expect(connectOptionsFromFlags({ unix: '/tmp/s' })).to.deep.equal(E.right({ path: '/tmp/s', timeoutMs: undefined }));
    expect(connectOptionsFromFlags({ tls: true })).to.deep.equal(E.right({ host: undefined, port: undefined, tls: {}, timeoutMs: undefined }));
    expect(connectOptionsFromFlags({ tls: true, 'tls-ca': ca })).to.deep.equal(E.right({ host: undefined, port: undefined, tls: { ca }, timeoutMs: undefined }));
    expect(connectOptionsFromFlags({ udp: true, port: 9 })).to.deep.equal(E.right({ udp: { host: undefined, port: 9, timeoutMs: undefined } }));
    expect(left(connectOptionsFromFlags({ udp: true, tls: true }))).to.equal('--udp: cannot be combined with --tls');
    expect(left(connectOptionsFromFlags({ 'tls-ca': ca }))).to.equal('--tls-ca: needs --tls too');
  });

  it('turns --workers N or auto into workers, for TCP and TLS servers only', () => {
    const workers = (value: string) => {
      const parsed = parseArgs([`--workers=${value}`], serverFlags);
      return E.isLeft(parsed) ? parsed.left : parsed.right.flags.workers;
    };
    expect(workers('2')).to.equal(2);
    expect(workers('auto')).to.equal('auto');
    for (const bad of ['0', '-1', 'abc', '1025', '2.5', '']) {
      expect(workers(bad)).to.equal(`--workers: expected a whole number from 1 to 1024 or "auto", got ${JSON.stringify(bad)}`);
    }
    expect(serveOptionsFromFlags({ workers: 3 })).to.deep.equal(
      E.right({ host: undefined, port: 50007, idleMs: 300000, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined, workers: 3 }),
    );
    expect(left(serveOptionsFromFlags({ udp: true, workers: 2 }))).to.equal('--udp: cannot be combined with --workers');
    expect(left(serveOptionsFromFlags({ rdm: true, workers: 'auto' }))).to.equal('--rdm: cannot be combined with --workers');
    expect(left(serveOptionsFromFlags({ unix: '/tmp/s', workers: 2 }))).to.equal('--workers: cannot be combined with --unix (a Unix socket is served from one process)');
  });

  it('lists every flag in the help text', () => {
    const text = usage('upper [flags]', serverFlags, { examples: ['upper --port 0'], exitCodes: ['2  a bad flag'] });
    for (const name of Object.keys(serverFlags)) expect(text).to.include(`--${name}`);
    expect(text).to.include('-q, --quiet').and.include('examples:\n  upper --port 0').and.include('exit codes:\n  2  a bad flag');
    expect(text.split('\n')[0]).to.equal('usage: upper [flags]');
  });

  it('takes the port from PORT in the environment when --port is absent (12-factor); --port and --unix win', () => {
    expect(serveOptionsFromFlags({}, { PORT: '8080' })).to.deep.include({ right: { host: undefined, port: 8080, idleMs: 300000, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined } });
    expect(serveOptionsFromFlags({ port: 9000 }, { PORT: '8080' })).to.deep.include({ right: { host: undefined, port: 9000, idleMs: 300000, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined } });
    expect(serveOptionsFromFlags({ unix: '/tmp/x.sock' }, { PORT: '8080' })).to.deep.include({ right: { path: '/tmp/x.sock', idleMs: 300000, maxConnections: undefined, maxConnectionsPerAddress: undefined, graceMs: 5000, backlog: undefined } });
    expect(serveOptionsFromFlags({ udp: true }, { PORT: '8080' })).to.deep.include({ right: { udp: { host: undefined, port: 8080, idleMs: undefined, maxPeers: undefined, graceMs: 5000 } } });
    expect(left(serveOptionsFromFlags({}, { PORT: 'http' }))).to.equal('PORT (environment): expected a whole number from 0 to 65535, got "http"');
    expect(usage('x', serverFlags)).to.include('default: the PORT environment variable if set, else 50007');
  });

  it('reads --metrics [HOST:]PORT, an IPv6 host in brackets, and names the flag when it is bad', () => {
    const metrics = (value: string) => parseArgs(['--metrics', value], serverFlags);
    expect(metrics('9464')).to.deep.equal(E.right({ flags: { metrics: { port: 9464 } }, positional: [] }));
    expect(metrics('127.0.0.1:0')).to.deep.equal(E.right({ flags: { metrics: { host: '127.0.0.1', port: 0 } }, positional: [] }));
    expect(metrics('[::1]:9464')).to.deep.equal(E.right({ flags: { metrics: { host: '::1', port: 9464 } }, positional: [] }));
    expect(metrics('localhost:9464')).to.deep.equal(E.right({ flags: { metrics: { host: 'localhost', port: 9464 } }, positional: [] }));
    const expected = 'expected [HOST:]PORT (an IPv6 host in brackets: [::1]:9464) with PORT a whole number from 0 to 65535';
    for (const bad of ['', 'x', '70000', '::1:9464', '127.0.0.1:', ':9464', '127.0.0.1:9464:1', '[::1]9464']) {
      expect(left(metrics(bad)), bad).to.equal(`--metrics: ${expected}, got ${JSON.stringify(bad)}`);
    }
    expect(left(parseArgs(['--metrics'], serverFlags))).to.equal('--metrics: expected [HOST:]PORT, got nothing');
  });
});
