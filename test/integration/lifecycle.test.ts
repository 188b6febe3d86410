// A release's second life against the real cluster, through the compiled `out`: prune, redeploy of a recorded
// revision, on_failure rollback and dry run — each followed by the put after it and the teardown.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, uniqueNamespaceName, useNamespace } from '../support/cluster.js';
import { clusterSource, emptyDir, sourcesDir } from '../support/release.js';
import { readyImage as web, unpullableImage } from '../support/images.js';
import { metadataOf, runScript, type ScriptResult } from '../support/run-script.js';

const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  greeting: ${value}\n`;
const secret = (name: string, value: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\nstringData:\n  password: ${value}\n`;

const versionOf = (result: ScriptResult) => (result.json as { version: Record<string, string> }).version;

/** Everything the release has in the namespace, by kind/name, with resourceVersions. */
async function snapshot(namespace: string): Promise<Record<string, string>> {
  const list = await kubectlJson(
    [
      'get',
      'deployments,services,configmaps,secrets,leases',
      '-l',
      'app.kubernetes.io/managed-by=kubernetes-deploy-resource',
    ],
    { namespace },
  );
  return Object.fromEntries(
    (list.items as { kind: string; metadata: { name: string; resourceVersion: string } }[]).map((o) => [
      `${o.kind}/${o.metadata.name}`,
      o.metadata.resourceVersion,
    ]),
  );
}

describe('prune', () => {
  const ns = useNamespace('kdr-prune');

  test(
    'objects dropped from the release are deleted once the new one runs; a kind change is a new object; ' +
      'a failed put prunes nothing',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const dir = sourcesDir(
        { repository: web('1').repository, tag: '1' },
        {
          'db.yml': configMap('web-db', 'db'),
          'extra.yml': configMap('web-extra', 'hi'),
          'extra-secret.yml': secret('web-extra', 'pw'),
        },
      );
      const put = (params: Record<string, unknown>) =>
        runScript('out', { source, params: { image: 'image', ...params } }, { dir });

      const first = await put({ manifests: ['db.yml', 'extra.yml'] });
      expect(first.code, first.stderr).toBe(0);
      expect(metadataOf(first).pruned).toBe('nothing');

      // A failed put (unpullable image) without extra.yml: nothing is pruned, the ConfigMap stays.
      const failed = await runScript(
        'out',
        { source, params: { ...unpullableImage().params, manifests: ['db.yml'], timeout: '60s' } },
        { dir },
      );
      expect(failed.code, failed.stderr).toBe(5);
      expect((await kubectl(['get', 'configmap', 'web-extra'], { namespace: ns.name, allowFailure: true })).code).toBe(
        0,
      );

      // The put that only drops extra.yml (same image as the first) prunes it and gets a new revision.
      const second = await put({ manifests: ['db.yml'] });
      expect(second.code, second.stderr).toBe(0);
      expect(versionOf(second).revision).toBe('3');
      expect(metadataOf(second).pruned).toBe('configmap/web-extra');
      expect(second.stderr).toContain('configmap/web-extra pruned');
      expect(
        (await kubectl(['get', 'configmap', 'web-extra'], { namespace: ns.name, allowFailure: true })).code,
      ).not.toBe(0);
      expect((await kubectl(['get', 'configmap', 'web-db'], { namespace: ns.name, allowFailure: true })).code).toBe(0);

      // The same name as a Secret: a new object; the ConfigMap of that name would be pruned (it is gone already).
      const kindChange = await put({ manifests: ['db.yml', 'extra-secret.yml'] });
      expect(kindChange.code, kindChange.stderr).toBe(0);
      const back = await put({ manifests: ['db.yml', 'extra.yml'] });
      expect(back.code, back.stderr).toBe(0);
      expect(metadataOf(back).pruned).toBe('secret/web-extra');
      expect((await kubectl(['get', 'secret', 'web-extra'], { namespace: ns.name, allowFailure: true })).code).not.toBe(
        0,
      );
      expect((await kubectl(['get', 'configmap', 'web-extra'], { namespace: ns.name, allowFailure: true })).code).toBe(
        0,
      );

      // prune: false keeps what was dropped; an object that lost our labels is reported, never deleted.
      const kept = await put({ manifests: ['db.yml'], prune: false });
      expect(kept.code, kept.stderr).toBe(0);
      expect(metadataOf(kept).pruned).toBe('off (prune: false)');
      expect((await kubectl(['get', 'configmap', 'web-extra'], { namespace: ns.name, allowFailure: true })).code).toBe(
        0,
      );
      const withExtra = await put({ manifests: ['db.yml', 'extra.yml'] });
      expect(withExtra.code, withExtra.stderr).toBe(0);
      await kubectl(['label', 'configmap', 'web-extra', 'app.kubernetes.io/managed-by-'], { namespace: ns.name });
      const foreign = await put({ manifests: ['db.yml'] });
      expect(foreign.code, foreign.stderr).toBe(0);
      expect(foreign.stderr).toContain(
        'configmap/web-extra in namespace ' + ns.name + ' is not managed by release web: left alone',
      );
      expect((await kubectl(['get', 'configmap', 'web-extra'], { namespace: ns.name, allowFailure: true })).code).toBe(
        0,
      );

      const teardown = await runScript('out', { source, params: { delete: true } }, { dir });
      expect(teardown.code, teardown.stderr).toBe(0);
      expect(await snapshot(ns.name)).toEqual({});
    },
  );
});

