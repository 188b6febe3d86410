// Least privilege and TLS against the real API server: the README's Role is enough for every feature; outside it the
// put fails with the API-rejection exit code naming verb, resource and namespace; bad trust or credentials are one
// clear line with the connection/auth exit code.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, readSource, rbacToken, useNamespace, waitFor } from '../support/cluster.js';
import { base64, makeTestPki, type TestPki } from '../support/pki.js';
import { emptyDir, sourcesDir } from '../support/release.js';
import { lines, repoRoot, runScript } from '../support/run-script.js';
import { serviceAccountMount, serviceAccountToken as plantedServiceAccountToken } from '../support/service-account.js';

/** The Role exactly as the README documents it. */
function readmeRole(namespace: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## RBAC: least privilege'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no Role block under "RBAC: least privilege"');
  const role = load(block) as { kind: string; metadata: { namespace: string } };
  expect(role.kind).toBe('Role');
  role.metadata.namespace = namespace;
  return JSON.stringify(role);
}

async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  await kubectl(['create', 'serviceaccount', name], { namespace });
  // Kubernetes 1.20: the token controller writes the token into a Secret named in the ServiceAccount.
  const secretName = await waitFor(`a token for serviceaccount/${name}`, async () => {
    const sa = await kubectlJson(['get', 'serviceaccount', name], { namespace });
    return sa.secrets?.[0]?.name as string | undefined;
  });
  const secret = await kubectlJson(['get', 'secret', secretName], { namespace });
  return Buffer.from(secret.data.token, 'base64').toString('utf8');
}

const postgres = readFileSync(join(repoRoot, 'test', 'fixtures', 'postgres.yml'), 'utf8');

describe('the least-privilege Role from the README', () => {
  const ns = useNamespace('kdr-rbac');
  const other = useNamespace('kdr-rbac-other');

  test('a ServiceAccount bound to exactly that Role can put, check, get and delete; elsewhere it gets exit 4 naming verb, resource and namespace', async () => {
    await kubectl(['apply', '-f', '-'], { input: readmeRole(ns.name) });
    const token = await serviceAccountToken(ns.name, 'deployer');
    await kubectl(['create', 'rolebinding', 'deployer', '--role=kubernetes-deploy-resource', `--serviceaccount=${ns.name}:deployer`], { namespace: ns.name });
    const { cluster_url, cluster_ca } = readSource() as unknown as Record<string, string>;
    const source = { cluster_url, cluster_ca, token, namespace: ns.name, app: 'web' };
    const dir = sourcesDir({ repository: 'registry.local/team/web', tag: '1' }, { 'deps/postgres.yml': postgres });

    const put = await runScript('out', { source, params: { image: 'image', host: 'web.rbac.local', manifests: ['deps/postgres.yml'] } }, { dir });
    expect(put.code, put.stderr).toBe(0);
    const again = await runScript('out', { source, params: { image: 'image', host: 'web.rbac.local', manifests: ['deps/postgres.yml'] } }, { dir });
    expect(again.code, again.stderr).toBe(0);
    const check = await runScript('check', { source });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([(put.json as { version: unknown }).version]);
    const get = await runScript('in', { source, version: (put.json as { version: unknown }).version }, { dir: emptyDir() });
    expect(get.code, get.stderr).toBe(0);
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);

    const denied = await runScript('out', { source: { ...source, namespace: other.name }, params: { image_ref: 'registry.local/team/web:1' } }, { dir: emptyDir() });
    expect(denied.code).toBe(4);
    expect(denied.stdout).toBe('');
    const last = lines(denied.stderr).at(-1)!;
    expect(last).toMatch(/^error: forbidden \(403\) to /);
    expect(last).toContain(`cannot create resource "leases" in API group "coordination.k8s.io"`);
    expect(last).toContain(`"${other.name}"`);
    expect(last).toContain(`system:serviceaccount:${ns.name}:deployer`);
    // Nothing was written in the other namespace.
    expect((await kubectlJson(['get', 'deployments,services,secrets', '-l', 'app.kubernetes.io/managed-by=kubernetes-deploy-resource'], { namespace: other.name })).items).toEqual([]);
  });

  test('a token without any binding cannot even list: exit 4, and check names the verb, resource and namespace', async () => {
    const token = rbacToken();
    expect(token).toBeTruthy();
    const { cluster_url, cluster_ca } = readSource() as unknown as Record<string, string>;
    const check = await runScript('check', { source: { cluster_url, cluster_ca, token, namespace: ns.name, app: 'web' } });
    expect(check.code).toBe(4);
    expect(lines(check.stderr).at(-1)).toMatch(new RegExp(`^error: forbidden \\(403\\) to list secrets in namespace ${ns.name}: .*User "rbac-test" cannot list resource "secrets" in API group "" in the namespace "${ns.name}"`));
  });
});

