// The in-memory cluster the engine and command tests stand on: where its behaviour decides what those tests prove,
// it is proven here against what the real API server does (test/integration shows the engine against the real one).
import { describe, expect, test } from 'vitest';
import type { WatchEvent } from '../../src/cluster/api.js';
import { AbortedError, ApiRejectedError, ClusterConnectionError } from '../../src/errors.js';
import type { KubeObject } from '../../src/kube/object.js';
import { FakeClock, FakeCluster, deploymentController, matchesFields, matchesLabels } from '../support/fake-cluster.js';

const configMap = (
  name: string,
  data: Record<string, string> = { a: '1' },
  labels: Record<string, string> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', labels },
  data,
});
const deployment = (name: string, image = 'app:1', labels: Record<string, string> = { app: name }): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'ns', labels },
  spec: {
    replicas: 2,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name, image }] } },
  },
});
const key = (o: KubeObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace: o.metadata.namespace,
  name: o.metadata.name,
});

function setup() {
  const fake = new FakeCluster({ namespaces: ['default', 'ns'] });
  return { fake, api: fake.client() };
}

async function refusal(promise: Promise<unknown>): Promise<ApiRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiRejectedError);
  return error as ApiRejectedError;
}

describe('objects', () => {
  test(
    'create stamps uid, resourceVersion and (for kinds with a spec) generation; ' + 'a second create is 409',
    async () => {
      const { api } = setup();
      const created = await api.create(deployment('web'));
      expect(created.metadata).toMatchObject({
        generation: 1,
        uid: expect.any(String),
        resourceVersion: expect.stringMatching(/^\d+$/),
      });
      expect((await api.create(configMap('c'))).metadata.generation).toBeUndefined();
      const conflict = await refusal(api.create(deployment('web')));
      expect(conflict.status).toBe(409);
      expect(conflict.message).toMatch(/AlreadyExists.*deployments "web" already exists/);
    },
  );

  test(
    '404 for a missing namespace or an unknown kind, 422 for an invalid name, ' + '403 in a terminating namespace',
    async () => {
      const { fake, api } = setup();
      expect(
        (await refusal(api.create({ ...configMap('c'), metadata: { name: 'c', namespace: 'nope' } }))).status,
      ).toBe(404);
      expect(
        (await refusal(api.read({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'ns', name: 'w' }))).status,
      ).toBe(404);
      expect((await refusal(api.create(configMap('Not_Valid')))).status).toBe(422);
      fake.lingerOnDelete('Namespace', Infinity);
      await api.remove({ apiVersion: 'v1', kind: 'Namespace', name: 'ns' });
      expect(fake.get('v1', 'Namespace', undefined, 'ns')).toMatchObject({ status: { phase: 'Terminating' } });
      expect((await refusal(api.create(configMap('c')))).status).toBe(403);
    },
  );

  test('isNamespaced: the well-known kinds, kinds defined by the test, undefined for the rest', async () => {
    const { fake, api } = setup();
    expect(await api.isNamespaced('v1', 'Namespace')).toBe(false);
    expect(await api.isNamespaced('apps/v1', 'Deployment')).toBe(true);
    expect(await api.isNamespaced('example.com/v1', 'Widget')).toBeUndefined();
    fake.defineKind('example.com/v1', 'Widget', true);
    expect(await api.isNamespaced('example.com/v1', 'Widget')).toBe(true);
  });

  test(
    'replace is conditional on the resourceVersion it carries: stale → 409; ' + 'generation moves only with the spec',
    async () => {
      const { api } = setup();
      const first = await api.create(deployment('web'));
      const relabelled = await api.replace({
        ...first,
        metadata: { ...first.metadata, labels: { app: 'web', x: 'y' } },
      });
      expect(relabelled.metadata.generation).toBe(1);
      expect(Number(relabelled.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
      expect((await refusal(api.replace(first))).status).toBe(409);
      const rescaled = await api.replace({ ...relabelled, spec: { ...(relabelled.spec as object), replicas: 5 } });
      expect(rescaled.metadata.generation).toBe(2);
      expect((await refusal(api.replace(configMap('missing')))).status).toBe(404);
    },
  );

  test('remove: true while it exists, false once gone; deleting an owner takes its dependents along', async () => {
    const { fake, api } = setup();
    const owner = await api.create(deployment('web'));
    fake.seed({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-1', namespace: 'ns', ownerReferences: [{ uid: owner.metadata.uid }] },
    });
    expect(await api.remove(key(owner), 'Foreground')).toBe(true);
    expect(fake.objects('ReplicaSet', 'ns')).toEqual([]);
    expect(await api.remove(key(owner))).toBe(false);
  });

  test('lingerOnDelete: the object stays with a deletionTimestamp until the clock has moved on', async () => {
    const { fake, api } = setup();
    fake.lingerOnDelete('ConfigMap', 5000);
    await api.create(configMap('c'));
    expect(await api.remove(key(configMap('c')))).toBe(true);
    expect((await api.read(key(configMap('c'))))?.metadata.deletionTimestamp).toBeDefined();
    await fake.clock.advance(4999);
    expect(await api.read(key(configMap('c')))).toBeDefined();
    await fake.clock.advance(1);
    expect(await api.read(key(configMap('c')))).toBeUndefined();
  });

  test(
    'patchMetadata merges labels and annotations (null removes); ' +
      'a patch that changes nothing keeps the resourceVersion',
    async () => {
      const { api } = setup();
      await api.create(configMap('c', {}, { keep: '1', drop: '2' }));
      const patched = await api.patchMetadata(key(configMap('c')), {
        labels: { drop: null, add: '3' },
        annotations: { note: 'n' },
      });
      expect(patched.metadata.labels).toEqual({ keep: '1', add: '3' });
      expect(patched.metadata.annotations).toEqual({ note: 'n' });
      const again = await api.patchMetadata(key(configMap('c')), { labels: { add: '3' } });
      expect(again.metadata.resourceVersion).toBe(patched.metadata.resourceVersion);
    },
  );
});

describe('server-side apply', () => {
  test(
    'creates when absent; ' + 'the same config again changes nothing (same resourceVersion, same generation)',
    async () => {
      const { api } = setup();
      const created = await api.apply(deployment('web'));
      const again = await api.apply(deployment('web'));
      expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
      expect(again.metadata.generation).toBe(1);
    },
  );

  test(
    'a changed spec gets a new resourceVersion and generation; ' + 'a metadata-only change only a resourceVersion',
    async () => {
      const { api } = setup();
      const created = await api.apply(deployment('web'));
      const labelled = await api.apply(deployment('web', 'app:1', { app: 'web', tier: 'x' }));
      expect(labelled.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
      // The template labels are spec too: this one moved both.
      expect(labelled.metadata.generation).toBe(2);
      const annotated = await api.apply({
        ...deployment('web', 'app:1', { app: 'web', tier: 'x' }),
        metadata: { ...labelled.metadata, annotations: { a: 'b' } },
      });
      expect(annotated.metadata.generation).toBe(2);
      expect(annotated.metadata.resourceVersion).not.toBe(labelled.metadata.resourceVersion);
    },
  );

  test(
    'keeps what others wrote (status, their annotations) ' + 'and drops the fields this manager no longer applies',
    async () => {
      const { fake, api } = setup();
      await api.apply({
        ...configMap('c', { a: '1', b: '2' }),
        metadata: { name: 'c', namespace: 'ns', annotations: { mine: '1' } },
      });
      fake.update(key(configMap('c')), (o) => (o.metadata.annotations = { ...o.metadata.annotations, theirs: '1' }));
      const applied = await api.apply({ ...configMap('c', { a: '1' }), metadata: { name: 'c', namespace: 'ns' } });
      expect(applied).toMatchObject({ data: { a: '1' }, metadata: { annotations: { theirs: '1' } } });
      expect((applied.data as Record<string, string>).b).toBeUndefined();
      expect(applied.metadata.annotations?.mine).toBeUndefined();

      await api.apply(deployment('web'));
      fake.setStatus(key(deployment('web')), { observedGeneration: 1 });
      const reapplied = await api.apply({ ...deployment('web'), status: { observedGeneration: 99 } });
      expect(reapplied).toMatchObject({ status: { observedGeneration: 1 } });
    },
  );

  test(
    "our field manager's managedFields entry carries the time of the last change, " + 'not of a no-op apply',
    async () => {
      const { fake, api } = setup();
      const time = (o: KubeObject) => (o.metadata.managedFields as { manager: string; time: string }[])[0]!.time;
      const created = await api.apply(configMap('c'));
      expect(created.metadata.managedFields).toEqual([
        expect.objectContaining({
          manager: 'kubernetes-deploy-resource',
          operation: 'Apply',
          time: '2026-01-01T00:00:00Z',
        }),
      ]);
      await fake.clock.advance(5000);
      expect(time(await api.apply(configMap('c')))).toBe('2026-01-01T00:00:00Z');
      expect(time(await api.apply(configMap('c', { a: '2' })))).toBe('2026-01-01T00:00:05Z');
    },
  );

  test('dryRun answers what would be stored and stores nothing', async () => {
    const { fake, api } = setup();
    const answer = await api.apply(configMap('c'), { dryRun: true });
    expect(answer.metadata.name).toBe('c');
    expect(fake.get('v1', 'ConfigMap', 'ns', 'c')).toBeUndefined();
    await api.create(configMap('d'), { dryRun: true });
    expect(fake.objects('ConfigMap')).toEqual([]);
  });
});

describe('selectors', () => {
  const object = configMap('c', {}, { app: 'web', tier: 'front' });
  test.each([
    ['app=web', true],
    ['app==web,tier=front', true],
    ['app!=web', false],
    ['app in (api, web)', true],
    ['tier notin (front)', false],
    ['app', true],
    ['!missing', true],
    ['missing', false],
    ['', true],
  ])('label selector %j → %s', (selector, expected) => {
    expect(matchesLabels(object, selector)).toBe(expected);
  });

  test('field selectors on dotted paths', () => {
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e', namespace: 'ns' },
      involvedObject: { kind: 'Pod', name: 'web-1' },
    };
    expect(matchesFields(event, 'involvedObject.kind=Pod,involvedObject.name=web-1')).toBe(true);
    expect(matchesFields(event, 'involvedObject.name=web-2')).toBe(false);
    expect(matchesFields(event, 'metadata.name!=x')).toBe(true);
  });

  test('list filters by namespace and selectors and returns the store revision', async () => {
    const { fake, api } = setup();
    await api.create(configMap('a', {}, { app: 'web' }));
    await api.create(configMap('b', {}, { app: 'api' }));
    fake.seed({
      ...configMap('c', {}, { app: 'web' }),
      metadata: { name: 'c', namespace: 'default', labels: { app: 'web' } },
    });
    const list = await api.list('v1', 'ConfigMap', 'ns', 'app=web');
    expect(list.items.map((o) => o.metadata.name)).toEqual(['a']);
    expect(Number(list.resourceVersion)).toBeGreaterThanOrEqual(
      Number(fake.get('v1', 'ConfigMap', 'default', 'c')!.metadata.resourceVersion),
    );
    expect((await api.list('v1', 'ConfigMap', undefined, 'app=web')).items).toHaveLength(2);
  });

  test('listMetadata: the same items, metadata only; served logs the whole objects handed out, not these', async () => {
    const { fake, api } = setup();
    await api.create(configMap('a', { big: 'x'.repeat(1000) }, { app: 'web' }));
    await api.create(configMap('b', {}, { app: 'api' }));
    const from = fake.served.length;
    const list = await api.listMetadata('v1', 'ConfigMap', 'ns', 'app=web');
    expect(list.items).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: fake.get('v1', 'ConfigMap', 'ns', 'a')!.metadata },
    ]);
    expect(fake.served.slice(from)).toEqual([]);
    await api.list('v1', 'ConfigMap', 'ns');
    await api.read(key(configMap('a')));
    expect(fake.served.slice(from).map((s) => `${s.verb} ${s.name}`)).toEqual(['list a', 'list b', 'read a']);
  });
});