describe('redeploy a recorded revision', () => {
  const ns = useNamespace('kdr-redeploy');

  test(
    'revision N comes back exactly, Secret values included, as a new revision; ' + 'unknown revisions are named',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const v1 = sourcesDir(
        { repository: web('1').repository, tag: '1' },
        { 'secret.yml': secret('web-db', 'first-password') },
      );
      const v2 = sourcesDir(
        { repository: web('2').repository, tag: '2' },
        { 'secret.yml': secret('web-db', 'second-password') },
      );
      expect(
        (
          await runScript(
            'out',
            { source, params: { image: 'image', manifests: ['secret.yml'], replicas: 2 } },
            { dir: v1 },
          )
        ).code,
      ).toBe(0);
      expect(
        (await runScript('out', { source, params: { image: 'image', manifests: ['secret.yml'] } }, { dir: v2 })).code,
      ).toBe(0);

      // The revision file of a get of revision 1, as a pinned `get` would lay it out.
      const get = emptyDir();
      const fetched = await runScript(
        'in',
        { source, version: { app: 'web', namespace: ns.name, revision: '1', image: web('1').tagRef } },
        { dir: get },
      );
      expect(fetched.code, fetched.stderr).toBe(0);
      const dir = sourcesDir({ repository: 'unused' });
      writeFileSync(join(dir, 'revision'), '1\n');
      const redeploy = await runScript('out', { source, params: { revision_file: 'revision' } }, { dir });
      expect(redeploy.code, redeploy.stderr).toBe(0);
      expect(versionOf(redeploy)).toEqual({ app: 'web', namespace: ns.name, revision: '3', image: web('1').tagRef });
      expect(metadataOf(redeploy)).toMatchObject({ redeployed_from: '1', revision: '3' });
      const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
      expect(deployment.spec.template.spec.containers[0].image).toBe(web('1').tagRef);
      expect(deployment.spec.replicas).toBe(2);
      const stored = await kubectlJson(['get', 'secret', 'web-db'], { namespace: ns.name });
      expect(Buffer.from(stored.data.password, 'base64').toString()).toBe('first-password');

      // check reports the redeploy as the newest version; the same redeploy again changes nothing.
      const check = await runScript('check', { source });
      expect((check.json as { revision: string }[]).map((v) => v.revision)).toEqual(['3']);
      const again = await runScript('out', { source, params: { revision: '1' } }, { dir });
      expect(again.code, again.stderr).toBe(0);
      expect(versionOf(again).revision).toBe('3');
      expect(again.stderr).toContain('deployment/web unchanged');

      const missing = await runScript('out', { source, params: { revision: '99' } }, { dir });
      expect(missing.code, missing.stderr).toBe(4);
      expect(missing.stderr).toContain(
        `error: revision 99 of web in namespace ${ns.name} does not exist ` +
          '(never deployed, or pruned by history_limit); revisions that can be redeployed: 1, 2, 3',
      );
      const mixed = await runScript('out', { source, params: { revision: '1', image_ref: 'x:1' } }, { dir });
      expect(mixed.code).toBe(2);
      expect(mixed.stderr).toContain('error: params.image_ref: cannot be combined with params.revision');

      expect((await runScript('out', { source, params: { delete: true } }, { dir })).code).toBe(0);
      expect(await snapshot(ns.name)).toEqual({});
    },
  );
});

