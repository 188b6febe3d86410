// The credentials Concourse users reach clusters with (issue 12): the Pod's own ServiceAccount (`in_cluster: true`)
// and exec credential plugins in an inline kubeconfig. Both with real ServiceAccount tokens of the test cluster, run
// through the compiled scripts; the tokens are planted in the suite-wide secret scan.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, readSource, useNamespace, waitFor } from '../support/cluster.js';
import { emptyDir } from '../support/release.js';
import { lines, repoRoot, runScript } from '../support/run-script.js';
import { canaries } from '../support/secret-scan.js';
import { bindRole, serviceAccountMount, serviceAccountToken } from '../support/service-account.js';
import { readyImage } from '../support/images.js';

const plugins = join(repoRoot, 'test', 'fixtures', 'exec-plugins');
const cluster = () => {
  const { cluster_url, cluster_ca } = readSource() as unknown as Record<string, string>;
  return { url: cluster_url!, caBase64: cluster_ca!, caPem: Buffer.from(cluster_ca!, 'base64').toString('utf8') };
};
const version = (run: { json: unknown }) => (run.json as { version: Record<string, string> }).version;

describe('in_cluster: the ServiceAccount mounted into the Pod', () => {
  const ns = useNamespace('kdr-incluster');
  const other = useNamespace('kdr-incluster-other');

  function podEnv(root: string): Record<string, string> {
    const { port, hostname } = new URL(cluster().url);
    return { KUBERNETES_SERVICE_HOST: hostname, KUBERNETES_SERVICE_PORT: port, KDR_TEST_SERVICEACCOUNT_ROOT: root };
  }

  test('put, re-put, check, get, delete as the mounted ServiceAccount; its token is read on every run', async () => {
    const token = await serviceAccountToken(ns.name, 'deployer');
    await bindRole(ns.name, 'deployer', 'cluster-admin');
    const mount = serviceAccountMount({ token, 'ca.crt': cluster().caPem, namespace: ns.name });
    const env = podEnv(mount.root);
    const source = { in_cluster: true, namespace: ns.name, app: 'web' };

    const put = await runScript(
      'out',
      { source, params: { image_ref: readyImage('1').tagRef } },
      { dir: emptyDir(), env },
    );
    expect(put.code, put.stderr).toBe(0);
    const again = await runScript(
      'out',
      { source, params: { image_ref: readyImage('1').tagRef } },
      { dir: emptyDir(), env },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(version(again)).toEqual(version(put));
    const check = await runScript('check', { source }, { env });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([version(put)]);
    const get = await runScript('in', { source, version: version(put) }, { dir: emptyDir(), env });
    expect(get.code, get.stderr).toBe(0);

    // The requests are the ServiceAccount's: another namespace is forbidden to it, by name.
    const elsewhere = await runScript('check', { source: { ...source, namespace: other.name } }, { env });
    expect(elsewhere.code).toBe(4);
    expect(lines(elsewhere.stderr).at(-1)).toContain(`system:serviceaccount:${ns.name}:deployer`);

    // The kubelet rotates the token in place: the next run uses the new one (here: one without rights, then back).
    const nobody = await serviceAccountToken(ns.name, 'nobody');
    mount.update({ token: nobody, 'ca.crt': cluster().caPem, namespace: ns.name });
    const rotated = await runScript('check', { source }, { env });
    expect(rotated.code).toBe(4);
    expect(lines(rotated.stderr).at(-1)).toContain(`system:serviceaccount:${ns.name}:nobody`);
    mount.update({ token, 'ca.crt': cluster().caPem, namespace: ns.name });

    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir(), env });
    expect(del.code, del.stderr).toBe(0);
    const gone = await runScript('check', { source }, { env });
    expect(gone.json).toEqual([]);
  });

  test("no source.namespace: the Pod's namespace from the mount, for put, re-put, check, get and delete", async () => {
    const token = await serviceAccountToken(ns.name, 'deployer');
    await bindRole(ns.name, 'deployer', 'cluster-admin');
    const env = podEnv(serviceAccountMount({ token, 'ca.crt': cluster().caPem, namespace: ns.name }).root);
    // The ServiceAccount may act in its own namespace only: a put that went to `default` would be forbidden.
    const source = { in_cluster: true, app: 'web' };
    const params = { image_ref: readyImage('1').tagRef };

    const put = await runScript('out', { source, params }, { dir: emptyDir(), env });
    expect(put.code, put.stderr).toBe(0);
    expect(version(put)).toEqual({ app: 'web', namespace: ns.name, revision: '1', image: readyImage('1').tagRef });
    const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(deployment.status.availableReplicas).toBe(1);

    const again = await runScript('out', { source, params }, { dir: emptyDir(), env });
    expect(again.code, again.stderr).toBe(0);
    expect(version(again)).toEqual(version(put));
    const after = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(after.metadata.generation).toBe(deployment.metadata.generation);

    const check = await runScript('check', { source }, { env });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([version(put)]);
    const dir = emptyDir();
    const get = await runScript('in', { source, version: version(put) }, { dir, env });
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(join(dir, 'namespace'), 'utf8')).toBe(ns.name);
    expect(readFileSync(join(dir, 'manifests.yml'), 'utf8')).toContain('kind: Deployment');

    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir(), env });
    expect(del.code, del.stderr).toBe(0);
    expect(version(del)).toMatchObject({ namespace: ns.name, revision: '1', deleted: 'true' });
    const gone = await kubectlJson(['get', 'deployments,services,secrets', '-l', 'app.kubernetes.io/instance=web'], {
      namespace: ns.name,
    });
    expect(gone.items).toEqual([]);
    const empty = await runScript('check', { source }, { env });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.json).toEqual([]);
  });

  test('a mount whose namespace file is missing or invalid: exit 2 naming the file, before any request', async () => {
    const token = await serviceAccountToken(ns.name, 'deployer');
    const source = { in_cluster: true, app: 'web' };
    const noFile = serviceAccountMount({ token, 'ca.crt': cluster().caPem, namespace: ns.name });
    const root = noFile.root;
    const bad = serviceAccountMount({ token, 'ca.crt': cluster().caPem, namespace: 'Not_A_Namespace' });
    const badRun = await runScript(
      'out',
      { source, params: { image_ref: readyImage('1').tagRef } },
      { dir: emptyDir(), env: podEnv(bad.root) },
    );
    expect(badRun.code).toBe(2);
    expect(lines(badRun.stderr)).toEqual([
      `error: source.in_cluster: "Not_A_Namespace" (the ServiceAccount's namespace at ${bad.root}/namespace) is ` +
        'not a valid namespace name (lowercase letters, digits and -, at most 63)',
    ]);
    rmSync(join(root, 'namespace'));
    const missing = await runScript('check', { source }, { env: podEnv(root) });
    expect(missing.code).toBe(2);
    expect(lines(missing.stderr)).toEqual([
      `error: source.in_cluster: cannot read the ServiceAccount's namespace at ${root}/namespace (ENOENT): ` +
        "name the target in source.namespace, or mount the ServiceAccount into the worker's Pod",
    ]);
    // With source.namespace the file is not needed.
    await bindRole(ns.name, 'deployer', 'cluster-admin');
    const named = await runScript('check', { source: { ...source, namespace: ns.name } }, { env: podEnv(root) });
    expect(named.code, named.stderr).toBe(0);
  });

  test("the token of a deleted ServiceAccount: exit 3 naming the mount's token file, not source.token", async () => {
    const token = await serviceAccountToken(ns.name, 'gone');
    await bindRole(ns.name, 'gone', 'cluster-admin');
    const mount = serviceAccountMount({ token, 'ca.crt': cluster().caPem, namespace: ns.name });
    const source = { in_cluster: true, app: 'web' };
    const before = await runScript('check', { source }, { env: podEnv(mount.root) });
    expect(before.code, before.stderr).toBe(0);
    await kubectl(['delete', 'serviceaccount', 'gone'], { namespace: ns.name });
    // The API server caches a token it accepted for 10 s.
    const run = await waitFor(
      'the deleted ServiceAccount token refused',
      async () => {
        const attempt = await runScript('check', { source }, { env: podEnv(mount.root) });
        return attempt.code === 0 ? undefined : attempt;
      },
      { timeoutMs: 40_000, intervalMs: 1000 },
    );
    expect(run.code).toBe(3);
    expect(lines(run.stderr).at(-1)).toBe(
      `error: the cluster at ${cluster().url} did not accept our credentials (401 Unauthorized) when trying to ` +
        `list secrets in namespace ${ns.name}: the ServiceAccount token at ${mount.root}/token was refused: ` +
        'is it expired or its ServiceAccount deleted?',
    );
  });

  test('outside a Pod, or without the mount: exit 2 with one clear line', async () => {
    const source = { in_cluster: true, namespace: ns.name, app: 'web' };
    const noVars = await runScript('check', { source });
    expect(noVars.code).toBe(2);
    expect(lines(noVars.stderr)).toEqual([
      'error: source.in_cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT not set: this does not run ' +
        'in a Kubernetes Pod (give cluster_url and credentials instead)',
    ]);
    const missing = join(mkdtempSync(join(tmpdir(), 'kdr-no-mount-')), 'serviceaccount');
    const noMount = await runScript(
      'out',
      { source, params: { image_ref: readyImage('1').tagRef } },
      { dir: emptyDir(), env: podEnv(missing) },
    );
    expect(noMount.code).toBe(2);
    expect(lines(noMount.stderr)).toEqual([
      `error: source.in_cluster: cannot read the ServiceAccount's token at ${missing}/token (ENOENT): is the ` +
        `ServiceAccount token mounted into the worker's Pod (automountServiceAccountToken)?`,
    ]);
    const withToken = await runScript('check', { source: { ...source, token: 'x' } });
    expect(lines(withToken.stderr)).toEqual([
      "error: source.token: cannot be combined with source.in_cluster (the Pod's ServiceAccount is used)",
    ]);
    expect(withToken.code).toBe(2);
  });
});