describe('watches', () => {
  function recorder() {
    const events: string[] = [];
    const ends: unknown[] = [];
    return {
      events,
      ends,
      onEvent: (e: WatchEvent) => events.push(`${e.type} ${e.object.metadata.name}`),
      onEnd: (error?: unknown) => ends.push(error),
    };
  }

  test(
    'without a resourceVersion: ADDED for what is there, then MODIFIED and DELETED; ' +
      'leaving the selector is DELETED',
    async () => {
      const { fake, api } = setup();
      await api.create(configMap('a', {}, { app: 'web' }));
      await api.create(configMap('other', {}, { app: 'api' }));
      const r = recorder();
      const handle = await api.watch('v1', 'ConfigMap', 'ns', { labelSelector: 'app=web' }, r.onEvent, r.onEnd);
      await api.apply(configMap('a', { a: '2' }, { app: 'web' }));
      await api.create(configMap('b', {}, { app: 'web' }));
      await api.patchMetadata(key(configMap('b')), { labels: { app: 'api' } });
      await api.patchMetadata(key(configMap('other')), { labels: { app: 'web' } });
      await api.remove(key(configMap('a')));
      await fake.clock.settle();
      expect(r.events).toEqual(['ADDED a', 'MODIFIED a', 'ADDED b', 'DELETED b', 'ADDED other', 'DELETED a']);
      handle.stop();
      await api.create(configMap('late', {}, { app: 'web' }));
      await fake.clock.settle();
      expect(r.events).toHaveLength(6);
      expect(r.ends).toEqual([undefined]);
    },
  );

  test('from a resourceVersion: the changes after it; a compacted one ends the watch with 410', async () => {
    const { fake, api } = setup();
    await api.create(configMap('a'));
    const { resourceVersion } = await api.list('v1', 'ConfigMap', 'ns');
    await api.create(configMap('b'));
    const r = recorder();
    await api.watch('v1', 'ConfigMap', 'ns', { resourceVersion }, r.onEvent, r.onEnd);
    await fake.clock.settle();
    expect(r.events).toEqual(['ADDED b']);

    fake.compact();
    const old = recorder();
    await api.watch('v1', 'ConfigMap', 'ns', { resourceVersion }, old.onEvent, old.onEnd);
    await fake.clock.settle();
    expect(old.ends).toHaveLength(1);
    expect((old.ends[0] as ApiRejectedError).status).toBe(410);
    // A resourceVersion listed after the compaction is fine: the changes after it arrive.
    const fresh = await api.list('v1', 'ConfigMap', 'ns');
    const resumed = recorder();
    await api.watch(
      'v1',
      'ConfigMap',
      'ns',
      { resourceVersion: fresh.resourceVersion },
      resumed.onEvent,
      resumed.onEnd,
    );
    await api.create(configMap('c'));
    await fake.clock.settle();
    expect(resumed).toMatchObject({ events: ['ADDED c'], ends: [] });
  });

  test('endWatches ends them as a cut connection would (onEnd with the error)', async () => {
    const { fake, api } = setup();
    const r = recorder();
    await api.watch('v1', 'Pod', 'ns', {}, r.onEvent, r.onEnd);
    expect(fake.watching('Pod')).toBe(1);
    const cut = new Error('socket hang up');
    fake.endWatches('Pod', cut);
    await fake.clock.settle();
    expect(r.ends).toEqual([cut]);
    expect(fake.watching()).toBe(0);
  });
});