describe('on_failure: rollback', () => {
  const ns = useNamespace('kdr-rollback');

  test(
    'a failed rollout goes back to the last deployed revision and prunes what it added; ' + 'check keeps the good one',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const dir = sourcesDir({ repository: 'unused' }, { 'extra.yml': configMap('web-new', 'x') });
      const good = await runScript('out', { source, params: { image_ref: web('1').tagRef, replicas: 2 } }, { dir });
      expect(good.code, good.stderr).toBe(0);

      const bad = await runScript(
        'out',
        {
          source,
          params: {
            ...unpullableImage().params,
            replicas: 2,
            manifests: ['extra.yml'],
            on_failure: 'rollback',
            timeout: '90s',
          },
        },
        { dir },
      );
      expect(bad.code, bad.stderr).toBe(5);
      expect(bad.stderr).toMatch(/ErrImagePull|ImagePullBackOff/);
      expect(bad.stderr).toContain(`rolling back to revision 1 of web (${web('1').tagRef})`);
      expect(bad.stderr).toContain('rolled back to revision 1');
      expect(bad.stderr).toContain('configmap/web-new pruned');
      const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
      expect(deployment.spec.template.spec.containers[0].image).toBe(web('1').tagRef);
      expect(deployment.status.availableReplicas).toBe(2);
      expect(
        (await kubectl(['get', 'configmap', 'web-new'], { namespace: ns.name, allowFailure: true })).code,
      ).not.toBe(0);
      const check = await runScript('check', { source });
      expect(check.json).toEqual([{ app: 'web', namespace: ns.name, revision: '1', image: web('1').tagRef }]);
      const records = await kubectlJson(
        [
          'get',
          'secrets',
          '-l',
          'kubernetes-deploy-resource.io/release=web',
          '-L',
          'kubernetes-deploy-resource.io/status',
        ],
        { namespace: ns.name },
      );
      expect(
        Object.fromEntries(
          records.items.map((r: { metadata: { labels: Record<string, string> } }) => [
            r.metadata.labels['kubernetes-deploy-resource.io/revision'],
            r.metadata.labels['kubernetes-deploy-resource.io/status'],
          ]),
        ),
      ).toEqual({ '1': 'deployed', '2': 'failed' });

      // The put after: a good release deploys normally from the rolled-back state.
      const next = await runScript('out', { source, params: { image_ref: web('3').tagRef, replicas: 2 } }, { dir });
      expect(next.code, next.stderr).toBe(0);
      expect(versionOf(next).revision).toBe('3');
      expect((await runScript('out', { source, params: { delete: true } }, { dir })).code).toBe(0);
    },
  );

  test('a first deploy has nothing to roll back to: it says so and keeps the failed objects', async () => {
    const source = clusterSource({ namespace: ns.name });
    const bad = await runScript(
      'out',
      { source, params: { ...unpullableImage().params, on_failure: 'rollback', timeout: '60s' } },
      { dir: emptyDir() },
    );
    expect(bad.code, bad.stderr).toBe(5);
    expect(bad.stderr).toContain(
      'nothing to roll back to: web has no earlier deployed revision; the failed objects stay for debugging',
    );
    expect((await kubectl(['get', 'deployment', 'web'], { namespace: ns.name, allowFailure: true })).code).toBe(0);
    expect((await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() })).code).toBe(0);
  });
});

