// The destructive paths of the engine (prune, rollback, redeploy, teardown, the lock) on the fake cluster, where what
// comes out of the cluster (records, labels, a lease) is input to check, not an instruction (issue 23).
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { deployRelease } from '../../src/engine/deploy.js';
import { LockLostError, acquireReleaseLock, lockName } from '../../src/engine/lock.js';
import { createdForLabel } from '../../src/engine/namespace.js';
import {
  decodeRecord,
  encodeRecord,
  listRecords,
  recordLabel,
  recordName,
  recordStatus,
  type ReleaseRecord,
} from '../../src/engine/records.js';
import { readRecordedRelease } from '../../src/engine/redeploy.js';
import { teardownRelease } from '../../src/engine/teardown.js';
import { ApiRejectedError, RolloutFailedError } from '../../src/errors.js';
import { labelKeys, managedBy } from '../../src/kube/labels.js';
import type { KubeObject } from '../../src/kube/object.js';
import { FakeCluster, deploymentController } from '../support/fake-cluster.js';
import { deployInput, fakeWithController, foreign, releaseObjects, teardownInput } from '../support/fake-release.js';

const configMaps = (...names: string[]) =>
  names.map((name) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: b}\n`).join('---\n');

const statusOf = (fake: FakeCluster, revision: number) =>
  recordStatus(
    fake
      .objects('Secret', 'ns')
      .find(
        (s) =>
          s.metadata.labels?.[recordLabel.release] === 'web' &&
          s.metadata.labels?.[recordLabel.revision] === String(revision),
      )!,
  );
const configMapKey = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name });

describe('prune (item 7)', () => {
  test('a refused delete does not fail the put: the revision is deployed, what was not pruned reported', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { manifests: configMaps('a', 'b'), prune: true })));
    fake.fail({ verb: 'remove', kind: 'ConfigMap', name: 'a', status: 403, message: 'forbidden' });
    const input = deployInput(fake, { image: 'registry.local/team/web:2', prune: true });
    const result = await fake.clock.run(deployRelease(input));
    expect(result.revision).toBe(2);
    expect(result.pruned).toEqual(['configmap/b']);
    expect(result.notPruned).toEqual([expect.stringMatching(/^configmap\/a \(.*forbidden/)]);
    expect(statusOf(fake, 2)).toBe('deployed');
    expect(fake.get('v1', 'ConfigMap', 'ns', 'a')).toBeDefined();
    expect(input.log.lines).toContainEqual(expect.stringMatching(/^warning: could not delete configmap\/a \(/));
    // The record is marked deployed before anything is pruned.
    const log = fake.log('patchMetadata', 'remove');
    expect(log.indexOf('patchMetadata secret/kdr-release.web.v2')).toBeLessThan(log.indexOf('remove configmap/b'));
  });

  test("a dry run's to_prune lists only objects still there and still ours", async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { manifests: configMaps('a', 'b', 'c'), prune: true })));
    fake.update(configMapKey('a'), (o) => (o.metadata.labels = { owner: 'someone-else' }));
    await fake.client().remove(configMapKey('b'));
    const result = await fake.clock.run(
      deployRelease(deployInput(fake, { image: 'registry.local/team/web:2', prune: true, dryRun: true })),
    );
    expect(result.pruned).toEqual(['configmap/c']);
  });

  test('the object deleted is the one read: one replaced meanwhile (another uid) is not deleted', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { manifests: configMaps('a'), prune: true })));
    // Between the prune's read and its delete, the ConfigMap is deleted and created again by someone else.
    const original = fake.get('v1', 'ConfigMap', 'ns', 'a')!;
    const input = deployInput(fake, { image: 'registry.local/team/web:2', prune: true });
    const client = input.cluster;
    let swapped = false;
    input.cluster = {
      ...client,
      read: async (key) => {
        const found = await client.read(key);
        if (key.kind === 'ConfigMap' && found && !swapped) {
          swapped = true;
          await fake.client().remove(key, 'Background');
          fake.seed({ ...original, metadata: { ...original.metadata, uid: 'someone-elses' } });
        }
        return found;
      },
    };
    const result = await fake.clock.run(deployRelease(input));
    expect(result.pruned).toEqual([]);
    expect(result.notPruned).toEqual([expect.stringMatching(/^configmap\/a \(.*Precondition failed/)]);
    expect(fake.get('v1', 'ConfigMap', 'ns', 'a')?.metadata.uid).toBe('someone-elses');
    expect(fake.get('v1', 'ConfigMap', 'ns', 'a')?.metadata.labels?.[labelKeys.instance]).toBe('web');
  });
});

const ours = { [labelKeys.instance]: 'web', [labelKeys.managedBy]: managedBy };
const bindingKind = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' };
const adminBinding = (namespace?: string): KubeObject => ({
  ...bindingKind,
  metadata: { name: 'pwned', ...(namespace ? { namespace } : {}), labels: ours },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'ns' }],
});

/** A record as someone who may write Secrets in the namespace could write it: revision 7 of web, "deployed". */
function forgedRecord(objects: KubeObject[], change: Partial<ReleaseRecord> = {}): KubeObject {
  return encodeRecord(
    {
      app: 'web',
      namespace: 'ns',
      revision: 7,
      image: { repository: 'registry.local/team/web', tag: '1', ref: 'registry.local/team/web:1' },
      objects,
      build: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      contentHash: 'forged',
      ...change,
    },
    'deployed',
  );
}

const messageOf = async (promise: Promise<unknown>) => ((await promise.catch((e: unknown) => e)) as Error).message;

describe('release records are input (item 2)', () => {
  test("a redeploy of a forged record's ClusterRoleBinding is refused: cluster-scoped, nothing written", async () => {
    const fake = fakeWithController();
    fake.defineKind(bindingKind.apiVersion, bindingKind.kind, false);
    fake.seed(forgedRecord([adminBinding('ns'), ...releaseObjects()]));
    const input = deployInput(fake);
    const error = await fake.clock
      .run(readRecordedRelease(input, 7).then((release) => deployRelease({ ...input, release })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect((error as Error).message).toContain('clusterrolebinding/pwned is cluster-scoped');
    expect(fake.objects('ClusterRoleBinding')).toEqual([]);
    expect(fake.objects('Deployment', 'ns')).toEqual([]);
  });

  test('a rollback to a forged record never creates its ClusterRoleBinding (nor anything else of it)', async () => {
    const fake = fakeWithController((d) =>
      JSON.stringify(d).includes('web:bad') ? { pods: { waiting: 'ImagePullBackOff' } } : { pods: 'ready' },
    );
    fake.defineKind(bindingKind.apiVersion, bindingKind.kind, false);
    await fake.clock.run(deployRelease(deployInput(fake)));
    // The newest deployed revision, as far as the labels say: what a rollback goes back to.
    fake.seed(forgedRecord([adminBinding('ns'), ...releaseObjects({ image: 'registry.local/team/web:forged' })]));
    const input = deployInput(fake, { image: 'registry.local/team/web:bad', onFailure: 'rollback' });
    await expect(fake.clock.run(deployRelease(input))).rejects.toBeInstanceOf(RolloutFailedError);
    expect(fake.objects('ClusterRoleBinding')).toEqual([]);
    expect(JSON.stringify(fake.get('apps/v1', 'Deployment', 'ns', 'web'))).not.toContain('web:forged');
    expect(input.log.lines).toContainEqual(
      expect.stringMatching(
        /^warning: could not roll back to revision 7: .*clusterrolebinding\/pwned is cluster-scoped/,
      ),
    );
  });

  test('a record whose objects go to another namespace, or are not labelled ours, is not used at all', async () => {
    const fake = fakeWithController();
    const elsewhere = releaseObjects({ namespace: 'kube-system' });
    fake.seed(forgedRecord(elsewhere));
    const input = deployInput(fake);
    expect(await messageOf(fake.clock.run(readRecordedRelease(input, 7)))).toBe(
      `secret/${recordName('web', 7)} in namespace ns is not a release record this resource wrote ` +
        '(deployment/web names namespace "kube-system"); nothing of it is used: delete it, ' +
        'and ask who can write Secrets in the namespace',
    );
    const unlabelled = releaseObjects().map((o) => ({ ...o, metadata: { ...o.metadata, labels: {} } }));
    fake.seed(forgedRecord(unlabelled));
    expect(await messageOf(fake.clock.run(readRecordedRelease(input, 7)))).toContain(
      'deployment/web does not carry the ownership labels of release web',
    );
  });

  test("a record's fields must match the Secret that holds them (app, namespace, revision, name)", () => {
    const good = forgedRecord(releaseObjects());
    expect(decodeRecord(good).revision).toBe(7);
    // The Secret of revision 7 of web, holding what another record would say.
    const holding = (change: Partial<ReleaseRecord>) => ({
      ...good,
      data: forgedRecord(releaseObjects(), change).data,
    });
    const cases: [KubeObject, string][] = [
      [holding({ app: 'api' }), 'it names app "api", its labels "web"'],
      [holding({ namespace: 'other' }), 'it names namespace "other"'],
      [holding({ revision: 1e30 }), 'it names revision 1e+30, its labels 7'],
      [
        { ...good, metadata: { ...good.metadata, labels: { ...good.metadata.labels, [recordLabel.revision]: '8' } } },
        'it names revision 7, its labels 8',
      ],
      [{ ...good, metadata: { ...good.metadata, name: 'kdr-release.web.v8' } }, 'its name is not kdr-release.web.v7'],
      [{ ...good, type: 'Opaque' }, 'its type is not kubernetes-deploy-resource.io/release.v1'],
    ];
    for (const [secret, why] of cases) expect(() => decodeRecord(secret)).toThrow(`(${why})`);
  });

  test('inflating a record is bounded: a gzip bomb is refused at 16 MiB, in well under a second', () => {
    const bomb = gzipSync(Buffer.alloc(24 * 1024 * 1024, 0x20)).toString('base64');
    const secret = { ...forgedRecord([]), data: { release: bomb } };
    const started = performance.now();
    expect(() => decodeRecord(secret)).toThrow('(data.release inflates to more than 16 MiB)');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test('a Secret labelled as a record whose name does not match is not a record: check never lists it', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake)));
    const real = fake.get('v1', 'Secret', 'ns', recordName('web', 1))!;
    fake.seed({ ...real, metadata: { ...real.metadata, name: 'planted', uid: undefined } });
    fake.seed({
      ...real,
      metadata: {
        ...real.metadata,
        name: 'kdr-release.web.v1e+30',
        uid: undefined,
        labels: { ...real.metadata.labels, [recordLabel.revision]: '1e+30' },
      },
    });
    const listed = await listRecords(fake.client(), 'ns', 'web');
    expect(listed.map((r) => r.metadata.name)).toEqual([recordName('web', 1)]);
  });

  test('teardown never lists or deletes a cluster-scoped kind a record names, even one labelled ours', async () => {
    const fake = fakeWithController();
    fake.defineKind(bindingKind.apiVersion, bindingKind.kind, false);
    await fake.clock.run(deployRelease(deployInput(fake)));
    fake.seed(adminBinding());
    fake.seed(forgedRecord([{ ...adminBinding(), metadata: { ...adminBinding().metadata, namespace: 'ns' } }]));
    const input = teardownInput(fake);
    const result = await fake.clock.run(teardownRelease(input));
    expect(result.deleted.sort()).toEqual(['deployment/web', 'service/web']);
    expect(fake.objects('ClusterRoleBinding').map((o) => o.metadata.name)).toEqual(['pwned']);
    expect(fake.log('list').filter((l) => l.includes('clusterrolebinding'))).toEqual([]);
  });

  test('teardown with a record naming a kind the server no longer knows (CRD uninstalled) goes on', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake)));
    const widget = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'ns', labels: ours },
    };
    fake.seed(forgedRecord([widget]));
    const result = await fake.clock.run(teardownRelease(teardownInput(fake)));
    expect(result.deleted.sort()).toEqual(['deployment/web', 'service/web']);
  });
});

describe('rollback (item 3)', () => {
  const badImage = (d: KubeObject) =>
    JSON.stringify(d).includes('web:bad')
      ? { pods: { waiting: 'ImagePullBackOff', message: 'not found' } as const }
      : { pods: 'ready' as const };

  test("does not take over a same-named object that is now someone else's", async () => {
    const fake = fakeWithController(badImage);
    await fake.clock.run(deployRelease(deployInput(fake, { manifests: configMaps('a') })));
    await fake.client().remove(configMapKey('a'));
    fake.seed(foreign('ConfigMap', 'a'));
    const input = deployInput(fake, { image: 'registry.local/team/web:bad', onFailure: 'rollback' });
    await expect(fake.clock.run(deployRelease(input))).rejects.toBeInstanceOf(RolloutFailedError);
    expect(fake.get('v1', 'ConfigMap', 'ns', 'a')?.metadata.labels).toEqual({ owner: 'someone-else' });
    expect(input.log.lines).toContainEqual(
      expect.stringMatching(/^warning: could not roll back to revision 1: configmap\/a already exists/),
    );
  });

  test('with prune: false prunes nothing', async () => {
    const fake = fakeWithController(badImage);
    await fake.clock.run(deployRelease(deployInput(fake)));
    const input = deployInput(fake, {
      image: 'registry.local/team/web:bad',
      manifests: configMaps('added'),
      onFailure: 'rollback',
      prune: false,
    });
    await expect(fake.clock.run(deployRelease(input))).rejects.toBeInstanceOf(RolloutFailedError);
    expect(input.log.lines).toContain('rolled back to revision 1');
    expect(fake.get('v1', 'ConfigMap', 'ns', 'added')).toBeDefined();
  });
});

describe('delete_namespace (item 4)', () => {
  test("keeps a namespace another app of the resource deploys to; the app's own release goes", async () => {
    const fake = deploymentController(new FakeCluster(), () => ({ pods: 'ready' }));
    await fake.clock.run(deployRelease(deployInput(fake, { createNamespace: true })));
    await fake.clock.run(deployRelease(deployInput(fake, { app: 'api' })));
    const input = teardownInput(fake, { deleteNamespace: true });
    const result = await fake.clock.run(teardownRelease(input));
    expect(result.deleted.sort()).toEqual(['deployment/web', 'service/web']);
    expect(result.namespaceDeleted).toBe(false);
    expect(fake.get('v1', 'Namespace', undefined, 'ns')?.metadata.labels?.[createdForLabel]).toBe('web');
    expect(fake.get('apps/v1', 'Deployment', 'ns', 'api')).toBeDefined();
    expect(input.log.lines).toContain(
      'warning: namespace ns also holds release api of this resource: left in place ' +
        '(delete_namespace only deletes a namespace no other app deploys to)',
    );
  });

  test('the namespace is deleted while the lock is held, and only the one read (uid)', async () => {
    const fake = deploymentController(new FakeCluster(), () => ({ pods: 'ready' }));
    await fake.clock.run(deployRelease(deployInput(fake, { createNamespace: true })));
    const result = await fake.clock.run(teardownRelease(teardownInput(fake, { deleteNamespace: true })));
    expect(result.namespaceDeleted).toBe(true);
    const removes = fake.log('remove');
    expect(removes.indexOf('remove namespace/ns')).toBeLessThan(removes.lastIndexOf(`remove lease/${lockName('web')}`));
  });
});

describe('the lease is a fence (item 5)', () => {
  const leaseKey = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'ns', name: lockName('web') };
  const holderOf = (fake: FakeCluster) =>
    (fake.get(leaseKey.apiVersion, leaseKey.kind, 'ns', leaseKey.name)?.spec as { holderIdentity?: string })
      ?.holderIdentity;

  test('a put whose lease was taken over stops writing, and leaves the new holder its lease', async () => {
    const fake = fakeWithController(() => ({ pods: 'pending' }));
    // 20 s into the rollout another put takes the lease over (as after a missed renewal).
    fake.clock.setTimeout(
      () => fake.update(leaseKey, (l) => ((l.spec as { holderIdentity: string }).holderIdentity = 'put two')),
      20_000,
    );
    const input = deployInput(fake, { timeoutMs: 120_000 });
    const started = fake.clock.now();
    const error = await fake.clock.run(deployRelease(input)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as Error).message).toBe(
      `lost the lock of release web in namespace ns (lease/${lockName('web')} taken over by put two); stopped ` +
        'before writing anything more: another put may be deploying it now (run this put again once it is done)',
    );
    // Found at the next renewal (every 10 s), not at the timeout.
    expect(fake.clock.now() - started).toBeLessThanOrEqual(31_000);
    // No write after the loss: the record is left for the holder, the lease is not deleted.
    expect(fake.log('patchMetadata')).toEqual([]);
    expect(holderOf(fake)).toBe('put two');
    expect(fake.log('remove')).toEqual([]);
  });

  test('a lease not renewed for its duration (the API unreachable) is lost: no write after it', async () => {
    const fake = fakeWithController(() => ({ pods: 'pending' }));
    fake.fail({ verb: 'replace', kind: 'Lease', status: 503, times: Infinity });
    const input = deployInput(fake, { timeoutMs: 120_000 });
    const error = await fake.clock.run(deployRelease(input)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as Error).message).toContain(`(lease/${lockName('web')} not renewed for 30s)`);
    expect(fake.log('patchMetadata')).toEqual([]);
  });

  test('releasing deletes only the lease as it last wrote it, never one taken over since', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    const lock = await fake.clock.run(acquireReleaseLock({ ...deployInput(fake), leaseSeconds: 30 }));
    fake.update(leaseKey, (l) => ((l.spec as { holderIdentity: string }).holderIdentity = 'put two'));
    await lock.release();
    expect(holderOf(fake)).toBe('put two');
  });
});