interface PluginSetup {
  command: string;
  apiVersion?: string;
  interactiveMode?: string | null;
  env?: Record<string, string>;
  args?: string[];
  provideClusterInfo?: boolean;
  installHint?: string;
}

function execKubeconfig(plugin: PluginSetup): string {
  const exec = {
    apiVersion: plugin.apiVersion ?? 'client.authentication.k8s.io/v1',
    command: plugin.command,
    ...(plugin.args ? { args: plugin.args } : {}),
    ...(plugin.env ? { env: Object.entries(plugin.env).map(([name, value]) => ({ name, value })) } : {}),
    ...(plugin.provideClusterInfo ? { provideClusterInfo: true } : {}),
    ...(plugin.interactiveMode === null ? {} : { interactiveMode: plugin.interactiveMode ?? 'Never' }),
    ...(plugin.installHint ? { installHint: plugin.installHint } : {}),
  };
  // JSON is YAML.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'c',
    clusters: [{ name: 'k', cluster: { server: cluster().url, 'certificate-authority-data': cluster().caBase64 } }],
    users: [{ name: 'deployer', user: { exec } }],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'deployer' } }],
  });
}

describe('exec credential plugins in an inline kubeconfig', () => {
  const ns = useNamespace('kdr-exec');
  const other = useNamespace('kdr-exec-other');

  async function tokenFile(): Promise<string> {
    const token = await serviceAccountToken(ns.name, 'deployer');
    await bindRole(ns.name, 'deployer', 'cluster-admin');
    const file = join(mkdtempSync(join(tmpdir(), 'kdr-plugin-')), 'token');
    writeFileSync(file, token, { mode: 0o600 });
    return file;
  }

  test('a v1 plugin with env, args, provideClusterInfo: put, re-put, check, get, delete with its token', async () => {
    const file = await tokenFile();
    const record = join(mkdtempSync(join(tmpdir(), 'kdr-plugin-record-')), 'calls.jsonl');
    const kubeconfig = execKubeconfig({
      command: join(plugins, 'token-plugin.mjs'),
      args: ['--cluster', 'staging'],
      env: { KDR_PLUGIN_TOKEN_FILE: file, KDR_PLUGIN_RECORD: record, KDR_PLUGIN_GREETING: 'hello-from-kubeconfig' },
      provideClusterInfo: true,
    });
    const source = { kubeconfig, namespace: ns.name, app: 'web' };
    const put = await runScript('out', { source, params: { image_ref: readyImage('1').tagRef } }, { dir: emptyDir() });
    expect(put.code, put.stderr).toBe(0);
    const again = await runScript(
      'out',
      { source, params: { image_ref: readyImage('2').tagRef } },
      { dir: emptyDir() },
    );
    expect(again.code, again.stderr).toBe(0);
    const check = await runScript('check', { source });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([version(again)]);
    const get = await runScript('in', { source, version: version(again) }, { dir: emptyDir() });
    expect(get.code, get.stderr).toBe(0);
    const elsewhere = await runScript('check', { source: { ...source, namespace: other.name } });
    expect(elsewhere.code).toBe(4);
    expect(lines(elsewhere.stderr).at(-1)).toContain(`system:serviceaccount:${ns.name}:deployer`);
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);

    // Once per script run (a put's clean-up shares the credential), with what the kubeconfig says.
    const calls = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(calls).toHaveLength(6);
    for (const call of calls) {
      expect(call.args).toEqual(['--cluster', 'staging']);
      expect(call.greeting).toBe('hello-from-kubeconfig');
      expect(call.stdinIsTTY).toBe(false);
      expect(call.info).toEqual({
        apiVersion: 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        spec: {
          interactive: false,
          cluster: { server: cluster().url, 'certificate-authority-data': cluster().caBase64 },
        },
      });
    }
  });

  test('a v1beta1 plugin found on PATH by name, without interactiveMode or cluster info', async () => {
    const file = await tokenFile();
    const record = join(mkdtempSync(join(tmpdir(), 'kdr-plugin-record-')), 'calls.jsonl');
    const kubeconfig = execKubeconfig({
      command: 'token-plugin.mjs',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      interactiveMode: null,
      env: { KDR_PLUGIN_TOKEN_FILE: file, KDR_PLUGIN_RECORD: record },
    });
    const env = { PATH: `${plugins}:${join(process.execPath, '..')}:/usr/local/bin:/usr/bin:/bin` };
    const check = await runScript('check', { source: { kubeconfig, namespace: ns.name, app: 'web' } }, { env });
    expect(check.code, check.stderr).toBe(0);
    const [call] = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(call.info).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  test('a plugin that is not installed: exit 3 naming it, with its install hint', async () => {
    const kubeconfig = execKubeconfig({
      command: 'kdr-no-such-plugin',
      installHint: 'Install kdr-no-such-plugin into the image:\n  see the README',
    });
    const run = await runScript('check', { source: { kubeconfig, namespace: ns.name, app: 'web' } });
    expect(run.code).toBe(3);
    expect(lines(run.stderr)).toEqual([
      'error: the exec credential plugin "kdr-no-such-plugin" of kubeconfig user "deployer" was not found (not ' +
        'installed in the image, or not on PATH): Install kdr-no-such-plugin into the image:',
    ]);
  });

  test('a plugin that fails: exit 3 with its first stderr line, secrets of its env redacted', async () => {
    const command = join(plugins, 'failing-plugin.sh');
    const kubeconfig = execKubeconfig({ command, env: { KDR_PLUGIN_SECRET: canaries[0]! } });
    const run = await runScript('check', { source: { kubeconfig, namespace: ns.name, app: 'web' } });
    expect(run.code).toBe(3);
    expect(lines(run.stderr)).toEqual([
      `error: the exec credential plugin "${command}" of kubeconfig user "deployer" failed (exit code 1): error: ` +
        `getting credentials: AccessDenied for key [redacted]: not authorized to perform sts:AssumeRole`,
    ]);
  });

  test('a plugin that never answers: exit 3 within the request timeout', async () => {
    const command = join(plugins, 'hanging-plugin.sh');
    const run = await runScript('check', {
      source: { kubeconfig: execKubeconfig({ command }), namespace: ns.name, app: 'web', request_timeout: '1s' },
    });
    expect(run.code).toBe(3);
    expect(lines(run.stderr)).toEqual([
      `error: the exec credential plugin "${command}" of kubeconfig user "deployer" did not answer within 1s`,
    ]);
    expect(run.durationMs).toBeLessThan(20_000);
  });

  test('a plugin whose token the cluster refuses: exit 3 naming the plugin, not source.token', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kdr-plugin-')), 'token');
    writeFileSync(file, 'bogus-token-from-the-plugin-0123456789', { mode: 0o600 });
    const command = join(plugins, 'token-plugin.mjs');
    const kubeconfig = execKubeconfig({ command, env: { KDR_PLUGIN_TOKEN_FILE: file } });
    const run = await runScript('check', { source: { kubeconfig, namespace: ns.name, app: 'web' } });
    expect(run.code).toBe(3);
    expect(lines(run.stderr).at(-1)).toBe(
      `error: the cluster at ${cluster().url} did not accept our credentials (401 Unauthorized) when trying to ` +
        `list secrets in namespace ${ns.name}: the token from the exec credential plugin ${JSON.stringify(command)} ` +
        'of kubeconfig user "deployer" was refused: does the cluster know the identity the plugin signs in as ' +
        '(e.g. is it mapped in aws-auth), with the credentials in its env?',
    );
  });

  test('a plugin that answers with another apiVersion: exit 3', async () => {
    const command = join(plugins, 'wrong-version-plugin.sh');
    const run = await runScript('check', {
      source: { kubeconfig: execKubeconfig({ command }), namespace: ns.name, app: 'web' },
    });
    expect(run.code).toBe(3);
    expect(lines(run.stderr)).toEqual([
      `error: the exec credential plugin "${command}" of kubeconfig user "deployer" did not print an ` +
        `ExecCredential of client.authentication.k8s.io/v1`,
    ]);
  });

  test('interactiveMode Always cannot work without a terminal: exit 2 before anything runs', async () => {
    const run = await runScript('check', {
      source: {
        kubeconfig: execKubeconfig({ command: join(plugins, 'token-plugin.mjs'), interactiveMode: 'Always' }),
        namespace: ns.name,
        app: 'web',
      },
    });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      'error: source.kubeconfig: user "deployer" exec.interactiveMode: Always needs a terminal, which a Concourse ' +
        'resource does not have (use Never)',
    ]);
  });
});