describe('faults', () => {
  test('a fault fails the matching call once, with the error class the real client gives for that status', async () => {
    const { fake, api } = setup();
    fake.fail({ verb: 'create', kind: 'ConfigMap', name: 'c', status: 422, message: 'bad' });
    fake.fail({ verb: 'read', status: 503 });
    expect((await refusal(api.create(configMap('c')))).status).toBe(422);
    await expect(api.create(configMap('c'))).resolves.toBeDefined();
    await expect(api.read(key(configMap('c')))).rejects.toBeInstanceOf(ClusterConnectionError);
    await expect(api.read(key(configMap('c')))).resolves.toBeDefined();
  });

  test('times: Infinity fails every matching call; other names pass', async () => {
    const { fake, api } = setup();
    fake.fail({ verb: 'remove', name: 'c', status: 403, times: Infinity });
    await api.create(configMap('c'));
    await api.create(configMap('d'));
    for (let i = 0; i < 3; i++) expect((await refusal(api.remove(key(configMap('c'))))).status).toBe(403);
    expect(await api.remove(key(configMap('d')))).toBe(true);
  });

  test('a client bound to an aborted signal fails every call; its detached() one still works', async () => {
    const { fake } = setup();
    const controller = new AbortController();
    const api = fake.client(controller.signal);
    controller.abort(new AbortedError('aborted by the test'));
    await expect(api.read(key(configMap('c')))).rejects.toBeInstanceOf(AbortedError);
    await expect(api.detached().read(key(configMap('c')))).resolves.toBeUndefined();
  });
});

