// What a real app needs of the release (issue 26), against the real cluster, through the compiled scripts: the put's
// image in a migration Job, a pull Secret and a ServiceAccount, env from a ConfigMap that rolls the app out when it
// changes, a patch that survives a redeploy, and replicas: auto keeping a Deployment scaled by someone else.
import { describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, useNamespace, waitFor } from '../support/cluster.js';
import { kubeletKind, readyImage, type ReadyTag } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';
import { canaries } from '../support/secret-scan.js';

const dbPassword = canaries[2]!;
const configHash = 'kubernetes-deploy-resource.io/config-hash';

function putIn(namespace: string) {
  return (tag: ReadyTag, params: Record<string, unknown>, files: Record<string, string> = {}) =>
    runScript(
      'out',
      { source: clusterSource({ namespace }), params: { image: 'image', ...params } },
      { dir: sourcesDir(readyImage(tag), files) },
    );
}
const redeploy = (namespace: string, revision: number) =>
  runScript(
    'out',
    { source: clusterSource({ namespace }), params: { revision: String(revision) } },
    { dir: emptyDir() },
  );

const appPods = async (namespace: string) =>
  ((await kubectlJson(['get', 'pods', '-l', 'app.kubernetes.io/name=web'], { namespace })).items as any[]).filter(
    (p) => !p.metadata.deletionTimestamp,
  );
const readDeployment = (namespace: string) => kubectlJson(['get', 'deployment', 'web'], { namespace });

// The migration runs the app's image; `command: [true]` makes it exit 0 at once under a real kubelet (the image is
// busybox), as the stand-in ends any Job container.
const migrateJob = `
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {kubernetes-deploy-resource.io/phase: before}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: kdr.image, command: ["true"]}]
`;

describe('the put’s image in extra manifests', () => {
  const ns = useNamespace('kdr-realapp');

  test('the migration Job runs the put’s digest, and a redeploy’s Job the recorded one', async () => {
    const put = putIn(ns.name);
    const jobImage = async () =>
      (await kubectlJson(['get', 'job', 'migrate'], { namespace: ns.name })).spec.template.spec.containers[0].image;
    const first = await put('1', { manifests: ['deploy/*.yml'] }, { 'deploy/migrate.yml': migrateJob });
    expect(first.code, first.stderr).toBe(0);
    expect(await jobImage()).toBe(readyImage('1').digestRef);
    expect((await readDeployment(ns.name)).spec.template.spec.containers[0].image).toBe(readyImage('1').digestRef);

    const second = await put('2', { manifests: ['deploy/*.yml'] }, { 'deploy/migrate.yml': migrateJob });
    expect(second.code, second.stderr).toBe(0);
    expect(lines(second.stderr)).toContain('job/migrate replaced');
    expect(await jobImage()).toBe(readyImage('2').digestRef);

    const again = await redeploy(ns.name, 1);
    expect(again.code, again.stderr).toBe(0);
    expect(lines(again.stderr)).toContain('job/migrate replaced');
    expect(await jobImage()).toBe(readyImage('1').digestRef);
    const job = await kubectlJson(['get', 'job', 'migrate'], { namespace: ns.name });
    expect(job.status.succeeded).toBe(1);
  }, 180_000);
});

describe('a private registry', () => {
  const ns = useNamespace('kdr-realapp');

  test('a Deployment with a pull Secret and a ServiceAccount of the release rolls out', async () => {
    const dockerConfig = Buffer.from(
      JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('ci:pw').toString('base64') } } }),
    ).toString('base64');
    const files = {
      'deploy/pull.yml':
        'apiVersion: v1\nkind: Secret\nmetadata: {name: registry-pull}\ntype: kubernetes.io/dockerconfigjson\n' +
        `data: {.dockerconfigjson: ${dockerConfig}}\n`,
      'deploy/sa.yml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n',
    };
    const params = {
      manifests: ['deploy/*.yml'],
      replicas: 2,
      image_pull_secrets: ['registry-pull'],
      service_account: 'web',
    };
    const result = await putIn(ns.name)('1', params, files);
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stderr)).toEqual(
      expect.arrayContaining(['serviceaccount/web created', 'secret/registry-pull created']),
    );
    const pods = await appPods(ns.name);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec.serviceAccountName).toBe('web');
      expect(pod.spec.imagePullSecrets).toEqual([{ name: 'registry-pull' }]);
      expect(pod.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
    }
    expect(result.stdout + result.stderr).not.toContain(dockerConfig);
  }, 120_000);
});

