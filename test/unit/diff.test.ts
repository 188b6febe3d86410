import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { KubeObject } from '../../src/kube/object.js';
import { diffObject, formatDiffSummary, type ObjectDiff } from '../../src/output/diff.js';

/** A Deployment as the API server returns it: defaults filled, server-set fields, status. */
function liveDeployment(image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'staging',
      uid: '0f6a1c2e-1111-2222-3333-444455556666',
      resourceVersion: '4711',
      generation: 3,
      creationTimestamp: '2026-11-27T08:00:00Z',
      labels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/version': '1.27' },
      annotations: { 'deployment.kubernetes.io/revision': '3', 'kubernetes-deploy-resource.io/build': '41' },
      managedFields: [{ manager: 'kubernetes-deploy-resource', operation: 'Apply', time: '2026-11-27T08:00:00Z' }],
    },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { creationTimestamp: null, labels: { 'app.kubernetes.io/name': 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
            },
          ],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
        },
      },
    },
    status: { observedGeneration: 3, replicas: 2, readyReplicas: 2, availableReplicas: 2 },
  };
}

/** What a dry-run apply of the same Deployment returns: the same object, with what every write changes changed. */
function dryRunOf(live: KubeObject, change: (object: any) => void = () => {}): KubeObject {
  const object = structuredClone(live) as any;
  object.metadata.resourceVersion = '4712';
  object.metadata.generation = 4;
  object.metadata.managedFields[0].time = '2026-11-27T09:30:00Z';
  object.status.observedGeneration = 3;
  change(object);
  return object as KubeObject;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('diffObject', () => {
  test('an object the apply would create is all additions, numbered from 0 on the live side', () => {
    const configMap: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'web-extra',
        namespace: 'staging',
        uid: 'u',
        resourceVersion: '1',
        creationTimestamp: '2026-11-27T09:30:00Z',
      },
      data: { mode: 'fast' },
    };
    expect(diffObject(undefined, configMap)).toEqual({
      ref: 'configmap/web-extra',
      change: 'created',
      lines: [
        '--- live configmap/web-extra',
        '+++ dry-run configmap/web-extra',
        '@@ -0,0 +1,7 @@',
        '+apiVersion: v1',
        '+kind: ConfigMap',
        '+metadata:',
        '+  name: web-extra',
        '+  namespace: staging',
        '+data:',
        '+  mode: fast',
      ],
    });
  });

  test('a dry run that differs from the live object only in server-set fields and status is unchanged', () => {
    const live = liveDeployment('nginx:1.27');
    const dryRun = dryRunOf(live, (o) => {
      o.metadata.uid = live.metadata.uid;
      o.status = { observedGeneration: 4, replicas: 3 };
      o.metadata.annotations['deployment.kubernetes.io/revision'] = '4';
      o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"kind":"Deployment"}';
    });
    expect(diffObject(live, dryRun)).toEqual({ ref: 'deployment/web', change: 'unchanged', lines: [] });
  });

  test('a different key order is not a change', () => {
    const live = liveDeployment('nginx:1.27');
    const reordered = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reordered);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value)
          .reverse()
          .map(([k, v]) => [k, reordered(v)]),
      );
    };
    const dryRun = reordered(dryRunOf(live)) as KubeObject;
    expect(Object.keys(dryRun)[0]).not.toBe(Object.keys(live)[0]);
    expect(diffObject(live, dryRun).change).toBe('unchanged');
  });

  test('a new image is one changed line in the pod template, with three lines of context', () => {
    const live = liveDeployment('nginx:1.27');
    const dryRun = dryRunOf(live, (o) => {
      o.spec.template.spec.containers[0].image = 'nginx:1.28';
    });
    expect(diffObject(live, dryRun)).toEqual({
      ref: 'deployment/web',
      change: 'changed',
      lines: [
        '--- live deployment/web',
        '+++ dry-run deployment/web',
        '@@ -28,7 +28,7 @@',
        '     spec:',
        '       containers:',
        '         - name: web',
        '-          image: nginx:1.27',
        '+          image: nginx:1.28',
        '           imagePullPolicy: IfNotPresent',
        '           ports:',
        '             - name: http',
      ],
    });
  });

  test('a new build annotation is a real change', () => {
    const live = liveDeployment('nginx:1.27');
    const dryRun = dryRunOf(live, (o) => {
      o.metadata.annotations['kubernetes-deploy-resource.io/build'] = '42';
    });
    const diff = diffObject(live, dryRun);
    expect(diff.change).toBe('changed');
    expect(diff.lines.filter((l) => /^[-+] /.test(l))).toEqual([
      '-    kubernetes-deploy-resource.io/build: "41"',
      '+    kubernetes-deploy-resource.io/build: "42"',
    ]);
  });
});

