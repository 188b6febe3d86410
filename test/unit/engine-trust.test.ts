// The destructive paths of the engine (prune, rollback, redeploy, teardown, the lock) on the fake cluster, where what
// comes out of the cluster (records, labels, a lease) is input to check, not an instruction (issue 23).
import { describe, expect, test } from 'vitest';
import { deployRelease } from '../../src/engine/deploy.js';
import { recordLabel, recordStatus } from '../../src/engine/records.js';
import { labelKeys } from '../../src/kube/labels.js';
import { FakeCluster } from '../support/fake-cluster.js';
import { deployInput, fakeWithController } from '../support/fake-release.js';

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
