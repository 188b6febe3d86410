// The teardown (src/engine/teardown.ts) on the fake cluster: only the release's own objects go, foreign ones stay,
// the records last, the namespace only when this resource created it; waits on the fake clock.
import { describe, expect, test } from 'vitest';
import { deployRelease } from '../../src/engine/deploy.js';
import { recordLabel, recordName } from '../../src/engine/records.js';
import { teardownRelease } from '../../src/engine/teardown.js';
import { AbortedError, TimedOutError } from '../../src/errors.js';
import { labelKeys } from '../../src/kube/labels.js';
import { FakeCluster, deploymentController } from '../support/fake-cluster.js';
import { deployInput, fakeWithController, foreign, ownedBy, teardownInput } from '../support/fake-release.js';

const extras = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: staging}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: gadget}
spec: {size: 3}
`;

/**
 * A fake with release `web` deployed twice (revisions 1 and 2) with extras and an ingress, and release `api` beside
 * it.
 */
async function deployed(fake = fakeWithController()) {
  fake.defineKind('example.com/v1', 'Widget', true);
  await fake.clock.run(deployRelease(deployInput(fake, { manifests: extras, host: 'web.example.com' })));
  await fake.clock.run(
    deployRelease(
      deployInput(fake, { manifests: extras, host: 'web.example.com', image: 'registry.local/team/web:2' }),
    ),
  );
  await fake.clock.run(deployRelease(deployInput(fake, { app: 'api' })));
  return fake;
}

const names = (fake: FakeCluster, kind: string) => fake.objects(kind, 'ns').map((o) => o.metadata.name);

describe('teardown', () => {
  test(
    'deletes every object of the release (extras, ReplicaSets and Pods too), then its records; ' +
      'leaves other releases',
    async () => {
      const fake = await deployed();
      const input = teardownInput(fake);
      const result = await fake.clock.run(teardownRelease(input));
      expect(result).toEqual({
        deleted: expect.arrayContaining([
          'ingress/web',
          'service/web',
          'deployment/web',
          'configmap/settings',
          'widget/gadget',
        ]),
        leftAlone: [],
        keptVolumes: [],
        lastRevision: 2,
        lastImage: 'registry.local/team/web:2',
        namespaceDeleted: false,
      });
      expect(result.deleted).toHaveLength(5);
      expect(names(fake, 'Deployment')).toEqual(['api']);
      expect(names(fake, 'Service')).toEqual(['api']);
      expect(fake.objects('Widget', 'ns')).toEqual([]);
      expect(fake.objects('Pod', 'ns').every((p) => p.metadata.labels?.[labelKeys.instance] === 'api')).toBe(true);
      expect(fake.objects('Secret', 'ns').map((s) => s.metadata.labels?.[recordLabel.release])).toEqual(['api']);
      // The records go last, after every object is gone; the lock is released.
      const removes = fake.log('remove');
      const firstRecord = removes.findIndex((r) => r.startsWith('remove secret/kdr-release.web'));
      expect(removes.slice(firstRecord)).toEqual([
        `remove secret/${recordName('web', 1)}`,
        `remove secret/${recordName('web', 2)}`,
        'remove lease/kdr-lock.web',
      ]);
      expect(fake.objects('Lease')).toEqual([]);
    },
  );

  test("an object that lost our labels, or someone else's of a release name, is left alone and reported", async () => {
    const fake = await deployed();
    fake.update(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'settings' },
      (o) => (o.metadata.labels = { taken: 'over' }),
    );
    await fake.client().remove({ apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'web' });
    fake.seed(foreign('Service', 'web'));
    const input = teardownInput(fake);
    const result = await fake.clock.run(teardownRelease(input));
    expect(result.leftAlone.sort()).toEqual(['configmap/settings', 'service/web']);
    expect(result.deleted.sort()).toEqual(['deployment/web', 'ingress/web', 'widget/gadget']);
    expect(fake.get('v1', 'ConfigMap', 'ns', 'settings')).toBeDefined();
    expect(fake.get('v1', 'Service', 'ns', 'web')?.metadata.labels).toEqual({ owner: 'someone-else' });
    expect(input.log.lines).toContain(
      'warning: configmap/settings in namespace ns is not managed by release web: left alone',
    );
    expect(fake.log('remove').filter((r) => r.includes('settings') || r === 'remove service/web')).toEqual([
      'remove service/web',
    ]);
  });

  test('waits on the clock until lingering objects are gone, with one line per change', async () => {
    const fake = await deployed();
    fake.lingerOnDelete('Pod', 3000);
    const input = teardownInput(fake);
    const started = fake.clock.now();
    await fake.clock.run(teardownRelease(input));
    expect(fake.clock.now() - started).toBeGreaterThanOrEqual(3000);
    expect(fake.clock.now() - started).toBeLessThan(5000);
    expect(input.log.lines.filter((l) => l.startsWith('waiting for'))).toEqual([
      expect.stringMatching(/^waiting for 2 objects to be deleted: pod\/web-\w+-0, pod\/web-\w+-1$/),
    ]);
    expect(fake.objects('Secret', 'ns').some((s) => s.metadata.labels?.[recordLabel.release] === 'web')).toBe(false);
  });

  test('times out when an object never goes (a stuck finalizer), and keeps the records for the next try', async () => {
    const fake = await deployed();
    fake.lingerOnDelete('Deployment', Infinity, 'web');
    const started = fake.clock.now();
    const error = await fake.clock
      .run(teardownRelease(teardownInput(fake, { timeoutMs: 30_000 })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimedOutError);
    expect((error as Error).message).toBe(
      'timed out after 30s waiting for release web to be deleted: deployment/web still there',
    );
    expect(fake.clock.now() - started).toBeGreaterThanOrEqual(30_000);
    expect(fake.clock.now() - started).toBeLessThanOrEqual(31_000);
    expect(fake.get('v1', 'Secret', 'ns', recordName('web', 2))).toBeDefined();
    expect(fake.objects('Lease')).toEqual([]);

    // The next teardown, once the finalizer is gone, finishes the job.
    fake.lingerOnDelete('Deployment', 0, 'web');
    fake.update(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' },
      (d) => delete d.metadata.deletionTimestamp,
    );
    const again = await fake.clock.run(teardownRelease(teardownInput(fake)));
    expect(again.deleted).toEqual(['deployment/web']);
    expect(fake.get('v1', 'Secret', 'ns', recordName('web', 2))).toBeUndefined();
  });

  test('an abort stops the wait; the lock is released', async () => {
    const fake = await deployed();
    fake.lingerOnDelete('Pod', Infinity);
    const controller = new AbortController();
    fake.clock.setTimeout(() => controller.abort(new AbortedError('aborted: SIGTERM')), 2000);
    const error = await fake.clock
      .run(teardownRelease(teardownInput(fake, { signal: controller.signal, cluster: fake.client(controller.signal) })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(fake.objects('Lease')).toEqual([]);
  });

  test('a record that cannot be decoded: warned about, the objects found by label, the record deleted', async () => {
    const fake = await deployed();
    fake.update(
      { apiVersion: 'v1', kind: 'Secret', namespace: 'ns', name: recordName('web', 2) },
      (s) => (s.data = { release: 'bm90IGd6aXA=' }),
    );
    const input = teardownInput(fake);
    const result = await fake.clock.run(teardownRelease(input));
    expect(input.log.lines).toContain(
      `warning: secret/${recordName('web', 2)} is not a readable release record; its objects are found by label only`,
    );
    // Revision 1 still names the Widget kind, so it is found too.
    expect(result.deleted.sort()).toEqual([
      'configmap/settings',
      'deployment/web',
      'ingress/web',
      'service/web',
      'widget/gadget',
    ]);
    expect(result.lastRevision).toBe(1);
    expect(fake.objects('Secret', 'ns').some((s) => s.metadata.labels?.[recordLabel.release] === 'web')).toBe(false);
  });

  test('the version of a teardown names the last deployed release, not a failed attempt since', async () => {
    const fake = fakeWithController((d) =>
      JSON.stringify(d).includes('web:bad')
        ? { pods: { waiting: 'ImagePullBackOff', message: 'not found' } }
        : { pods: 'ready' },
    );
    await fake.clock.run(deployRelease(deployInput(fake)));
    await expect(
      fake.clock.run(deployRelease(deployInput(fake, { image: 'registry.local/team/web:bad' }))),
    ).rejects.toThrow();
    const result = await fake.clock.run(teardownRelease(teardownInput(fake)));
    expect(result).toMatchObject({ lastRevision: 1, lastImage: 'registry.local/team/web:1' });
  });

  test('nothing there: an empty result, no error (the re-put of a teardown)', async () => {
    const fake = await deployed();
    await fake.clock.run(teardownRelease(teardownInput(fake)));
    const again = await fake.clock.run(teardownRelease(teardownInput(fake)));
    expect(again).toEqual({
      deleted: [],
      leftAlone: [],
      keptVolumes: [],
      lastRevision: undefined,
      lastImage: undefined,
      namespaceDeleted: false,
    });
  });
});

describe('teardown and the namespace', () => {
  test(
    'delete_namespace deletes a namespace this resource created for the app, ' + 'and waits until it is gone',
    async () => {
      const fake = deploymentController(new FakeCluster(), () => ({ pods: 'ready' }));
      await fake.clock.run(deployRelease(deployInput(fake, { createNamespace: true })));
      fake.lingerOnDelete('Namespace', 4000);
      const input = teardownInput(fake, { deleteNamespace: true });
      const started = fake.clock.now();
      const result = await fake.clock.run(teardownRelease(input));
      expect(result.namespaceDeleted).toBe(true);
      expect(fake.get('v1', 'Namespace', undefined, 'ns')).toBeUndefined();
      expect(fake.clock.now() - started).toBeGreaterThanOrEqual(4000);
      expect(input.log.lines.at(-1)).toBe('namespace ns deleted');
    },
  );

  test('a namespace not created by this resource (or for another app) stays, with a warning', async () => {
    const fake = await deployed();
    const input = teardownInput(fake, { deleteNamespace: true });
    const result = await fake.clock.run(teardownRelease(input));
    expect(result.namespaceDeleted).toBe(false);
    expect(fake.get('v1', 'Namespace', undefined, 'ns')).toBeDefined();
    expect(input.log.lines).toContain(
      'warning: namespace ns was not created by this resource for web: left in place ' +
        '(delete_namespace only deletes namespaces it created)',
    );
    expect(names(fake, 'Deployment')).toEqual(['api']);
  });

  test('a namespace created for another app stays', async () => {
    const fake = deploymentController(new FakeCluster(), () => ({ pods: 'ready' }));
    await fake.clock.run(deployRelease(deployInput(fake, { app: 'api', createNamespace: true })));
    await fake.clock.run(deployRelease(deployInput(fake)));
    const result = await fake.clock.run(teardownRelease(teardownInput(fake, { deleteNamespace: true })));
    expect(result.namespaceDeleted).toBe(false);
    expect(names(fake, 'Deployment')).toEqual(['api']);
  });

  test('a missing namespace: the release is already gone, with or without delete_namespace', async () => {
    const fake = new FakeCluster();
    for (const deleteNamespace of [false, true]) {
      const input = teardownInput(fake, { deleteNamespace });
      expect(await fake.clock.run(teardownRelease(input))).toEqual({
        deleted: [],
        leftAlone: [],
        keptVolumes: [],
        namespaceDeleted: false,
      });
      expect(input.log.lines).toEqual(['namespace ns does not exist: release web is already gone']);
    }
  });

  test('objects planted with our labels by hand are ours too (found by label, not by record)', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    fake.seed({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'ns', labels: ownedBy('web') },
    });
    const result = await fake.clock.run(teardownRelease(teardownInput(fake)));
    expect(result.deleted).toEqual(['service/web']);
  });
});

describe("teardown and the claims of the release's StatefulSets", () => {
  const statefulSet = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {role: db}}
  template:
    metadata: {labels: {role: db}}
    spec: {containers: [{name: db, image: registry.local/team/db:1}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`;
  const claim = (name: string, labels: Record<string, string> = { role: 'db' }) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'ns', labels },
  });

  /** Release web with StatefulSet db, the two claims its controller made, and two claims that are not its. */
  async function withClaims() {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { manifests: statefulSet, wait: false })));
    for (const name of ['data-db-0', 'data-db-1']) fake.seed(claim(name));
    fake.seed(claim('data-db-x'));
    fake.seed(claim('data-other-0', { role: 'other' }));
    return fake;
  }

  test('deleted once the StatefulSet is gone, and waited for; claims not made from its templates stay', async () => {
    const fake = await withClaims();
    fake.lingerOnDelete('PersistentVolumeClaim', 1500);
    const input = teardownInput(fake);
    const started = fake.clock.now();
    const result = await fake.clock.run(teardownRelease(input));
    expect(result.deleted).toEqual(
      expect.arrayContaining(['statefulset/db', 'persistentvolumeclaim/data-db-0', 'persistentvolumeclaim/data-db-1']),
    );
    expect(result.keptVolumes).toEqual([]);
    expect(names(fake, 'PersistentVolumeClaim').sort()).toEqual(['data-db-x', 'data-other-0']);
    expect(fake.clock.now() - started).toBeGreaterThanOrEqual(1500);
    expect(input.log.lines).toContain('persistentvolumeclaim/data-db-0 deleted (volume claim of a StatefulSet)');
    expect(input.log.lines).toContain(
      'waiting for 2 objects to be deleted: persistentvolumeclaim/data-db-0, persistentvolumeclaim/data-db-1',
    );
  });

  test('a claim that never goes (pvc-protection): timed out, naming it and why, the records kept', async () => {
    const fake = await withClaims();
    fake.lingerOnDelete('PersistentVolumeClaim', Infinity, 'data-db-1');
    const error = await fake.clock
      .run(teardownRelease(teardownInput(fake, { timeoutMs: 8000 })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimedOutError);
    expect((error as Error).message).toBe(
      'timed out after 8.0s waiting for the volume claims of release web to be deleted: ' +
        'persistentvolumeclaim/data-db-1 still there ' +
        '(the kubernetes.io/pvc-protection finalizer keeps a claim while a Pod uses it)',
    );
    expect(fake.get('v1', 'Secret', 'ns', recordName('web', 1))).toBeDefined();
  });

  test('keep_volumes: the claims stay and are reported as kept', async () => {
    const fake = await withClaims();
    const input = teardownInput(fake, { keepVolumes: true });
    const result = await fake.clock.run(teardownRelease(input));
    expect(result.keptVolumes).toEqual(['persistentvolumeclaim/data-db-0', 'persistentvolumeclaim/data-db-1']);
    expect(result.deleted).not.toContain('persistentvolumeclaim/data-db-0');
    expect(names(fake, 'PersistentVolumeClaim').sort()).toEqual([
      'data-db-0',
      'data-db-1',
      'data-db-x',
      'data-other-0',
    ]);
    expect(input.log.lines).toContain(
      "keeping 2 volume claims of the release's StatefulSets (keep_volumes: true): " +
        'persistentvolumeclaim/data-db-0, persistentvolumeclaim/data-db-1',
    );
  });
});
