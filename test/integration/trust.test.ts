// What comes out of the cluster is input (issue 23), against the real cluster through the compiled scripts: a forged
// release record cannot reach outside its namespace (item 2), delete_namespace spares another app's release (item 4),
// and a put whose lease was taken over stops writing (item 5).
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { lockName } from '../../src/engine/lock.js';
import { decodeRecord, encodeRecord, recordLabel, recordName } from '../../src/engine/records.js';
import { labelKeys, managedBy } from '../../src/kube/labels.js';
import type { KubeObject } from '../../src/kube/object.js';
import { kubectl, kubectlJson, useNamespace, waitFor } from '../support/cluster.js';
import { clusterSource, emptyDir } from '../support/release.js';
import { hangingImage, readyImage, unpullableImage } from '../support/images.js';
import { metadataOf, runScript } from '../support/run-script.js';

const ours = (app: string) => ({ [labelKeys.instance]: app, [labelKeys.managedBy]: managedBy });
const put = (namespace: string, params: Record<string, unknown>, app = 'web') =>
  runScript('out', { source: clusterSource({ namespace, app }), params }, { dir: emptyDir() });
const exists = async (args: string[], namespace?: string) =>
  (await kubectl(['get', ...args], { ...(namespace ? { namespace } : {}), allowFailure: true })).code === 0;

/** Writes `kdr-release.web.v7` as someone who may write Secrets in the namespace could: revision 1's, plus `extra`. */
async function forgeRecord(namespace: string, extra: KubeObject[]): Promise<void> {
  const real = await kubectlJson<KubeObject>(['get', 'secret', recordName('web', 1)], { namespace });
  const record = decodeRecord(real);
  const forged = encodeRecord(
    { ...record, revision: 7, objects: [...extra, ...record.objects], contentHash: 'forged' },
    'deployed',
  );
  await kubectl(['apply', '-f', '-'], { namespace, input: JSON.stringify(forged) });
}

describe('release records are input (item 2)', () => {
  const ns = useNamespace('kdr-trust-records');

  test(
    "a forged record's ClusterRoleBinding is never created by a redeploy, nor listed or deleted by a teardown; " +
      'a planted record is never reported by check',
    async () => {
      const binding = `kdr-pwned-${randomBytes(3).toString('hex')}`;
      const adminBinding = (namespace?: string): KubeObject => ({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: binding, ...(namespace ? { namespace } : {}), labels: ours('web') },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns.name }],
      });
      try {
        const first = await put(ns.name, { image_ref: readyImage('1').tagRef });
        expect(first.code, first.stderr).toBe(0);
        await forgeRecord(ns.name, [adminBinding(ns.name)]);

        // A failed put rolls back to the newest deployed revision: the forged one. It is refused, and nothing of it
        // is applied.
        const failing = await put(ns.name, { ...unpullableImage().params, on_failure: 'rollback', timeout: '2m' });
        expect(failing.code, failing.stderr).toBe(5);
        expect(failing.stderr).toMatch(/could not roll back to revision 7: .*is cluster-scoped/);
        expect(await exists(['clusterrolebinding', binding])).toBe(false);

        const redeploy = await put(ns.name, { revision: '7' });
        expect(redeploy.code, redeploy.stderr).toBe(4);
        expect(redeploy.stderr).toContain(`clusterrolebinding/${binding} is cluster-scoped`);
        expect(await exists(['clusterrolebinding', binding])).toBe(false);

        // check: a Secret labelled as a record of web whose name does not say so is not a revision.
        const planted = await kubectlJson<KubeObject>(['get', 'secret', recordName('web', 1)], { namespace: ns.name });
        const plantedCopy = {
          apiVersion: 'v1',
          kind: 'Secret',
          type: planted.type,
          metadata: { name: 'planted', labels: { ...planted.metadata.labels, [recordLabel.revision]: '99' } },
          data: planted.data,
        };
        await kubectl(['apply', '-f', '-'], { namespace: ns.name, input: JSON.stringify(plantedCopy) });
        // (A record well-formed in every way, as v7 is, is reported: who may write Secrets here may deploy anyway.)
        const { app, image } = (first.json as { version: { app: string; image: string } }).version;
        const check = await runScript('check', {
          source: clusterSource({ namespace: ns.name }),
          version: { app, namespace: ns.name, revision: '1', image },
        });
        expect(check.code, check.stderr).toBe(0);
        expect((check.json as { revision: string }[]).map((v) => v.revision)).toEqual(['1', '7']);

        // A cluster-scoped object carrying our labels, whose kind a record names: the teardown never touches it.
        await kubectl(['apply', '-f', '-'], { input: JSON.stringify(adminBinding()) });
        const teardown = await put(ns.name, { delete: true });
        expect(teardown.code, teardown.stderr).toBe(0);
        expect(teardown.stderr).toContain('kind ClusterRoleBinding (rbac.authorization.k8s.io/v1) named by a record');
        expect(await exists(['clusterrolebinding', binding])).toBe(true);
        expect(await exists(['deployment', 'web'], ns.name)).toBe(false);
      } finally {
        await kubectl(['delete', 'clusterrolebinding', binding, '--ignore-not-found'], { allowFailure: true });
      }
    },
    300_000,
  );
});