describe('configuration from Secrets and ConfigMaps', () => {
  const ns = useNamespace('kdr-realapp');

  test('a changed ConfigMap in manifests makes a new ReplicaSet whose Pods read the new value', async () => {
    const config = (level: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {LOG_LEVEL: ${level}}\n---\n` +
      `apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: ${dbPassword}}\n`;
    const params = {
      manifests: ['deploy/*.yml'],
      env: {
        LOG_LEVEL: { config_map: 'web-config', key: 'LOG_LEVEL' },
        DB_PASSWORD: { secret: 'db', key: 'password' },
      },
    };
    const put = putIn(ns.name);
    const first = await put('1', params, { 'deploy/config.yml': config('info') });
    expect(first.code, first.stderr).toBe(0);
    const before = await readDeployment(ns.name);
    const firstHash = before.spec.template.metadata.annotations[configHash];
    expect(firstHash).toMatch(/^[0-9a-f]{32}$/);
    const [oldPod] = await appPods(ns.name);

    // The same image, only the ConfigMap changed: without the hash the Deployment would not roll out.
    const second = await put('1', params, { 'deploy/config.yml': config('debug') });
    expect(second.code, second.stderr).toBe(0);
    expect(lines(second.stderr)).toEqual(
      expect.arrayContaining(['configmap/web-config configured', 'deployment/web configured']),
    );
    const after = await readDeployment(ns.name);
    expect(after.spec.template.metadata.annotations[configHash]).not.toBe(firstHash);
    const replicaSets = (
      await kubectlJson(['get', 'replicasets', '-l', 'app.kubernetes.io/name=web'], { namespace: ns.name })
    ).items as any[];
    expect(replicaSets).toHaveLength(2);
    const current = replicaSets.find((rs) => rs.spec.replicas === 1)!;
    expect(current.spec.template.metadata.annotations[configHash]).toBe(
      after.spec.template.metadata.annotations[configHash],
    );

    const pods = await waitFor('only the new ReplicaSet’s Pod', async () => {
      const now = await appPods(ns.name);
      return now.length === 1 && now[0].metadata.name !== oldPod.metadata.name && now;
    });
    const [pod] = pods;
    expect(pod.metadata.ownerReferences[0].name).toBe(current.metadata.name);
    expect(pod.spec.containers[0].env).toEqual([
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'LOG_LEVEL', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'LOG_LEVEL' } } },
    ]);
    expect((await kubectlJson(['get', 'configmap', 'web-config'], { namespace: ns.name })).data.LOG_LEVEL).toBe(
      'debug',
    );
    if (kubeletKind() === 'real') {
      // A real container: what the process sees.
      const env = await kubectl(['exec', pod.metadata.name, '--', 'printenv', 'LOG_LEVEL'], { namespace: ns.name });
      expect(env.stdout.trim()).toBe('debug');
    }
    // The Deployment holds the reference only: the password is in the Secret alone (and no output: secret scan).
    expect(JSON.stringify(after)).not.toContain(dbPassword);
  }, 180_000);
});

describe('patches', () => {
  const ns = useNamespace('kdr-realapp');

  test('a Pod annotation and a liveness probe show on the Pods and survive a redeploy', async () => {
    const patch =
      'kind: Deployment\nspec:\n  template:\n    metadata:\n      annotations: {prometheus.io/scrape: "true"}\n' +
      '    spec:\n      containers:\n        - name: web\n' +
      '          livenessProbe: {tcpSocket: {port: http}, periodSeconds: 30}\n';
    const put = putIn(ns.name);
    const patchedPods = async () =>
      waitFor('the patched Pods only', async () => {
        const pods = await appPods(ns.name);
        return (
          pods.length > 0 &&
          pods.every(
            (p) =>
              p.metadata.annotations?.['prometheus.io/scrape'] === 'true' &&
              p.spec.containers[0].livenessProbe?.tcpSocket?.port === 'http',
          ) &&
          pods
        );
      });
    const first = await put('1', { patches: ['deploy/patch.yml'] }, { 'deploy/patch.yml': patch });
    expect(first.code, first.stderr).toBe(0);
    await patchedPods();

    const unpatched = await put('2', {});
    expect(unpatched.code, unpatched.stderr).toBe(0);
    await waitFor('Pods without the patch', async () => {
      const pods = await appPods(ns.name);
      return pods.length === 1 && pods[0].metadata.annotations?.['prometheus.io/scrape'] === undefined;
    });

    const again = await redeploy(ns.name, 1);
    expect(again.code, again.stderr).toBe(0);
    const pods = await patchedPods();
    expect(pods[0].spec.containers[0].image).toBe(readyImage('1').digestRef);

    // What cannot be patched stops the put before any cluster call.
    const bad = await put('1', { patches: ['p.yml'] }, { 'p.yml': 'kind: Service\nspec: {selector: {tier: x}}\n' });
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr).at(-1)).toMatch(
      /^error: params\.patches: p\.yml document 1 \(line 1\): cannot change spec\.selector of service\/web/,
    );
  }, 180_000);
});

describe('replicas: auto', () => {
  const ns = useNamespace('kdr-realapp');
  const podNames = async () => (await appPods(ns.name)).map((p) => p.metadata.name).sort();
  const readyFour = () =>
    waitFor(
      '4 ready Pods',
      async () => {
        const d = await readDeployment(ns.name);
        return d.spec.replicas === 4 && d.status.readyReplicas === 4 && (await appPods(ns.name)).length === 4;
      },
      { timeoutMs: 60_000 },
    );

  test('a Deployment scaled to 4 by hand keeps 4 replicas and all its Pods through a re-put', async () => {
    const put = putIn(ns.name);
    const first = await put('1', { replicas: 1 });
    expect(first.code, first.stderr).toBe(0);
    await kubectl(['scale', 'deployment/web', '--replicas=4'], { namespace: ns.name });
    await readyFour();
    const pods = await podNames();

    for (const attempt of [1, 2]) {
      const again = await put('1', { replicas: 'auto' });
      expect(again.code, `attempt ${attempt}: ${again.stderr}`).toBe(0);
      const d = await readDeployment(ns.name);
      expect(d.spec.replicas).toBe(4);
      expect(await podNames()).toEqual(pods);
    }
    // A new image rolls out at the scale someone else chose.
    const next = await put('2', { replicas: 'auto' });
    expect(next.code, next.stderr).toBe(0);
    await readyFour();
  }, 180_000);

  test('switching from replicas: 4 to auto hands the field over: the count stays and no Pod ends', async () => {
    const put = putIn(ns.name);
    const first = await put('1', { replicas: 4 });
    expect(first.code, first.stderr).toBe(0);
    await readyFour();
    const pods = await podNames();
    // kubectl leaves managedFields out unless asked.
    const withManagedFields = () =>
      kubectlJson(['get', 'deployment', 'web', '--show-managed-fields'], { namespace: ns.name });
    const owners = (d: any) =>
      (d.metadata.managedFields as any[]).filter((m) => m.fieldsV1?.['f:spec']?.['f:replicas']).map((m) => m.manager);
    expect(owners(await withManagedFields())).toEqual(['kubernetes-deploy-resource']);

    const auto = await put('1', { replicas: 'auto' });
    expect(auto.code, auto.stderr).toBe(0);
    const d = await withManagedFields();
    expect(d.spec.replicas).toBe(4);
    expect(await podNames()).toEqual(pods);
    expect(owners(d)).toEqual(['kubernetes-deploy-resource-handover']);
    expect(lines(auto.stderr)).toContain(
      'deployment/web: handing spec.replicas (4) over (replicas: auto): a put no longer sets it',
    );

    // An autoscaler (here: another field manager's apply) takes the field; the put never sets it again.
    await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=autoscaler-standin', '-f', '-'], {
      namespace: ns.name,
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { replicas: 3 },
      }),
    });
    const third = await put('1', { replicas: 'auto' });
    expect(third.code, third.stderr).toBe(0);
    expect(lines(third.stderr).some((l) => l.includes('handing spec.replicas'))).toBe(false);
    expect((await readDeployment(ns.name)).spec.replicas).toBe(3);
  }, 180_000);
});
