// The Concourse contract, through the compiled scripts: one JSON document on stdout or nothing, logs on stderr,
// documented exit codes, clear one-line errors, no secrets.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { base64, fakePem, makeTestPki, type TestPki } from '../support/pki.js';
import { lines, runScript } from '../support/run-script.js';

let closedPort = '';
let source = { cluster_url: '', token: 'contract-token-0123456789', app: 'web' };
let pki: TestPki;
beforeAll(async () => {
  pki = makeTestPki();
  // A port that was free a moment ago: nothing listens there, so connections are refused.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  closedPort = `https://127.0.0.1:${port}`;
  source = { ...source, cluster_url: closedPort };
});

describe('bad requests: exit 2, one line on stderr, nothing on stdout', () => {
  // Never contacted: the request fails validation first.
  const source = { cluster_url: 'https://127.0.0.1:6443', token: 'contract-token-0123456789', app: 'web' };
  test.each<[string, 'check' | 'in' | 'out', string, string[], string]>([
    ['invalid JSON', 'check', '{', [], 'error: stdin: not valid JSON at position 1 (line 1 column 2)'],
    ['empty stdin', 'check', '', [], 'error: stdin: empty; expected a JSON request such as {"source": {...}}'],
    [
      'unknown source key',
      'check',
      JSON.stringify({ source: { ...source, foo: 1 } }),
      [],
      'error: source: unknown key "foo"',
    ],
    [
      'wrong type',
      'check',
      JSON.stringify({ source: { ...source, app: 7 } }),
      [],
      'error: source.app: expected string, got number',
    ],
    [
      'in without $1',
      'in',
      JSON.stringify({ source, version: { app: 'web', namespace: 'n', revision: '1', image: '' } }),
      [],
      'error: usage: in <destination directory> (Concourse passes it as $1)',
    ],
    [
      'out without $1',
      'out',
      JSON.stringify({ source, params: { image_ref: 'x:1' } }),
      [],
      'error: usage: out <sources directory> (Concourse passes it as $1)',
    ],
    [
      'out without image',
      'out',
      JSON.stringify({ source, params: {} }),
      ['dir'],
      'error: params: give params.image (a registry-image get directory) or params.image_ref ' +
        '(unless params.delete is true or params.revision is given)',
    ],
  ])('%s', async (_name, script, input, args, message) => {
    const dir = args.length ? mkdtempSync(join(tmpdir(), 'kdr-contract-')) : undefined;
    const result = await runScript(script, input, { dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([message]);
  });
});

describe('cluster errors', () => {
  test('connection refused: exit 3 after the retries, no stack trace', { timeout: 60_000 }, async () => {
    const result = await runScript('check', { source });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    const last = lines(result.stderr).at(-1);
    expect(last).toBe(`error: cannot reach the cluster at ${closedPort}: connection refused`);
    expect(result.stderr).toMatch(
      /retrying list secrets in namespace default in 0\.5s \(attempt 2 of 5\): cannot reach the cluster/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('an expired client certificate: exit 3 before any call', async () => {
    const result = await runScript('check', {
      source: {
        cluster_url: closedPort,
        app: 'web',
        admin_cert: base64(pki.expiredCert),
        admin_key: base64(pki.expiredKey),
      },
    });
    expect(result.code).toBe(3);
    expect(lines(result.stderr)).toEqual([
      'error: source.admin_cert: the client certificate expired on 2020-01-02T00:00:00.000Z',
    ]);
  });
});

describe('secrets never reach stdout or stderr', () => {
  const canary = 'CANARY-SECRET-7f3a9c';
  test.each<[string, () => Record<string, unknown>]>([
    ['token', () => ({ ...source, token: `${canary}-token` })],
    [
      'admin_key (not a key)',
      () => ({
        cluster_url: closedPort,
        app: 'web',
        admin_cert: base64(pki.clientCert),
        admin_key: base64(fakePem('PRIVATE KEY', canary)),
      }),
    ],
    [
      'admin_key (valid, wrong type elsewhere)',
      () => ({ cluster_url: closedPort, app: 7, admin_cert: base64(pki.clientCert), admin_key: base64(pki.clientKey) }),
    ],
    [
      'kubeconfig',
      () => ({
        app: 'web',
        kubeconfig:
          'apiVersion: v1\ncurrent-context: c\n' +
          `clusters: [{name: k, cluster: {server: "${closedPort}", insecure-skip-tls-verify: true}}]\n` +
          `users: [{name: u, user: {token: ${canary}-kubeconfig}}]\n` +
          'contexts: [{name: c, context: {cluster: k, user: u}}]\n',
      }),
    ],
    ['kubeconfig that is not YAML', () => ({ app: 'web', kubeconfig: `{{ ${canary} ` })],
  ])('%s', { timeout: 60_000 }, async (_name, makeSource) => {
    const src = makeSource();
    const result = await runScript('check', { source: src });
    expect(result.code === 2 || result.code === 3).toBe(true);
    const keyBody = pki.clientKey.split('\n')[1]!;
    for (const text of [result.stdout, result.stderr]) {
      expect(text).not.toContain(canary);
      expect(text).not.toContain(keyBody);
    }
  });

  test('a canary in invalid JSON is not echoed', async () => {
    const result = await runScript('check', `{"source": {"token": "${canary}" `);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(canary);
  });
});

describe('stdout holds exactly one JSON document', () => {
  test("the get of a teardown's version writes the marker and the image it removed, prints the version", async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kdr-in-'));
    const digest = 'sha256:' + 'c'.repeat(64);
    const image = `registry.example.com/team/web@${digest}`;
    const version = { app: 'web', namespace: 'staging-1042', revision: '3', image, deleted: 'true' };
    // The environment Concourse gives a get step of the next job (a rerun, in an instanced pipeline).
    const env = {
      BUILD_ID: '1050',
      BUILD_NAME: '7.1',
      BUILD_JOB_NAME: 'production',
      BUILD_PIPELINE_NAME: 'shop',
      BUILD_PIPELINE_INSTANCE_VARS: '{"branch":"a"}',
      BUILD_TEAM_NAME: 'main',
      ATC_EXTERNAL_URL: 'https://ci.example.com',
    };
    const result = await runScript('in', { source, version }, { dir: dest, env });
    expect(result.code, result.stderr).toBe(0);
    const gone =
      'release web was torn down from namespace staging-1042 by the put that reported this version (delete: true); ' +
      'its last revision was 3';
    expect(result.json).toEqual({
      version,
      metadata: [
        { name: 'app', value: 'web' },
        { name: 'namespace', value: 'staging-1042' },
        { name: 'deleted', value: 'true' },
        { name: 'last_revision', value: '3' },
        { name: 'image', value: image },
        { name: 'gone', value: gone },
      ],
    });
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(dest, 'deleted'), 'utf8')).toBe('true\n');
    expect(readFileSync(join(dest, 'gone'), 'utf8')).toBe(gone + '\n');
    for (const [file, content] of Object.entries({ repository: 'registry.example.com/team/web', tag: '', digest }))
      expect(readFileSync(join(dest, file), 'utf8')).toBe(content);
  });
});
