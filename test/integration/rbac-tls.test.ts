// Least privilege and TLS against the real API server: the README's Role is enough for every feature; outside it the
// put fails with the API-rejection exit code naming verb, resource and namespace; bad trust or credentials are one
// clear line with the connection/auth exit code.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  auditLogPath,
  kubectl,
  kubectlJson,
  readSource,
  rbacToken,
  useNamespace,
  usingExternalCluster,
  waitFor,
} from '../support/cluster.js';
import { base64, makeTestPki, type TestPki } from '../support/pki.js';
import { completingJobImage, crashingImage, readyImage } from '../support/images.js';
import { emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, repoRoot, runScript } from '../support/run-script.js';
import {
  readmeRole,
  serviceAccountMount,
  serviceAccountToken as plantedServiceAccountToken,
} from '../support/service-account.js';
import { migrateJobYaml, postgresStatefulSetYaml } from '../support/workloads.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

/** The Role exactly as the README documents it. */

async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  await kubectl(['create', 'serviceaccount', name], { namespace });
  // A token Secret asked for explicitly: the token controller fills it on every version (1.24+ no longer makes one
  // per ServiceAccount by itself, as 1.20 did).
  const secretName = `${name}-token`;
  await kubectl(['apply', '-f', '-'], {
    namespace,
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: secretName, annotations: { 'kubernetes.io/service-account.name': name } },
    }),
  });
  const token = await waitFor(`a token for serviceaccount/${name}`, async () => {
    const secret = await kubectlJson(['get', 'secret', secretName], { namespace });
    return secret.data?.token as string | undefined;
  });
  return Buffer.from(token, 'base64').toString('utf8');
}

// The staging release: a database StatefulSet with a volume, its migration Job, and a node agent DaemonSet.
const manifests = {
  'deps/postgres.yml': postgresStatefulSetYaml(readyImage('1').tagRef),
  'deps/migrate.yml': migrateJobYaml(completingJobImage('1').ref),
  'deps/agent.yml': JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'agent' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'agent' } },
        spec: { containers: [{ name: 'agent', image: readyImage('1').tagRef }] },
      },
    },
  }),
};

/** `group/resource verb` for every request the user made that the API server answered, from the audit log. */
function requestsBy(user: string, since: number): Set<string> {
  const used = new Set<string>();
  for (const line of readFileSync(auditLogPath, 'utf8').split('\n')) {
    if (!line.includes(user)) continue;
    const entry = JSON.parse(line);
    if (
      entry.stage !== 'ResponseComplete' ||
      entry.user?.username !== user ||
      Date.parse(entry.requestReceivedTimestamp) < since
    )
      continue;
    const code = entry.responseStatus?.code ?? 0;
    // A refused request does not use a grant; a 404 or 409 answer does (the grant let it through).
    if (!entry.objectRef?.resource || (code >= 400 && code !== 404 && code !== 409)) continue;
    const sub = entry.objectRef.subresource ? `/${entry.objectRef.subresource}` : '';
    used.add(`${entry.objectRef.apiGroup ?? ''}/${entry.objectRef.resource}${sub} ${entry.verb}`);
  }
  return used;
}