describe('the clock', () => {
  test('advance fires due timers in time order and leaves later ones', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 200);
    clock.setTimeout(() => fired.push('a'), 100);
    const cleared = clock.setTimeout(() => fired.push('never'), 50);
    clock.setTimeout(() => fired.push('c'), 300);
    clock.clearTimeout(cleared);
    await clock.advance(250);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(250);
    expect(clock.pending).toBe(1);
  });

  test(
    'run moves time to the next timer whenever the code only waits for one, ' + 'and fails a wait that never ends',
    async () => {
      const clock = new FakeClock(0);
      const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
      const result = await clock.run(
        (async () => {
          await sleep(1000);
          await sleep(2000);
          return clock.now();
        })(),
      );
      expect(result).toBe(3000);
      await expect(clock.run(new Promise(() => undefined))).rejects.toThrow(/still waiting/);
      const forever = async () => {
        for (;;) await sleep(1000);
      };
      await expect(clock.run(forever(), 10_000)).rejects.toThrow(/still waiting after 10000 ms/);
    },
  );
});

describe('the scripted Deployment controller', () => {
  test.each(['status-first', 'pods-first'] as const)(
    '%s: a ReplicaSet with the revision, Pods, then or before the status',
    async (order) => {
      const { fake, api } = setup();
      deploymentController(fake, () => ({ pods: 'ready', order }));
      await api.apply(deployment('web'));
      await fake.clock.settle();
      const [rs] = fake.objects('ReplicaSet', 'ns');
      const d = fake.get('apps/v1', 'Deployment', 'ns', 'web')!;
      expect(rs!.metadata).toMatchObject({
        annotations: { 'deployment.kubernetes.io/revision': '1' },
        ownerReferences: [{ uid: d.metadata.uid }],
      });
      expect(d).toMatchObject({
        metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } },
        status: { observedGeneration: 1, availableReplicas: 2 },
      });
      expect(fake.objects('Pod', 'ns').map((p) => p.metadata.labels?.['pod-template-hash'])).toEqual([
        rs!.metadata.labels?.['pod-template-hash'],
        rs!.metadata.labels?.['pod-template-hash'],
      ]);

      // A new template: revision 2, the old Pods gone.
      await api.apply(deployment('web', 'app:2'));
      await fake.clock.settle();
      expect(fake.objects('ReplicaSet', 'ns')).toHaveLength(2);
      expect(
        fake
          .objects('Pod', 'ns')
          .every((p) =>
            p.metadata.name.startsWith(
              `web-${
                fake
                  .objects('ReplicaSet', 'ns')
                  .find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2')!.metadata
                  .labels?.['pod-template-hash']
              }`,
            ),
          ),
      ).toBe(true);
      expect(fake.get('apps/v1', 'Deployment', 'ns', 'web')).toMatchObject({
        metadata: { generation: 2 },
        status: { observedGeneration: 2 },
      });
    },
  );

  test('waiting Pods carry the reason; a deadline shows as ProgressDeadlineExceeded', async () => {
    const { fake, api } = setup();
    deploymentController(fake, (d) =>
      d.metadata.name === 'bad'
        ? { pods: { waiting: 'ImagePullBackOff', message: 'no such image' } }
        : { pods: 'pending', deadlineExceeded: true },
    );
    await api.apply(deployment('bad'));
    await api.apply(deployment('slow'));
    await fake.clock.settle();
    const pod = fake.objects('Pod', 'ns').find((p) => p.metadata.name.startsWith('bad-'))!;
    expect(pod).toMatchObject({
      status: { containerStatuses: [{ state: { waiting: { reason: 'ImagePullBackOff' } } }] },
    });
    expect(fake.get('apps/v1', 'Deployment', 'ns', 'slow')).toMatchObject({
      status: { conditions: [{ reason: 'ProgressDeadlineExceeded' }], availableReplicas: 0 },
    });
  });
});