describe('diffObject on Secrets', () => {
  const values = {
    password: 'hunter2-old-password',
    newPassword: 'correct-horse-battery',
    user: 'admin-user-name',
    gone: 'legacy-token-value',
    token: 'fresh-token-value',
  };
  const liveSecret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'web-db',
      namespace: 'staging',
      resourceVersion: '99',
      // A `kubectl apply` leaves the values in this annotation: it must not reach the diff either.
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          stringData: { password: values.password },
        }),
      },
    },
    type: 'Opaque',
    data: { password: b64(values.password), user: b64(values.user), gone: b64(values.gone) },
  };
  const dryRunSecret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'web-db', namespace: 'staging', resourceVersion: '100' },
    type: 'Opaque',
    data: { user: b64(values.user), password: b64(values.newPassword), token: b64(values.token) },
  };

  /** Every form in which a value could leak: as is, base64 (data), sha256 hex of either. */
  function leakForms(value: string): string[] {
    const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
    return [value, b64(value), sha(value), sha(b64(value)), createHash('sha256').update(value).digest('base64')];
  }

  function expectNoValues(diff: ObjectDiff) {
    const text = JSON.stringify(diff);
    for (const value of Object.values(values)) {
      for (const form of leakForms(value)) expect(text, `leaked ${form}`).not.toContain(form);
    }
  }

  test(
    'values changed, unchanged, added and removed: one line per key, keys only in the YAML, ' + 'no value anywhere',
    () => {
      const diff = diffObject(liveSecret, dryRunSecret);
      expect(diff).toEqual({
        ref: 'secret/web-db',
        change: 'changed',
        lines: [
          '--- live secret/web-db',
          '+++ dry-run secret/web-db',
          '@@ -4,7 +4,7 @@',
          '   name: web-db',
          '   namespace: staging',
          ' data:',
          '-  gone: <redacted>',
          '   password: <redacted>',
          '+  token: <redacted>',
          '   user: <redacted>',
          ' type: Opaque',
          'data.gone: removed',
          'data.password: changed',
          'data.token: added',
          'data.user: unchanged',
        ],
      });
      expectNoValues(diff);
    },
  );

  test('only a value changed: no hunk (the YAML is the same), the key line says so', () => {
    const dryRun = structuredClone(liveSecret) as any;
    delete dryRun.metadata.annotations;
    dryRun.data.password = b64(values.newPassword);
    const diff = diffObject(liveSecret, dryRun);
    expect(diff.lines).toEqual([
      '--- live secret/web-db',
      '+++ dry-run secret/web-db',
      'data.gone: unchanged',
      'data.password: changed',
      'data.user: unchanged',
    ]);
    expect(diff.change).toBe('changed');
    expectNoValues(diff);
  });

  test('the same values are unchanged, whether given as data or stringData', () => {
    const dryRun = structuredClone(dryRunSecret) as any;
    delete dryRun.data;
    dryRun.stringData = { user: values.user, password: values.newPassword, token: values.token };
    const live = { ...dryRunSecret, metadata: { ...dryRunSecret.metadata, resourceVersion: '7' } };
    expect(diffObject(live, dryRun)).toEqual({ ref: 'secret/web-db', change: 'unchanged', lines: [] });
  });

  test('a new Secret shows its keys as added and no value', () => {
    const diff = diffObject(undefined, dryRunSecret);
    expect(diff.change).toBe('created');
    expect(diff.lines.slice(-3)).toEqual(['data.password: added', 'data.token: added', 'data.user: added']);
    expect(diff.lines).toContain('+  password: <redacted>');
    expectNoValues(diff);
  });

  test('the leak check itself finds a value when one is there', () => {
    const leaky: ObjectDiff = { ref: 'secret/x', change: 'changed', lines: [`+  token: ${b64(values.token)}`] };
    expect(() => expectNoValues(leaky)).toThrow();
  });
});

describe('formatDiffSummary', () => {
  const d = (change: ObjectDiff['change']): ObjectDiff => ({ ref: 'x/y', change, lines: [] });

  test('counts in a fixed order', () => {
    const diffs = [d('changed'), d('created'), d('unchanged'), d('changed')];
    expect(formatDiffSummary(diffs, ['configmap/web-extra'])).toBe('2 changed, 1 unchanged, 1 created, 1 to prune');
  });

  test('zero counts are kept, so the shape never changes', () => {
    expect(formatDiffSummary([d('unchanged'), d('unchanged')], [])).toBe(
      '0 changed, 2 unchanged, 0 created, 0 to prune',
    );
    expect(formatDiffSummary([], [])).toBe('0 changed, 0 unchanged, 0 created, 0 to prune');
  });
});
