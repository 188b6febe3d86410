// scripts/kind/source-from-kubeconfig.mjs: kind's kubeconfig → the suites' source.json, run as the kind job runs it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { beforeAll, describe, expect, test } from 'vitest';
import { base64, makeTestPki, type TestPki } from '../support/pki.js';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'kind', 'source-from-kubeconfig.mjs');
let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});

/** A kubeconfig shaped like `kind get kubeconfig --name kdr` prints, plus a second context. */
function kindKubeconfig(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': 'kind-kdr',
    clusters: [
      {
        name: 'kind-kdr',
        cluster: { server: 'https://127.0.0.1:41234', 'certificate-authority-data': base64(pki.caCert) },
      },
      { name: 'other', cluster: { server: 'https://other.example.com:6443' } },
    ],
    users: [
      {
        name: 'kind-kdr',
        user: { 'client-certificate-data': base64(pki.clientCert), 'client-key-data': base64(pki.clientKey) },
      },
      { name: 'robot', user: { token: 'robot-token-value' } },
    ],
    contexts: [
      { name: 'kind-kdr', context: { cluster: 'kind-kdr', user: 'kind-kdr' } },
      { name: 'robot@other', context: { cluster: 'other', user: 'robot' } },
    ],
  };
}

function run(config: Record<string, unknown> | string, ...extra: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-kind-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, typeof config === 'string' ? config : dump(config));
  const out = join(dir, 'source.json');
  const result = spawnSync(process.execPath, [script, kubeconfig, out, ...extra], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const read = () => JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
  return { ...result, out, dir, read };
}

describe('source-from-kubeconfig', () => {
  test("writes the current context's server, CA, client certificate and key as base64 of the PEM, 0600", () => {
    const result = run(kindKubeconfig());
    expect(result.status, result.stderr).toBe(0);
    expect(result.read()).toEqual({
      cluster_url: 'https://127.0.0.1:41234',
      cluster_ca: base64(pki.caCert),
      admin_cert: base64(pki.clientCert),
      admin_key: base64(pki.clientKey),
    });
    expect(statSync(result.out).mode & 0o777).toBe(0o600);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`wrote ${result.out}: https://127.0.0.1:41234, its CA, a client certificate and key\n`);
    // Nothing secret printed.
    for (const secret of [pki.clientKey, base64(pki.clientKey), pki.clientKey.split('\n')[1]!])
      expect(result.stderr).not.toContain(secret);
  });

  test('the written fields decode to the PEM texts, single-line base64 as the source schema takes them', () => {
    const source = run(kindKubeconfig()).read();
    for (const [field, pem] of [
      ['cluster_ca', pki.caCert],
      ['admin_cert', pki.clientCert],
      ['admin_key', pki.clientKey],
    ] as const) {
      expect(source[field]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(source[field]!, 'base64').toString('utf8')).toBe(pem);
    }
  });

  test('--context picks another context; a token user gives token', () => {
    const result = run(kindKubeconfig(), '--context', 'robot@other');
    expect(result.status, result.stderr).toBe(0);
    expect(result.read()).toEqual({ cluster_url: 'https://other.example.com:6443', token: 'robot-token-value' });
    expect(result.stderr).not.toContain('robot-token-value');
  });

  test('certificates and keys given as files (relative to the kubeconfig) are read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdr-kind-files-'));
    writeFileSync(join(dir, 'ca.crt'), pki.caCert);
    writeFileSync(join(dir, 'client.crt'), pki.clientCert);
    writeFileSync(join(dir, 'client.key'), pki.clientKey);
    const config = kindKubeconfig();
    config.clusters = [
      {
        name: 'kind-kdr',
        cluster: { server: 'https://127.0.0.1:41234', 'certificate-authority': join(dir, 'ca.crt') },
      },
    ];
    config.users = [
      {
        name: 'kind-kdr',
        user: { 'client-certificate': join(dir, 'client.crt'), 'client-key': join(dir, 'client.key') },
      },
    ];
    const result = run(config);
    expect(result.status, result.stderr).toBe(0);
    expect(result.read()).toMatchObject({
      cluster_ca: base64(pki.caCert),
      admin_cert: base64(pki.clientCert),
      admin_key: base64(pki.clientKey),
    });
  });

  test.each<[string, (c: Record<string, any>) => unknown, string[], string]>([
    ['an unknown context', (c) => c, ['--context', 'nope'], 'error: kubeconfig: no context named "nope"'],
    [
      'no current-context',
      (c) => ({ ...c, 'current-context': undefined }),
      [],
      'error: kubeconfig: no current-context (give --context)',
    ],
    [
      'a user without credentials',
      (c) => ({ ...c, users: [{ name: 'kind-kdr', user: {} }] }),
      [],
      'error: kubeconfig: user kind-kdr has neither a client certificate and key nor a token',
    ],
    [
      'a CA that is not PEM',
      (c) => ({
        ...c,
        clusters: [
          { name: 'kind-kdr', cluster: { server: 'https://x', 'certificate-authority-data': base64('nope') } },
        ],
      }),
      [],
      'error: kubeconfig: certificate-authority is not PEM',
    ],
  ])('%s is a bad request (exit 2, one error line, nothing written)', (_name, change, args, message) => {
    const result = run(change(kindKubeconfig()) as Record<string, unknown>, ...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(message + '\n');
    expect(() => statSync(result.out)).toThrow();
  });

  test('a missing kubeconfig and wrong usage are bad requests too', () => {
    const missing = spawnSync(process.execPath, [script, '/nonexistent/kubeconfig', join(tmpdir(), 'x.json')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('error: cannot read /nonexistent/kubeconfig: ENOENT\n');
    const usage = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe('error: usage: source-from-kubeconfig.mjs KUBECONFIG OUT [--context NAME]\n');
  });
});
