// The put's decisions (engine/changes.ts) as tables, on plain state: no cluster, fake or real.
import { describe, expect, test } from 'vitest';
import type { ObjectMetadata } from '../../src/cluster/api.js';
import { applyGroups, historyToDrop, planRecord } from '../../src/engine/changes.js';
import { deployRelease, type ReleaseContent } from '../../src/engine/deploy.js';
import { contentHash, encodeRecord, type ReleaseRecord } from '../../src/engine/records.js';
import { objectRef, type KubeObject } from '../../src/kube/object.js';
import { diffObject } from '../../src/output/diff.js';
import { deployInput, fakeWithController } from '../support/fake-release.js';

const obj = (kind: string, name: string): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace: 'ns' },
});
const web = [obj('Deployment', 'web'), obj('Service', 'web')];
const release = (tag: string, objects = web): ReleaseContent => ({
  image: { repository: 'r', tag, ref: `r:${tag}` },
  objects,
  build: {},
});
const recorded = (revision: number, content: ReleaseContent): ReleaseRecord => ({
  app: 'web',
  namespace: 'ns',
  revision,
  ...content,
  createdAt: '2026-01-01T00:00:00.000Z',
  contentHash: contentHash(content.image.ref, content.objects),
});
const meta = (r: ReleaseRecord, status: 'deployed' | 'failed' | 'pending'): ObjectMetadata => {
  const { apiVersion, kind, metadata } = encodeRecord(r, status);
  return { apiVersion, kind, metadata } as ObjectMetadata;
};
const options = { app: 'web', namespace: 'ns', mode: 'apply' as const, now: new Date('2026-02-01T00:00:00Z') };

describe('planRecord', () => {
  const v1 = recorded(1, release('1'));
  const v2failed = recorded(2, release('2'));
  const cases: {
    name: string;
    state: { records: ObjectMetadata[]; lastDeployed?: ReleaseRecord };
    put: ReleaseContent;
    mode?: 'apply' | 'create';
    revision: number;
    reused: boolean;
  }[] = [
    { name: 'a first put takes revision 1', state: { records: [] }, put: release('1'), revision: 1, reused: false },
    {
      name: 'the same image and objects again re-use the deployed revision',
      state: { records: [meta(v1, 'deployed')], lastDeployed: v1 },
      put: release('1'),
      revision: 1,
      reused: true,
    },
    {
      name: 'mode create never re-uses',
      state: { records: [meta(v1, 'deployed')], lastDeployed: v1 },
      put: release('1'),
      mode: 'create',
      revision: 2,
      reused: false,
    },
    {
      name: 'a new image takes the revision after the newest record, failed ones included',
      state: { records: [meta(v1, 'deployed'), meta(v2failed, 'failed')], lastDeployed: v1 },
      put: release('3'),
      revision: 3,
      reused: false,
    },
    {
      name: 'the same objects with one more is a new revision',
      state: { records: [meta(v1, 'deployed')], lastDeployed: v1 },
      put: release('1', [...web, obj('ConfigMap', 'web-extra')]),
      revision: 2,
      reused: false,
    },
  ];
  test.each(cases)('$name', ({ state, put, mode, revision, reused }) => {
    const change = planRecord(state, put, { ...options, ...(mode ? { mode } : {}) });
    expect({ revision: change.revision, reused: change.reused }).toEqual({ revision, reused });
    expect(change.record).toMatchObject({ app: 'web', namespace: 'ns', revision, image: put.image });
    expect(change.record.createdAt).toBe('2026-02-01T00:00:00.000Z');
    expect(change.record.contentHash).toBe(contentHash(put.image.ref, put.objects));
  });

  test('a redeploy records where it came from', () => {
    const change = planRecord({ records: [] }, { ...release('1'), redeployedFrom: 4 }, options);
    expect(change.record.redeployedFrom).toBe(4);
  });
});

describe('applyGroups', () => {
  test("runs of one kind in order, the app's own Deployment, Service and Ingress last", () => {
    const objects = [
      obj('ConfigMap', 'a'),
      obj('ConfigMap', 'b'),
      obj('Secret', 's'),
      obj('ConfigMap', 'c'),
      obj('Service', 'web'),
      obj('Deployment', 'web'),
      obj('Deployment', 'worker'),
    ];
    expect(applyGroups(objects, 'web').map((g) => g.map(objectRef))).toEqual([
      ['configmap/a', 'configmap/b'],
      ['secret/s'],
      ['configmap/c'],
      ['deployment/worker'],
      ['service/web', 'deployment/web'],
    ]);
  });

  test('no own group when the release has none of its own objects', () => {
    expect(applyGroups([obj('ConfigMap', 'a')], 'web').map((g) => g.map(objectRef))).toEqual([['configmap/a']]);
  });
});

describe('historyToDrop', () => {
  const records = [1, 2, 3, 4].map((n) => meta(recorded(n, release(String(n))), 'deployed'));
  test.each([
    { limit: 10, dropped: [] },
    { limit: 4, dropped: [1] },
    { limit: 2, dropped: [1, 2, 3] },
    { limit: 1, dropped: [1, 2, 3, 4] },
  ])('history_limit $limit drops revisions $dropped (the new record is always kept)', ({ limit, dropped }) => {
    expect(historyToDrop(records, limit).map((r) => r.metadata.name)).toEqual(
      records.filter((_, i) => dropped.includes(i + 1)).map((r) => r.metadata.name),
    );
  });
});

describe('a dry run and the put after it, on the same state (fake cluster)', () => {
  const configMaps = (...names: string[]) =>
    names
      .map((name) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: ${name}}\n`)
      .join('---\n');
  test.each([
    {
      name: 'a new image, a ConfigMap dropped and one added',
      image: 'registry.local/team/web:2',
      manifests: ['a', 'c'],
      revision: 2,
      pruned: ['configmap/b'],
    },
    {
      name: 'the same release again (re-used revision)',
      image: undefined,
      manifests: ['a', 'b'],
      revision: 1,
      pruned: [],
    },
  ])('agree on revision, changes and prune: $name', async ({ image, manifests, revision, pruned }) => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { manifests: configMaps('a', 'b'), prune: true })));
    const params = { manifests: configMaps(...manifests), prune: true, ...(image ? { image } : {}) };
    const dry = await fake.clock.run(deployRelease(deployInput(fake, { ...params, dryRun: true })));
    const put = await fake.clock.run(deployRelease(deployInput(fake, params)));
    expect(put.revision).toBe(revision);
    expect(put.pruned).toEqual(pruned);
    expect(dry.dryRun!.revision).toBe(put.revision);
    expect(dry.pruned).toEqual(put.pruned);
    const dryChanges = dry.dryRun!.objects.map((o) => {
      const diff = diffObject(o.live, o.dryRun ?? o.desired);
      return { ref: o.ref, change: diff.change === 'changed' ? 'configured' : diff.change };
    });
    expect(sortByRef(dryChanges)).toEqual(sortByRef(put.changes));
  });
});
const sortByRef = <T extends { ref: string }>(list: T[]) => [...list].sort((a, b) => a.ref.localeCompare(b.ref));
