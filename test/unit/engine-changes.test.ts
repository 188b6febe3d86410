// The put's decisions (engine/changes.ts) as tables, on plain state: no cluster, fake or real.
import { describe, expect, test } from 'vitest';
import type { ObjectMetadata } from '../../src/cluster/api.js';
import { applyGroups, historyToDrop, planChanges, planRecord, type PlanOptions } from '../../src/engine/changes.js';
import { deployRelease } from '../../src/engine/deploy.js';
import { refusalError } from '../../src/engine/ownership.js';
import { contentHash, encodeRecord, type ReleaseRecord } from '../../src/engine/records.js';
import type { ReleaseContent } from '../../src/engine/release.js';
import { nothingThere, type ReleaseState } from '../../src/engine/state.js';
import { product } from '../../src/kube/labels.js';
import { objectRef, type KubeObject } from '../../src/kube/object.js';
import { phaseAnnotation } from '../../src/manifests/extra.js';
import { diffObject } from '../../src/output/diff.js';
import { deployInput, fakeWithController, ownedBy } from '../support/fake-release.js';

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

describe('planChanges', () => {
  const typed = (apiVersion: string, kind: string, name: string, annotations?: Record<string, string>): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name, namespace: 'ns', labels: ownedBy('web'), ...(annotations ? { annotations } : {}) },
  });
  const deployment = (name: string) => typed('apps/v1', 'Deployment', name);
  const service = typed('v1', 'Service', 'web');
  const configMap = (name: string) => typed('v1', 'ConfigMap', name);
  const migrate = typed('batch/v1', 'Job', 'migrate', { [phaseAnnotation]: 'before' });
  const app = [deployment('web'), service];
  const content = (objects: KubeObject[], tag = '1'): ReleaseContent => ({ ...release(tag), objects });
  const kinds = new Map<string, boolean | undefined>([
    ['apps/v1/Deployment', true],
    ['v1/Service', true],
    ['v1/ConfigMap', true],
    ['batch/v1/Job', true],
  ]);
  /** As it is now: our own object (or `labels` someone else's), with a resourceVersion. */
  const live = (objects: KubeObject[], labels?: Record<string, string>) =>
    new Map(
      objects.map((o) => [
        objectRef(o),
        { ...o, metadata: { ...o.metadata, resourceVersion: '7', ...(labels ? { labels } : {}) } },
      ]),
    );
  const state = (change: Partial<ReleaseState> = {}): ReleaseState => ({
    kinds,
    live: new Map(),
    records: [],
    attempts: [],
    ...change,
  });
  const planOptions: PlanOptions = { ...options, wait: true, restart: false, prune: false, historyLimit: 10 };
  const plan = (s: ReleaseState, put: ReleaseContent, change: Partial<PlanOptions> = {}) =>
    planChanges(s, put, { ...planOptions, ...change });
  const refs = (objects: KubeObject[] | undefined) => objects?.map(objectRef);

  describe('the verdict, before any write', () => {
    const widget = typed('example.com/v1', 'Widget', 'w');
    const cases: {
      name: string;
      state: ReleaseState;
      objects?: KubeObject[];
      change?: Partial<PlanOptions>;
      refused?: { status: number; message: string };
    }[] = [
      { name: 'nothing there: nothing refused', state: state() },
      { name: 'our own objects there (apply): nothing refused', state: state({ live: live(app) }) },
      {
        name: 'a kind the server does not know',
        state: state(),
        objects: [widget, ...app],
        refused: {
          status: 404,
          message:
            'params.manifests: the cluster does not know kind Widget in example.com/v1 (widget/w); ' +
            'is its CustomResourceDefinition installed?',
        },
      },
      {
        name: 'a cluster-scoped kind',
        state: state({ kinds: new Map([...kinds, ['example.com/v1/Widget', false]]) }),
        objects: [widget, ...app],
        refused: {
          status: 422,
          message: 'params.manifests: widget/w is cluster-scoped; a release holds only namespaced objects',
        },
      },
      {
        name: 'a kind is judged before ownership',
        state: state({ live: live([service], { owner: 'someone-else' }) }),
        objects: [widget, ...app],
        refused: { status: 404, message: 'does not know kind Widget' },
      },
      {
        name: 'a same-named object that is not ours',
        state: state({ live: live([service], { owner: 'someone-else' }) }),
        refused: {
          status: 409,
          message:
            'service/web already exists in namespace ns and is not managed by this release ' +
            '(no app.kubernetes.io/managed-by=kubernetes-deploy-resource and app.kubernetes.io/instance=web labels): ' +
            'left untouched; rename the app or remove it first',
        },
      },
      {
        name: 'two of them',
        state: state({ live: live(app, { owner: 'someone-else' }) }),
        refused: { status: 409, message: 'deployment/web, service/web already exist in namespace ns and are not' },
      },
      {
        name: 'mode create: any object of the release that exists, ours too',
        state: state({ live: live(app) }),
        change: { mode: 'create' },
        refused: {
          status: 409,
          message:
            'mode create: deployment/web, service/web already exist in namespace ns; nothing was created ' +
            '(use mode: apply to update, or delete the release first)',
        },
      },
      {
        name: 'a rollback in mode create goes back over our objects',
        state: state({ live: live(app) }),
        change: { mode: 'create', rollbackFrom: [] },
      },
      {
        name: 'a rollback never takes over an object that is not ours',
        state: state({ live: live([service], { owner: 'someone-else' }) }),
        change: { rollbackFrom: [] },
        refused: { status: 409, message: 'service/web already exists in namespace ns and is not managed' },
      },
      {
        name: 'kinds not asked (a dry run into a namespace not there yet): nothing refused',
        state: nothingThere(),
        objects: [widget, ...app],
      },
    ];
    test.each(cases)('$name', ({ state: s, objects = app, change, refused }) => {
      const { refusal } = plan(s, content(objects), change);
      if (!refused) return expect(refusal).toBeUndefined();
      const error = refusalError(refusal!);
      expect(error.status).toBe(refused.status);
      expect(error.message).toContain(refused.message);
    });
  });

  test('apply order: groups of one kind, the before gate, the own objects last; what is waited for', () => {
    const objects = [configMap('a'), migrate, deployment('worker'), ...app];
    const changes = plan(state(), content(objects));
    expect(changes.groups.map(refs)).toEqual([['configmap/a'], ['job/migrate'], ['deployment/worker']]);
    expect(refs(changes.gate)).toEqual(['job/migrate']);
    expect(refs(changes.own)).toEqual(['deployment/web', 'service/web']);
    expect(refs(changes.waitFor)).toEqual(['deployment/worker', 'deployment/web']);
    // wait: false waits for no rollout, but the gate still holds the own objects back.
    const noWait = plan(state(), content(objects), { wait: false });
    expect(noWait.waitFor).toBeUndefined();
    expect(refs(noWait.gate)).toEqual(['job/migrate']);
  });

  test.each([
    { name: 'restart: false restarts nothing', change: {}, restart: undefined },
    {
      name: 'restart: true restarts the workloads there, not those this put creates',
      change: { restart: true },
      restart: { targets: ['deployment/web'], created: ['deployment/worker'] },
    },
    { name: 'a rollback restarts nothing', change: { restart: true, rollbackFrom: [] }, restart: undefined },
  ])('$name', ({ change, restart }) => {
    const changes = plan(state({ live: live(app) }), content([deployment('worker'), ...app]), change);
    expect(
      changes.restart && { targets: refs(changes.restart.targets), created: refs(changes.restart.created) },
    ).toEqual(restart);
  });

  test('records: the pending ones a cut-off put left are marked failed, and the history cut (not on a reuse)', () => {
    const v1 = recorded(1, content(app));
    const records = [meta(v1, 'deployed'), meta(recorded(2, content(app, '2')), 'pending')];
    const put = plan(state({ records, lastDeployed: v1 }), content(app, '3'), { historyLimit: 2 });
    expect(put).toMatchObject({ revision: 3, reused: false, cutOff: [2] });
    expect(put.dropHistory.map((r) => r.metadata.name)).toEqual([meta(v1, 'deployed').metadata.name]);
    const again = plan(state({ records, lastDeployed: v1 }), content(app), { historyLimit: 2 });
    expect(again).toMatchObject({ revision: 1, reused: true, dropHistory: [] });
    const rollback = plan(state({ records, lastDeployed: v1 }), v1, { historyLimit: 2, rollbackFrom: [] });
    expect(rollback).toMatchObject({ revision: 1, reused: true, cutOff: [], dropHistory: [] });
  });

  describe('prune', () => {
    const v1 = recorded(1, content([configMap('old'), ...app]));
    const tried = encodeRecord(recorded(2, content([configMap('tried'), ...app], '2')), 'failed');
    const s = state({ records: [meta(v1, 'deployed')], lastDeployed: v1, attempts: [tried] });
    test.each([
      { name: 'prune: false prunes nothing', put: content(app, '3'), change: { prune: false }, pruned: [] },
      {
        name: 'what the last deployed revision and the attempts since had, and this release has not',
        put: content(app, '3'),
        change: { prune: true },
        pruned: ['configmap/old', 'configmap/tried'],
      },
      {
        name: 'what this release keeps is not pruned',
        put: content([configMap('old'), ...app], '3'),
        change: { prune: true },
        pruned: ['configmap/tried'],
      },
      {
        name: 'a rollback keeps the revision it goes back to, and prunes what the failed attempt added',
        put: v1,
        change: { prune: true, rollbackFrom: [configMap('added'), ...app] },
        pruned: ['configmap/tried', 'configmap/added'],
      },
    ])('$name', ({ put, change, pruned }) => {
      expect(refs(plan(s, put, change).prune)).toEqual(pruned);
    });
  });

  test('replicas: auto hands over the count our apply still owns (mode apply only)', () => {
    const desired = { ...deployment('web'), spec: { template: {} } };
    const owned = {
      ...desired,
      spec: { replicas: 4, template: {} },
      metadata: {
        ...desired.metadata,
        managedFields: [{ manager: product, operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
      },
    };
    const s = state({ live: new Map([['deployment/web', owned]]) });
    expect([...plan(s, content([desired, service])).handover]).toEqual([['deployment/web', 4]]);
    expect([...plan(s, content([desired, service]), { mode: 'create' }).handover]).toEqual([]);
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