describe('delete_namespace (item 4)', () => {
  const ns = useNamespace('kdr-trust-shared');

  test("keeps a namespace another app of the resource deploys to: web goes, api's release stays", async () => {
    const web = await put(ns.name, { image_ref: readyImage('1').tagRef, create_namespace: true });
    expect(web.code, web.stderr).toBe(0);
    const api = await put(ns.name, { image_ref: readyImage('1').tagRef }, 'api');
    expect(api.code, api.stderr).toBe(0);
    // useNamespace created it first: mark it as created for web, as create_namespace would have.
    await kubectl([
      'label',
      '--overwrite',
      'namespace',
      ns.name,
      'kubernetes-deploy-resource.io/created-for=web',
      `${labelKeys.managedBy}=${managedBy}`,
    ]);
    const teardown = await put(ns.name, { delete: true, delete_namespace: true });
    expect(teardown.code, teardown.stderr).toBe(0);
    expect(metadataOf(teardown).namespace_deleted).toBe('false');
    expect(teardown.stderr).toContain(`namespace ${ns.name} also holds release api of this resource: left in place`);
    expect(await exists(['deployment', 'api'], ns.name)).toBe(true);
    expect(await exists(['deployment', 'web'], ns.name)).toBe(false);
  }, 300_000);
});

describe('the lease is a fence (item 5)', () => {
  const ns = useNamespace('kdr-trust-lease');

  test('a put whose lease is taken over stops writing (exit 4) and leaves the new holder its lease', async () => {
    const running = put(ns.name, { ...hangingImage().params, timeout: '2m' });
    // While it waits for a rollout that never comes, another holder takes the lease over.
    await waitFor('the put to take its lease', () => exists(['lease', lockName('web')], ns.name), {
      timeoutMs: 60_000,
    });
    await kubectl(
      ['patch', 'lease', lockName('web'), '--type', 'merge', '-p', '{"spec":{"holderIdentity":"intruder"}}'],
      { namespace: ns.name },
    );
    const result = await running;
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`error: lost the lock of release web in namespace ${ns.name}`);
    expect(result.stderr).toContain('taken over by intruder');
    // Found at a renewal (every 10 s), long before the 2 minutes.
    expect(result.durationMs).toBeLessThan(60_000);
    const lease = await kubectlJson<{ spec: { holderIdentity: string } }>(['get', 'lease', lockName('web')], {
      namespace: ns.name,
    });
    expect(lease.spec.holderIdentity).toBe('intruder');
    // No write after the loss: the record is not marked by this put (the next holder marks it failed).
    const record = await kubectlJson<KubeObject>(['get', 'secret', recordName('web', 1)], { namespace: ns.name });
    expect(record.metadata.labels?.[recordLabel.status]).toBe('pending');
  }, 180_000);
});
