import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lastValueFrom, map, mergeMap, of } from 'rxjs';
import { connect, ConnectionInfo, Handler, serve } from 'rxwire';
import upper from '../../../../handlers/upper';
import { collectBytes, eventually, selfSignedCert, startProgram, startServer } from '../../../support/net';
import { testPki } from '../../../support/pki';

/** `openssl s_client` to 127.0.0.1:port with `args`, its stdin given `input`; resolves with what it printed once it exits (or is stopped after `ms`). */
function sClient(port: number, args: string[], input = '', ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', selfSignedCert().certFile, '-quiet', '-ign_eof', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', () => {});
    child.once('error', reject);
    const stop = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(stop);
      resolve(out);
    });
    child.stdin.end(input);
  });
}

/** Greets the client by the common name of its certificate, then ends the connection. */
const greetByCertificate: Handler = (_input, info) => of(Buffer.from(`hello ${info.tls?.peerCertificate?.subject['CN'] ?? 'stranger'} ${info.tls?.peerCertificate?.fingerprint256}\n`));

describe("TLS with Node's options", () => {
  const identity = () => ({ cert: selfSignedCert().cert, key: selfSignedCert().key });

  it('serves mutual TLS to openssl s_client with a certificate the CA signed, and the handler sees its subject and fingerprint', async () => {
    const pki = testPki();
    const server = await startServer(greetByCertificate, { tls: { ...identity(), ca: pki.ca, requestCert: true } });
    try {
      const reply = await sClient(server.port!, ['-cert', pki.aliceCertFile, '-key', pki.aliceKeyFile]);
      const fingerprint = new X509Certificate(readFileSync(pki.aliceCertFile)).fingerprint256;
      expect(reply).to.equal(`hello alice ${fingerprint}\n`);
    } finally {
      await server.close();
    }
  });

  it('refuses a client whose certificate the CA did not sign, and one with none, each in one log line', async () => {
    const pki = testPki();
    const server = await startServer(greetByCertificate, { tls: { ...identity(), ca: pki.ca, requestCert: true } });
    try {
      expect(await sClient(server.port!, ['-cert', pki.malloryCertFile, '-key', pki.malloryKeyFile])).to.equal('');
      await eventually(() => server.logs.some((l) => /^tls handshake with 127\.0\.0\.1:\d+ failed: client certificate not trusted \([A-Z_]+\)$/.test(l)), 5000, 'the refusal');
      expect(await sClient(server.port!, [])).to.equal('');
      await eventually(() => server.logs.some((l) => /^tls handshake with 127\.0\.0\.1:\d+ failed: peer did not return a certificate$/.test(l)), 5000, 'the second refusal');
      expect(server.logs.filter((l) => / open /.test(l))).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });

  it('tells both ends the protocol, the ALPN protocol agreed and the peer certificate in ConnectionInfo', async () => {
    let served: ConnectionInfo | undefined;
    const server = await startServer(
      (input, info) => {
        served = info;
        return input.pipe(map((chunk) => Buffer.from(chunk.toString().toUpperCase())));
      },
      { tls: { ...identity(), ALPNProtocols: ['rxw/2', 'rxw/1'], minVersion: 'TLSv1.3' } },
    );
    try {
      const [reply, info] = await lastValueFrom(
        connect({ port: server.port, tls: { ca: selfSignedCert().cert, ALPNProtocols: ['rxw/1'] } }).pipe(
          mergeMap((conn) => conn.exchange(of(Buffer.from('alpn'))).pipe(collectBytes, map((bytes) => [bytes.toString(), conn.info] as const))),
        ),
      );
      expect(reply).to.equal('ALPN');
      expect(info.tls).to.deep.include({ protocol: 'TLSv1.3', alpnProtocol: 'rxw/1', authorized: true });
      expect(info.tls?.peerCertificate?.subject).to.deep.equal({ CN: 'localhost' });
      expect(info.tls?.peerCertificate?.fingerprint256).to.equal(new X509Certificate(selfSignedCert().cert).fingerprint256);
      expect(served?.tls).to.deep.equal({ protocol: 'TLSv1.3', alpnProtocol: 'rxw/1', authorized: false, peerCertificate: undefined });
    } finally {
      await server.close();
    }
  });

  it('refuses a client below minVersion', async () => {
    const server = await startServer(upper, { tls: { ...identity(), minVersion: 'TLSv1.3' } });
    try {
      await lastValueFrom(connect({ port: server.port, tls: { ca: selfSignedCert().cert, maxVersion: 'TLSv1.2' } })).then(
        () => expect.fail('connected below minVersion'),
        (err: Error) => expect(err.message).to.match(/^tls handshake with 127\.0\.0\.1:\d+ failed: .*(version|protocol)/),
      );
      await eventually(() => server.logs.some((l) => /^tls handshake with .* failed: .*(version|protocol)/.test(l)), 5000, 'the log line');
    } finally {
      await server.close();
    }
  });

  it('serves with a pfx and its passphrase, or an encrypted key and its passphrase; a wrong passphrase is one line', async () => {
    const pki = testPki();
    for (const tls of [
      { pfx: pki.serverPfx, passphrase: pki.passphrase },
      { cert: selfSignedCert().cert, key: pki.serverEncryptedKey, passphrase: pki.passphrase },
    ]) {
      const server = await startServer(upper, { tls });
      try {
        const reply = await lastValueFrom(
          connect({ port: server.port, tls: { ca: selfSignedCert().cert } }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('pfx')))), collectBytes),
        );
        expect(reply.toString()).to.equal('PFX');
      } finally {
        await server.close();
      }
    }
    await serve({ port: 0, log: false, tls: { pfx: pki.serverPfx, passphrase: 'wrong' } }, upper).then(
      () => expect.fail('served with a wrong passphrase'),
      (err: Error) => expect(err.message).to.match(/^serve: tls: [^\n]+$/),
    );
  });

  it("refuses typos in Node's option names, naming the one meant, and the options rxwire sets itself", async () => {
    const refused = (options: object) =>
      serve({ port: 0, log: false, tls: options as never }, upper).then(
        () => expect.fail('served'),
        (err: Error) => err.message,
      );
    expect(await refused({ ...identity(), minVerison: 'TLSv1.3' })).to.equal('serve: tls: unknown option "minVerison" (did you mean "minVersion"?)');
    expect(await refused({ ...identity(), alpnProtocols: ['h2'] })).to.equal('serve: tls: unknown option "alpnProtocols" (did you mean "ALPNProtocols"?)');
    expect(await refused({ ...identity(), handshakeTimeout: 5 })).to.equal('serve: tls: option "handshakeTimeout" is rxwire\'s to set: use serve({ handshakeTimeoutMs })');
    expect(await refused({ ...identity(), minVersion: 'TLSv1.4' })).to.equal('serve: tls.minVersion: expected "TLSv1.3", "TLSv1.2", "TLSv1.1" or "TLSv1", got "TLSv1.4"');
    expect(await refused({ cert: selfSignedCert().cert })).to.equal('serve: tls.key: expected PEM text as a string or Buffer, got nothing');
    expect(await refused({ passphrase: 'x' })).to.equal("serve: tls: needs cert and key, or pfx, for the server's identity");
    expect(() => connect({ port: 1, tls: { servrname: 'x' } as never })).to.throw('connect: tls: unknown option "servrname" (did you mean "servername"?)');
    expect(() => connect({ port: 1, tls: { timeout: 5 } as never })).to.throw('connect: tls: option "timeout" is rxwire\'s to set: use connect({ timeoutMs })');
  });

  it('the rxwire command serves mutual TLS with --tls-ca, and only TLS 1.3 with --tls-min-version TLSv1.3', async () => {
    const pki = testPki();
    const { certFile, keyFile } = selfSignedCert();
    const server = await startProgram('lib/cli/rxwire.ts', [
      '--tls-cert', certFile, '--tls-key', keyFile, '--tls-ca', pki.caFile, '--tls-min-version', 'TLSv1.3', '--port', '0', '--host', '127.0.0.1',
    ]);
    try {
      expect(server.address).to.match(/^tls 127\.0\.0\.1:\d+$/);
      const port = Number(server.address.split(':').pop());
      const alice = ['-cert', pki.aliceCertFile, '-key', pki.aliceKeyFile];
      // s_client does not half-close at the end of its input: it is stopped once the reply is in.
      expect(await sClient(port, [...alice, '-tls1_3'], 'hello\n', 1500)).to.equal('HELLO\n');
      expect(await sClient(port, [...alice, '-tls1_2'], 'old\n', 1500)).to.equal('');
      expect(await sClient(port, ['-cert', pki.malloryCertFile, '-key', pki.malloryKeyFile], 'me\n', 1500)).to.equal('');
      await eventually(() => server.stderr.filter((l) => / tls handshake with .* failed: /.test(l)).length >= 2, 5000, 'two refusals');
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