describe('TLS and credentials', () => {
  let pki: TestPki;
  let cluster: Record<string, string>;
  beforeAll(() => {
    pki = makeTestPki();
    cluster = readSource() as unknown as Record<string, string>;
  });
  const run = (source: Record<string, unknown>) => runScript('check', { source: { app: 'web', namespace: 'default', ...source } }, { timeoutMs: 60_000 });

  test('a CA that did not sign the server certificate: exit 3, not trusted', async () => {
    const result = await run({ cluster_url: cluster.cluster_url, cluster_ca: base64(pki.caCert), admin_cert: cluster.admin_cert, admin_key: cluster.admin_key });
    expect(result.code).toBe(3);
    expect(lines(result.stderr)).toEqual([`error: TLS: the API server's certificate at ${cluster.cluster_url} is not trusted: it is not signed by source.cluster_ca (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`]);
  });

  test('a client certificate from another CA: exit 3, credentials not accepted', async () => {
    const result = await run({ cluster_url: cluster.cluster_url, cluster_ca: cluster.cluster_ca, admin_cert: base64(pki.clientCert), admin_key: base64(pki.clientKey) });
    expect(result.code).toBe(3);
    expect(lines(result.stderr).at(-1)).toMatch(/^error: the cluster at \S+ did not accept our credentials \(401 Unauthorized\) when trying to list secrets in namespace default/);
  });

  test('an expired client certificate: exit 3 before any call', async () => {
    const result = await run({ cluster_url: cluster.cluster_url, cluster_ca: cluster.cluster_ca, admin_cert: base64(pki.expiredCert), admin_key: base64(pki.expiredKey) });
    expect(result.code).toBe(3);
    expect(lines(result.stderr)).toEqual(['error: source.admin_cert: the client certificate expired on 2020-01-02T00:00:00.000Z']);
  });

  test('a wrong token: exit 3, credentials not accepted', async () => {
    const result = await run({ cluster_url: cluster.cluster_url, cluster_ca: cluster.cluster_ca, token: 'not-a-valid-token-0123456789' });
    expect(result.code).toBe(3);
    expect(lines(result.stderr).at(-1)).toContain('did not accept our credentials (401 Unauthorized)');
  });

  test('insecure_skip_tls_verify works without a CA and warns once', async () => {
    const result = await run({ cluster_url: cluster.cluster_url, insecure_skip_tls_verify: true, admin_cert: cluster.admin_cert, admin_key: cluster.admin_key });
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stderr)).toEqual(["warning: source.insecure_skip_tls_verify is true: the API server's certificate is not verified"]);
  });

  test('without a CA and without skipping verification, the self-signed cluster is not trusted', async () => {
    const result = await run({ cluster_url: cluster.cluster_url, admin_cert: cluster.admin_cert, admin_key: cluster.admin_key });
    expect(result.code).toBe(3);
    expect(lines(result.stderr).at(-1)).toMatch(/^error: TLS: the API server's certificate at \S+ is not trusted/);
  });
});

describe('the README Role through the in-cluster and exec credential paths', () => {
  const ns = useNamespace('kdr-rbac-paths');

  async function deployerToken(): Promise<string> {
    await kubectl(['apply', '-f', '-'], { input: readmeRole(ns.name) });
    const token = await plantedServiceAccountToken(ns.name, 'deployer');
    await kubectl(['create', 'rolebinding', 'deployer', '--role=kubernetes-deploy-resource', `--serviceaccount=${ns.name}:deployer`], { namespace: ns.name });
    return token;
  }
  const caPem = () => Buffer.from((readSource() as unknown as Record<string, string>).cluster_ca!, 'base64').toString('utf8');

  async function putCheckGetDelete(source: Record<string, unknown>, env: Record<string, string> = {}): Promise<void> {
    const dir = sourcesDir({ repository: 'registry.local/team/web', tag: '1' }, { 'deps/postgres.yml': postgres });
    const put = await runScript('out', { source, params: { image: 'image', host: 'web.rbac.local', manifests: ['deps/postgres.yml'] } }, { dir, env });
    expect(put.code, put.stderr).toBe(0);
    const check = await runScript('check', { source }, { env });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([(put.json as { version: unknown }).version]);
    const get = await runScript('in', { source, version: (put.json as { version: unknown }).version }, { dir: emptyDir(), env });
    expect(get.code, get.stderr).toBe(0);
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir(), env });
    expect(del.code, del.stderr).toBe(0);
  }

  test('in_cluster: the mounted ServiceAccount bound to that Role can put, check, get and delete; a foreign CA in the mount is not trusted', async () => {
    const token = await deployerToken();
    const mount = serviceAccountMount({ token, 'ca.crt': caPem(), namespace: ns.name });
    const { hostname, port } = new URL((readSource() as unknown as Record<string, string>).cluster_url!);
    const env = { KUBERNETES_SERVICE_HOST: hostname, KUBERNETES_SERVICE_PORT: port, KDR_TEST_SERVICEACCOUNT_ROOT: mount.root };
    await putCheckGetDelete({ in_cluster: true, namespace: ns.name, app: 'web' }, env);

    mount.update({ token, 'ca.crt': makeTestPki().caCert, namespace: ns.name });
    const untrusted = await runScript('check', { source: { in_cluster: true, namespace: ns.name, app: 'web' } }, { env });
    expect(untrusted.code).toBe(3);
    expect(lines(untrusted.stderr).at(-1)).toMatch(/^error: TLS: the API server's certificate at https:\/\/127\.0\.0\.1:\d+ is not trusted/);
  });

  test('exec plugin: the token it returns, bound to that Role, can put, check, get and delete', async () => {
    const token = await deployerToken();
    const file = join(mkdtempSync(join(tmpdir(), 'kdr-plugin-')), 'token');
    writeFileSync(file, token, { mode: 0o600 });
    const { cluster_url, cluster_ca } = readSource() as unknown as Record<string, string>;
    const kubeconfig = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: cluster_url, 'certificate-authority-data': cluster_ca } }],
      users: [
        {
          name: 'deployer',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: join(repoRoot, 'test', 'fixtures', 'exec-plugins', 'token-plugin.mjs'),
              env: [{ name: 'KDR_PLUGIN_TOKEN_FILE', value: file }],
              interactiveMode: 'Never',
            },
          },
        },
      ],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'deployer' } }],
    });
    await putCheckGetDelete({ kubeconfig, namespace: ns.name, app: 'web' });
  });
});
