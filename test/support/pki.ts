// Throwaway certificates for tests, made with openssl at run time (no key is ever committed).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  caCert: string;
  clientCert: string;
  clientKey: string;
  otherKey: string;
  expiredCert: string;
  expiredKey: string;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
export const base64 = b64;

/** openssl run in `dir` (quiet; throws with its stderr on failure). */
export const opensslIn =
  (dir: string) =>
  (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A self-signed CA valid for two days: `ca.key` and `ca.crt` in `dir`. */
export function makeCa(dir: string, commonName: string): void {
  opensslIn(dir)(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
  );
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-pki-'));
  const run = opensslIn(dir);
  try {
    makeCa(dir, 'test-ca');
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
      '-subj',
      '/CN=tester/O=system:masters',
    );
    run(
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'client.crt',
      '-days',
      '2',
    );
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key');
    // Expired: valid for one day, ending in the past.
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'expired.key',
      '-out',
      'expired.csr',
      '-subj',
      '/CN=expired',
    );
    // OpenSSL 3.0's x509 cannot set dates in the past; its `ca` command can.
    writeFileSync(
      join(dir, 'ca.cnf'),
      '[ca]\ndefault_ca=d\n' +
        '[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n' +
        '[p]\ncommonName=supplied\n',
    );
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '01\n');
    run(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.crt',
      '-keyfile',
      'ca.key',
      '-in',
      'expired.csr',
      '-out',
      'expired.crt',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
      '-notext',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return {
      caCert: read('ca.crt'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
      otherKey: read('other.key'),
      expiredCert: read('expired.crt'),
      expiredKey: read('expired.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A PEM-shaped block around arbitrary text (a canary, not a key), built so no key marker stands in the source. */
export function fakePem(label: string, body: string): string {
  const dashes = '-'.repeat(5);
  return `${dashes}BEGIN ${label}${dashes}\n${body}\n${dashes}END ${label}${dashes}\n`;
}

/** A P-256 private key (PEM), made with openssl. */
export function makeEcKey(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-pki-'));
  try {
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'], {
      cwd: dir,
      stdio: 'pipe',
    });
    return readFileSync(join(dir, 'key.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ClientCertRequest {
  /** The signing CA's certificate and key, as files (the test cluster's are in .cluster/pki/). */
  caCertPath: string;
  caKeyPath: string;
  /** The client's private key (PEM): one key may serve many certificates. */
  keyPem: string;
  /** openssl's -subj, e.g. `/O=system:masters/CN=someone`. */
  subject: string;
  days?: number;
}

/** A client certificate (PEM, clientAuth) for keyPem, signed by the given CA (the key touches a private temp dir). */
export function signClientCert(request: ClientCertRequest): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-pki-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    writeFileSync(join(dir, 'client.key'), request.keyPem, { mode: 0o600 });
    writeFileSync(
      join(dir, 'client.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    );
    run('req', '-new', '-key', 'client.key', '-subj', request.subject, '-out', 'client.csr');
    // -set_serial with a random serial: no serial file shared between concurrent signers
    const serial = `0x${randomBytes(16).toString('hex')}`;
    run(
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      request.caCertPath,
      '-CAkey',
      request.caKeyPath,
      '-set_serial',
      serial,
      '-sha256',
      '-days',
      String(request.days ?? 2),
      '-extfile',
      'client.ext',
      '-out',
      'client.crt',
    );
    return readFileSync(join(dir, 'client.crt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
