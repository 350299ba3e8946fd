import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { selfSignedCert } from './net';

/** Client certificates for mutual TLS, and the server's identity in other forms, as files and PEM text. */
export interface TestPki {
  dir: string;
  /** The CA that signs client certificates. */
  caFile: string;
  ca: string;
  /** `alice`, signed by the CA. */
  aliceCertFile: string;
  aliceKeyFile: string;
  /** `mallory`, self-signed: a certificate the server does not trust. */
  malloryCertFile: string;
  malloryKeyFile: string;
  /** The server's certificate and key (selfSignedCert()'s) as PKCS#12, and with its key encrypted, both under `passphrase`. */
  serverPfx: Buffer;
  serverEncryptedKey: string;
  passphrase: string;
}

let made: TestPki | undefined;

function openssl(args: string[]): void {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`openssl ${args[0]} failed (install it: apt-get install -y openssl): ${run.error?.message ?? run.stderr}`);
  }
}

/** Made once per test run with openssl; removed when the run exits. */
export function testPki(): TestPki {
  if (made) return made;
  const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-pki-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-days', '1', '-subj', '/CN=rxwire test CA', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  openssl(['req', ...ec, '-subj', '/CN=alice/O=rxwire tests', '-keyout', file('alice.key'), '-out', file('alice.csr')]);
  openssl(['x509', '-req', '-in', file('alice.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-out', file('alice.pem')]);
  openssl(['req', '-x509', ...ec, '-days', '1', '-subj', '/CN=mallory', '-keyout', file('mallory.key'), '-out', file('mallory.pem')]);
  const server = selfSignedCert();
  const passphrase = 'correct horse';
  openssl(['pkcs12', '-export', '-in', server.certFile, '-inkey', server.keyFile, '-out', file('server.pfx'), '-passout', `pass:${passphrase}`]);
  openssl(['pkey', '-in', server.keyFile, '-aes256', '-passout', `pass:${passphrase}`, '-out', file('server.enc.key')]);
  made = {
    dir,
    caFile: file('ca.pem'),
    ca: readFileSync(file('ca.pem'), 'utf8'),
    aliceCertFile: file('alice.pem'),
    aliceKeyFile: file('alice.key'),
    malloryCertFile: file('mallory.pem'),
    malloryKeyFile: file('mallory.key'),
    serverPfx: readFileSync(file('server.pfx')),
    serverEncryptedKey: readFileSync(file('server.enc.key'), 'utf8'),
    passphrase,
  };
  return made;
}