describe('dry run', () => {
  const ns = useNamespace('kdr-dryrun');

  test('shows a diff per object and what would be pruned, and changes nothing', async () => {
    const source = clusterSource({ namespace: ns.name });
    const dir = sourcesDir(
      { repository: 'unused' },
      {
        'a.yml': configMap('web-a', 'one'),
        'b.yml': configMap('web-b', 'b'),
        'c.yml': configMap('web-c', 'c'),
        's.yml': secret('web-s', 'old-value'),
        's2.yml': secret('web-s', 'new-value'),
      },
    );
    const first = await runScript(
      'out',
      { source, params: { image_ref: web('1').tagRef, manifests: ['a.yml', 'b.yml', 'c.yml', 's.yml'] } },
      { dir },
    );
    expect(first.code, first.stderr).toBe(0);
    const before = await snapshot(ns.name);
    writeFileSync(join(dir, 'a.yml'), configMap('web-a', 'two'));

    // The same image: only what the files changed shows; the generated objects are unchanged.
    const dry = await runScript(
      'out',
      { source, params: { image_ref: web('1').tagRef, manifests: ['a.yml', 'c.yml', 's2.yml'], dry_run: true } },
      { dir },
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(versionOf(dry)).toEqual(versionOf(first));
    expect(metadataOf(dry)).toMatchObject({
      dry_run: 'true',
      deployed_revision: '1',
      changes: '2 changed, 3 unchanged, 0 created, 1 to prune',
      to_prune: 'configmap/web-b',
    });
    expect(dry.stderr).toContain('configmap/web-a: changed');
    expect(dry.stderr).toMatch(/^-\s+greeting: "?one"?$/m);
    expect(dry.stderr).toMatch(/^\+\s+greeting: "?two"?$/m);
    expect(dry.stderr).toContain('deployment/web: unchanged');
    expect(dry.stderr).toContain('configmap/web-c: unchanged');
    expect(dry.stderr).toContain('secret/web-s: changed');
    expect(dry.stderr).toContain('data.password: changed');
    expect(dry.stderr).toContain('configmap/web-b: would be pruned');
    // A new image changes every object (each carries app.kubernetes.io/version); the Deployment shows the image line.
    const newImage = await runScript(
      'out',
      { source, params: { image_ref: web('2').tagRef, manifests: ['a.yml', 'c.yml', 's2.yml'], dry_run: true } },
      { dir },
    );
    expect(newImage.code, newImage.stderr).toBe(0);
    expect(metadataOf(newImage).changes).toBe('5 changed, 0 unchanged, 0 created, 1 to prune');
    expect(newImage.stderr).toMatch(new RegExp(`^-\\s+image: "?${web('1').tagRef.replace(/[./]/g, '\\$&')}"?$`, 'm'));
    expect(newImage.stderr).toMatch(new RegExp(`^\\+\\s+image: "?${web('2').tagRef.replace(/[./]/g, '\\$&')}"?$`, 'm'));
    for (const result of [dry, newImage])
      expect(result.stderr).not.toMatch(/old-value|new-value|b2xkLXZhbHVl|bmV3LXZhbHVl/);
    // Nothing changed: the same objects at the same resourceVersions, no new record, no lease left.
    expect(await snapshot(ns.name)).toEqual(before);

    // The implicit get of the dry run's version works; the real put after it applies what the dry run showed.
    expect((await runScript('in', { source, version: versionOf(dry) }, { dir: emptyDir() })).code).toBe(0);
    const real = await runScript(
      'out',
      { source, params: { image_ref: web('2').tagRef, manifests: ['a.yml', 'c.yml', 's2.yml'] } },
      { dir },
    );
    expect(real.code, real.stderr).toBe(0);
    expect(metadataOf(real).pruned).toBe('configmap/web-b');
    const after = await runScript(
      'out',
      { source, params: { image_ref: web('2').tagRef, manifests: ['a.yml', 'c.yml', 's2.yml'], dry_run: true } },
      { dir },
    );
    expect(metadataOf(after).changes).toBe('0 changed, 5 unchanged, 0 created, 0 to prune');
    expect((await runScript('out', { source, params: { delete: true } }, { dir })).code).toBe(0);
  });

  test('before the first deploy it prints revision 0, and a refused object fails as a real put would', async () => {
    const namespace = uniqueNamespaceName('kdr-dryrun-new');
    const source = clusterSource({ namespace });
    const dry = await runScript(
      'out',
      { source, params: { image_ref: web('1').tagRef, create_namespace: true, dry_run: true } },
      { dir: emptyDir() },
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(versionOf(dry)).toEqual({ app: 'web', namespace, revision: '0', image: '' });
    expect(dry.stderr).toContain(`namespace ${namespace} would be created`);
    expect((await kubectl(['get', 'namespace', namespace], { allowFailure: true })).code).not.toBe(0);
    const get = await runScript('in', { source, version: versionOf(dry) }, { dir: emptyDir() });
    expect(get.code, get.stderr).toBe(0);

    // Validation happens on the server: an invalid object is refused with the exit code of a real put.
    const dir = sourcesDir(
      { repository: 'unused' },
      { 'bad.yml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-bad\ndata:\n  "not a key!": x\n' },
    );
    const refused = await runScript(
      'out',
      {
        source: clusterSource({ namespace: ns.name }),
        params: { image_ref: web('1').tagRef, manifests: ['bad.yml'], dry_run: true },
      },
      { dir },
    );
    expect(refused.code, refused.stderr).toBe(4);
    expect(await snapshot(ns.name)).toEqual({});
  });
});