/** `group/resource verb` for every grant of the README's Role. */
function grantsOf(roleJson: string): Set<string> {
  const role = JSON.parse(roleJson) as { rules: Rule[] };
  return new Set(
    role.rules.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res} ${v}`))),
    ),
  );
}

// Grants the scripted happy path below does not exercise, each with the reason it is in the Role. Any other unused
// grant fails the test: the Role holds nothing a put, get, check or delete does not need.
const notExercisedHere: Record<string, string> = {
  '/events list': "read when a rollout fails, for the failing Pod's recent events",
  'apps/replicasets list': 'the rollout wait relists on its resync and after a dropped watch',
  'coordination.k8s.io/leases get': "a put finding the release's lock held by another put",
  'coordination.k8s.io/leases update': 'taking over an expired lock',
  '/pods/log get': "read when a container crashes, for its last log lines (the test after this one's)",
};

describe('the least-privilege Role from the README', () => {
  const ns = useNamespace('kdr-rbac');
  const other = useNamespace('kdr-rbac-other');

  test('bound to exactly that Role: put, check, get, delete; elsewhere exit 4 names verb, resource, ns', async () => {
    const startedAt = Date.now() - 1000;
    const role = readmeRole(ns.name);
    await kubectl(['apply', '-f', '-'], { input: role });
    const token = await serviceAccountToken(ns.name, 'deployer');
    await kubectl(
      [
        'create',
        'rolebinding',
        'deployer',
        '--role=kubernetes-deploy-resource',
        `--serviceaccount=${ns.name}:deployer`,
      ],
      { namespace: ns.name },
    );
    const { cluster_url, cluster_ca } = readSource() as unknown as Record<string, string>;
    const source = { cluster_url, cluster_ca, token, namespace: ns.name, app: 'web' };
    const dir = sourcesDir(tagOnly(readyImage('1')), manifests);
    const params = { image: 'image', host: 'web.rbac.local', manifests: ['deps/*.yml'] };

    const put = await runScript('out', { source, params }, { dir });
    expect(put.code, put.stderr).toBe(0);
    await kubectl(['wait', '--for=condition=complete', 'job/migrate', '--timeout=60s'], {
      namespace: ns.name,
      timeoutMs: 70_000,
    });
    const again = await runScript('out', { source, params }, { dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('job/migrate unchanged and complete');
    const check = await runScript('check', { source });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([(put.json as { version: unknown }).version]);
    const get = await runScript(
      'in',
      { source, version: (put.json as { version: unknown }).version },
      { dir: emptyDir() },
    );
    expect(get.code, get.stderr).toBe(0);
    // A changed migration: the Job is deleted and created again.
    const changedDir = sourcesDir(tagOnly(readyImage('2')), {
      ...manifests,
      'deps/migrate.yml': migrateJobYaml(completingJobImage('2').ref),
    });
    const changed = await runScript('out', { source, params }, { dir: changedDir });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stderr).toContain('job/migrate replaced');
    await kubectl(['rollout', 'status', 'statefulset/db', '--timeout=60s'], { namespace: ns.name, timeoutMs: 70_000 });
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stderr).toContain('persistentvolumeclaim/data-db-0 deleted');
    // mode create: every kind created rather than applied, then torn down again, the volume kept.
    const created = await runScript('out', { source, params: { ...params, mode: 'create' } }, { dir });
    expect(created.code, created.stderr).toBe(0);
    const kept = await runScript('out', { source, params: { delete: true, keep_volumes: true } }, { dir: emptyDir() });
    expect(kept.code, kept.stderr).toBe(0);

    // Least privilege: every grant of the Role was used by these scripts (the audit log says which requests they made).
    if (!usingExternalCluster() && existsSync(auditLogPath)) {
      const user = `system:serviceaccount:${ns.name}:deployer`;
      const used = await waitFor(
        'the audit log to hold the teardown',
        () => {
          const requests = requestsBy(user, startedAt);
          return requests.has('/persistentvolumeclaims delete') && requests.has('/secrets delete') && requests;
        },
        { timeoutMs: 10_000 },
      );
      const unused = [...grantsOf(role)].filter((grant) => !used.has(grant)).sort();
      expect(unused).toEqual(Object.keys(notExercisedHere).sort());
    }

    const denied = await runScript(
      'out',
      { source: { ...source, namespace: other.name }, params: { image_ref: readyImage('1').tagRef } },
      { dir: emptyDir() },
    );
    expect(denied.code).toBe(4);
    expect(denied.stdout).toBe('');
    const last = lines(denied.stderr).at(-1)!;
    expect(last).toMatch(/^error: forbidden \(403\) to /);
    expect(last).toContain(`cannot create resource "leases" in API group "coordination.k8s.io"`);
    expect(last).toContain(`"${other.name}"`);
    expect(last).toContain(`system:serviceaccount:${ns.name}:deployer`);
    // Nothing was written in the other namespace.
    expect(
      (
        await kubectlJson(
          ['get', 'deployments,services,secrets', '-l', 'app.kubernetes.io/managed-by=kubernetes-deploy-resource'],
          { namespace: other.name },
        )
      ).items,
    ).toEqual([]);
  });

  test('pods/log is what a crash needs for its log lines, and enough: without it the put says so', async () => {
    const role = JSON.parse(readmeRole(ns.name)) as { rules: Rule[] };
    const withoutLogs = {
      ...role,
      metadata: { ...(role as unknown as { metadata: object }).metadata, name: 'without-pods-log' },
      rules: role.rules.filter((r) => !r.resources.includes('pods/log')),
    };
    expect(withoutLogs.rules).toHaveLength(role.rules.length - 1);
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(role) });
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(withoutLogs) });
    const { cluster_url, cluster_ca } = readSource() as unknown as Record<string, string>;
    const deployAs = async (name: string, roleName: string) => {
      const token = await serviceAccountToken(ns.name, name);
      await kubectl(['create', 'rolebinding', name, `--role=${roleName}`, `--serviceaccount=${ns.name}:${name}`], {
        namespace: ns.name,
      });
      const source = { cluster_url, cluster_ca, token, namespace: ns.name, app: name };
      return runScript('out', { source, params: { ...crashingImage().params, timeout: '2m' } }, { dir: emptyDir() });
    };
    const crashLog =
      'connecting to db:5432 ⏎ error: cannot connect to db:5432: connection refused ⏎ exiting with code 1';

    const enough = await deployAs('with-logs', 'kubernetes-deploy-resource');
    expect(enough.code, enough.stderr).toBe(5);
    expect(lines(enough.stderr).at(-1)).toMatch(/CrashLoopBackOff .*; last 3 log lines of container with-logs /);
    expect(lines(enough.stderr).at(-1)!.endsWith(crashLog)).toBe(true);

    const needed = await deployAs('without-logs', 'without-pods-log');
    expect(needed.code, needed.stderr).toBe(5);
    const last = lines(needed.stderr).at(-1)!;
    expect(last).toMatch(/^error: deployment\/without-logs failed: pod\/without-logs-\S+ container without-logs: /);
    expect(last).toContain(
      `; the log of container without-logs (its previous run, the one that exited) could not be read: ` +
        `the credentials may not get pods/log in namespace ${ns.name} (add it to the Role): forbidden (403)`,
    );
    expect(last).toContain('cannot get resource "pods/log"');
    expect(last).not.toContain('connecting to db:5432');
  });

  test('a token without any binding cannot even list: exit 4, check names the verb, resource, namespace', async () => {
    const token = rbacToken();
    expect(token).toBeTruthy();
    const { cluster_url, cluster_ca } = readSource() as unknown as Record<string, string>;
    const check = await runScript('check', {
      source: { cluster_url, cluster_ca, token, namespace: ns.name, app: 'web' },
    });
    expect(check.code).toBe(4);
    expect(lines(check.stderr).at(-1)).toMatch(
      new RegExp(
        `^error: forbidden \\(403\\) to list secrets in namespace ${ns.name}: .*User ` +
          `"(system:serviceaccount:[a-z0-9-]+:)?rbac-test" cannot list resource "secrets" in API group "" in the ` +
          `namespace "${ns.name}"`,
      ),
    );
  });
});

describe('TLS and credentials', () => {
  let pki: TestPki;
  let cluster: Record<string, string>;
  beforeAll(() => {
    pki = makeTestPki();
    cluster = readSource() as unknown as Record<string, string>;
  });
  const run = (source: Record<string, unknown>) =>
    runScript('check', { source: { app: 'web', namespace: 'default', ...source } }, { timeoutMs: 60_000 });

  test('a CA that did not sign the server certificate: exit 3, not trusted', async () => {
    const result = await run({
      cluster_url: cluster.cluster_url,
      cluster_ca: base64(pki.caCert),
      admin_cert: cluster.admin_cert,
      admin_key: cluster.admin_key,
    });
    expect(result.code).toBe(3);
    expect(lines(result.stderr)).toEqual([
      `error: TLS: the API server's certificate at ${cluster.cluster_url} is not trusted: it is not signed by ` +
        `source.cluster_ca (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    ]);
  });

  test('a client certificate from another CA: exit 3, credentials not accepted', async () => {
    const result = await run({
      cluster_url: cluster.cluster_url,
      cluster_ca: cluster.cluster_ca,
      admin_cert: base64(pki.clientCert),
      admin_key: base64(pki.clientKey),
    });
    expect(result.code).toBe(3);
    expect(lines(result.stderr).at(-1)).toBe(
      `error: the cluster at ${cluster.cluster_url} did not accept our credentials (401 Unauthorized) when trying to ` +
        "list secrets in namespace default: source.admin_cert was refused: is it signed by the cluster's client CA?",
    );
  });

  test('an expired client certificate: exit 3 before any call', async () => {
    const result = await run({
      cluster_url: cluster.cluster_url,
      cluster_ca: cluster.cluster_ca,
      admin_cert: base64(pki.expiredCert),
      admin_key: base64(pki.expiredKey),
    });
    expect(result.code).toBe(3);
    expect(lines(result.stderr)).toEqual([
      'error: source.admin_cert: the client certificate expired on 2020-01-02T00:00:00.000Z',
    ]);
  });

  test('a wrong token: exit 3, credentials not accepted', async () => {
    const result = await run({
      cluster_url: cluster.cluster_url,
      cluster_ca: cluster.cluster_ca,
      token: 'not-a-valid-token-0123456789',
    });
    expect(result.code).toBe(3);
    expect(lines(result.stderr).at(-1)).toBe(
      `error: the cluster at ${cluster.cluster_url} did not accept our credentials (401 Unauthorized) when trying to ` +
        'list secrets in namespace default: source.token was refused: is it expired or revoked, ' +
        'or its ServiceAccount deleted?',
    );
  });

  test('insecure_skip_tls_verify works without a CA and warns once', async () => {
    const result = await run({
      cluster_url: cluster.cluster_url,
      insecure_skip_tls_verify: true,
      admin_cert: cluster.admin_cert,
      admin_key: cluster.admin_key,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stderr)).toEqual([
      "warning: source.insecure_skip_tls_verify is true: the API server's certificate is not verified",
    ]);
  });

  test('without a CA and without skipping verification, the self-signed cluster is not trusted', async () => {
    const result = await run({
      cluster_url: cluster.cluster_url,
      admin_cert: cluster.admin_cert,
      admin_key: cluster.admin_key,
    });
    expect(result.code).toBe(3);
    expect(lines(result.stderr).at(-1)).toMatch(/^error: TLS: the API server's certificate at \S+ is not trusted/);
  });
});

describe('the README Role through the in-cluster and exec credential paths', () => {
  const ns = useNamespace('kdr-rbac-paths');

  async function deployerToken(): Promise<string> {
    await kubectl(['apply', '-f', '-'], { input: readmeRole(ns.name) });
    const token = await plantedServiceAccountToken(ns.name, 'deployer');
    await kubectl(
      [
        'create',
        'rolebinding',
        'deployer',
        '--role=kubernetes-deploy-resource',
        `--serviceaccount=${ns.name}:deployer`,
      ],
      { namespace: ns.name },
    );
    return token;
  }
  const caPem = () =>
    Buffer.from((readSource() as unknown as Record<string, string>).cluster_ca!, 'base64').toString('utf8');

  async function putCheckGetDelete(source: Record<string, unknown>, env: Record<string, string> = {}): Promise<void> {
    const dir = sourcesDir(tagOnly(readyImage('1')), manifests);
    const put = await runScript(
      'out',
      { source, params: { image: 'image', host: 'web.rbac.local', manifests: ['deps/*.yml'] } },
      { dir, env },
    );
    expect(put.code, put.stderr).toBe(0);
    const check = await runScript('check', { source }, { env });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([(put.json as { version: unknown }).version]);
    const get = await runScript(
      'in',
      { source, version: (put.json as { version: unknown }).version },
      { dir: emptyDir(), env },
    );
    expect(get.code, get.stderr).toBe(0);
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir(), env });
    expect(del.code, del.stderr).toBe(0);
  }

  test('in_cluster bound to that Role: put, check, get, delete; a foreign CA in the mount is not trusted', async () => {
    const token = await deployerToken();
    const mount = serviceAccountMount({ token, 'ca.crt': caPem(), namespace: ns.name });
    const { hostname, port } = new URL((readSource() as unknown as Record<string, string>).cluster_url!);
    const env = {
      KUBERNETES_SERVICE_HOST: hostname,
      KUBERNETES_SERVICE_PORT: port,
      KDR_TEST_SERVICEACCOUNT_ROOT: mount.root,
    };
    await putCheckGetDelete({ in_cluster: true, namespace: ns.name, app: 'web' }, env);

    mount.update({ token, 'ca.crt': makeTestPki().caCert, namespace: ns.name });
    const untrusted = await runScript(
      'check',
      { source: { in_cluster: true, namespace: ns.name, app: 'web' } },
      { env },
    );
    expect(untrusted.code).toBe(3);
    expect(lines(untrusted.stderr).at(-1)).toMatch(
      /^error: TLS: the API server's certificate at https:\/\/127\.0\.0\.1:\d+ is not trusted/,
    );
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
