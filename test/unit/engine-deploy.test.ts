// The put's engine (src/engine/deploy.ts) against the in-memory cluster: order, ownership, records, history and the
// rollout wait's decisions, in milliseconds. test/integration/deploy.test.ts proves the same against the real API.
import { describe, expect, test } from 'vitest';
import { deployRelease } from '../../src/engine/deploy.js';
import { createdForLabel } from '../../src/engine/namespace.js';
import { decodeRecord, encodeRecord, recordLabel, recordName, recordStatus } from '../../src/engine/records.js';
import { AbortedError, ApiRejectedError, RolloutFailedError, TimedOutError } from '../../src/errors.js';
import { FakeCluster, deploymentController } from '../support/fake-cluster.js';
import { deployInput, fakeWithController, foreign, releaseObjects } from '../support/fake-release.js';

const extras = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: staging}
---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: canary-db-password-5e1d}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: more-settings}
data: {a: b}
`;

const records = (fake: FakeCluster) =>
  fake
    .objects('Secret', 'ns')
    .filter((s) => s.metadata.labels?.[recordLabel.release] === 'web')
    .map((s) => `${s.metadata.labels?.[recordLabel.revision]}:${recordStatus(s)}`);

describe('deploy order', () => {
  test(
    'the lock, the pending record, extra objects kind by kind, the own objects last, the record deployed, ' +
      'the unlock',
    async () => {
      const fake = fakeWithController();
      const input = deployInput(fake, { manifests: extras, host: 'web.example.com' });
      const result = await fake.clock.run(deployRelease(input));
      expect(result).toMatchObject({ revision: 1, reused: false });
      expect(fake.log('create', 'apply', 'patchMetadata', 'remove')).toEqual([
        'create lease/kdr-lock.web',
        `create secret/${recordName('web', 1)}`,
        // Extras sorted by kind by the renderer (Secrets and ConfigMaps first), each kind together.
        ...releaseObjects({ manifests: extras, host: 'web.example.com' })
          .slice(0, 3)
          .map((o) => `apply ${o.kind.toLowerCase()}/${o.metadata.name}`),
        'apply deployment/web',
        'apply service/web',
        'apply ingress/web',
        `patchMetadata secret/${recordName('web', 1)}`,
        'remove lease/kdr-lock.web',
      ]);
      expect(result.changes.map((c) => `${c.ref} ${c.change}`)).toContain('deployment/web created');
      expect(records(fake)).toEqual(['1:deployed']);
      expect(fake.get('coordination.k8s.io/v1', 'Lease', 'ns', 'kdr-lock.web')).toBeUndefined();
    },
  );

  test(
    'a kind the cluster does not know, or a cluster-scoped one, ' + 'stops the put before anything is written',
    async () => {
      const fake = fakeWithController();
      const widget = 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n';
      await expect(fake.clock.run(deployRelease(deployInput(fake, { manifests: widget })))).rejects.toThrow(
        /does not know kind Widget in example.com\/v1.*CustomResourceDefinition/,
      );
      fake.defineKind('example.com/v1', 'Widget', false);
      await expect(fake.clock.run(deployRelease(deployInput(fake, { manifests: widget })))).rejects.toThrow(
        /widget\/w is cluster-scoped/,
      );
      expect(fake.log('apply', 'create').filter((c) => !c.includes('lease/'))).toEqual([]);
      fake.defineKind('example.com/v1', 'Widget', true);
      await fake.clock.run(deployRelease(deployInput(fake, { manifests: widget })));
      expect(fake.get('example.com/v1', 'Widget', 'ns', 'w')).toBeDefined();
    },
  );
});

describe('re-puts', () => {
  test('the same release again: same revision reused, every object unchanged, no new record', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { manifests: extras })));
    const before = fake.calls.length;
    const again = await fake.clock.run(deployRelease(deployInput(fake, { manifests: extras })));
    expect(again).toMatchObject({ revision: 1, reused: true });
    expect(new Set(again.changes.map((c) => c.change))).toEqual(new Set(['unchanged']));
    const writes = ['create', 'apply', 'replace', 'patchMetadata', 'remove'];
    // The record is only stamped with this put's time (a sweep's age); the one Secret applied is the extra
    // manifest's, unchanged: no record created, marked or pruned.
    expect(
      fake.calls
        .slice(before)
        .filter((c) => c.kind === 'Secret' && writes.includes(c.verb))
        .map((c) => `${c.verb} ${c.name}`),
    ).toEqual([`patchMetadata ${recordName('web', 1)}`, 'apply db']);
    expect(records(fake)).toEqual(['1:deployed']);
  });

  test('a changed image: a new revision; every object carries the version label, so each is configured', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake)));
    const changed = await fake.clock.run(deployRelease(deployInput(fake, { image: 'registry.local/team/web:2' })));
    expect(changed).toMatchObject({ revision: 2, reused: false });
    expect(changed.changes).toEqual([
      { ref: 'deployment/web', change: 'configured' },
      { ref: 'service/web', change: 'configured' },
    ]);
    expect(records(fake)).toEqual(['1:deployed', '2:deployed']);
    expect(decodeRecord(fake.get('v1', 'Secret', 'ns', recordName('web', 2))!).image.ref).toBe(
      'registry.local/team/web:2',
    );
  });

  test('changed replicas: the Deployment configured, the Service unchanged (same resourceVersion)', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake)));
    const service = fake.get('v1', 'Service', 'ns', 'web')!;
    const changed = await fake.clock.run(deployRelease(deployInput(fake, { replicas: 3 })));
    expect(changed.changes).toEqual([
      { ref: 'deployment/web', change: 'configured' },
      { ref: 'service/web', change: 'unchanged' },
    ]);
    expect(fake.get('v1', 'Service', 'ns', 'web')!.metadata.resourceVersion).toBe(service.metadata.resourceVersion);
  });

  test('mode create: any object of the release that exists stops the put (409) and nothing is created', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake)));
    const error = await fake.clock
      .run(deployRelease(deployInput(fake, { mode: 'create', image: 'registry.local/team/web:2' })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect((error as ApiRejectedError).message).toMatch(/mode create: deployment\/web, service\/web already exist/);
    expect(records(fake)).toEqual(['1:deployed']);
  });
});

describe('ownership', () => {
  test('a same-named object without our labels is refused (409), left untouched, and nothing is written', async () => {
    const fake = fakeWithController();
    const theirs = fake.seed(foreign('Service', 'web'));
    const error = await fake.clock.run(deployRelease(deployInput(fake))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect((error as ApiRejectedError).status).toBe(409);
    expect((error as Error).message).toMatch(
      /service\/web already exists in namespace ns and is not managed by this release/,
    );
    expect(fake.get('v1', 'Service', 'ns', 'web')).toEqual(theirs);
    expect(fake.log('apply')).toEqual([]);
    expect(records(fake)).toEqual([]);
    // The lock is released even so.
    expect(fake.objects('Lease', 'ns')).toEqual([]);
  });

  test("another release's object of the same name (our managed-by, another instance) is refused too", async () => {
    const fake = fakeWithController();
    await fake.clock.run(
      deployRelease(
        deployInput(fake, { app: 'api', manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n' }),
      ),
    );
    const error = await fake.clock
      .run(
        deployRelease(deployInput(fake, { manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n' })),
      )
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/configmap\/shared already exists .* not managed by this release/);
  });
});

describe('records', () => {
  test('a failed rollout leaves the record failed; the next put takes a new revision and is deployed', async () => {
    const fake = fakeWithController((d) =>
      JSON.stringify(d).includes('web:bad')
        ? { pods: { waiting: 'ImagePullBackOff', message: 'not found' } }
        : { pods: 'ready' },
    );
    await expect(
      fake.clock.run(deployRelease(deployInput(fake, { image: 'registry.local/team/web:bad' }))),
    ).rejects.toBeInstanceOf(RolloutFailedError);
    expect(records(fake)).toEqual(['1:failed']);
    // The same content again is not reused: only a deployed record is.
    await expect(
      fake.clock.run(deployRelease(deployInput(fake, { image: 'registry.local/team/web:bad' }))),
    ).rejects.toBeInstanceOf(RolloutFailedError);
    const fixed = await fake.clock.run(deployRelease(deployInput(fake, { image: 'registry.local/team/web:2' })));
    expect(fixed).toMatchObject({ revision: 3, reused: false });
    expect(records(fake)).toEqual(['1:failed', '2:failed', '3:deployed']);
  });

  test('a refused apply leaves the record failed, never pending', async () => {
    const fake = fakeWithController();
    fake.fail({ verb: 'apply', kind: 'Service', status: 422, message: 'spec.ports: Invalid value' });
    const error = await fake.clock.run(deployRelease(deployInput(fake))).catch((e: unknown) => e);
    expect((error as ApiRejectedError).status).toBe(422);
    expect(records(fake)).toEqual(['1:failed']);
  });

  test('a record left pending by a put that was cut off is marked failed by the next one', async () => {
    const fake = fakeWithController();
    const input = deployInput(fake);
    fake.seed(
      encodeRecord(
        {
          app: 'web',
          namespace: 'ns',
          revision: 1,
          image: input.release.image,
          objects: input.release.objects,
          build: {},
          createdAt: input.now.toISOString(),
          contentHash: 'x',
        },
        'pending',
      ),
    );
    const result = await fake.clock.run(deployRelease(input));
    expect(result.revision).toBe(2);
    expect(records(fake)).toEqual(['1:failed', '2:deployed']);
    expect(input.log.lines).toContain('marked revision 1 of web failed: the put that wrote it did not finish');
  });

  test('history_limit keeps the newest records, this put included', async () => {
    const fake = fakeWithController();
    for (let i = 1; i <= 5; i++)
      await fake.clock.run(
        deployRelease(deployInput(fake, { image: `registry.local/team/web:${i}`, historyLimit: 3 })),
      );
    expect(records(fake)).toEqual(['3:deployed', '4:deployed', '5:deployed']);
    const last = deployInput(fake, { image: 'registry.local/team/web:6', historyLimit: 1 });
    await fake.clock.run(deployRelease(last));
    expect(records(fake)).toEqual(['6:deployed']);
    expect(last.log.lines).toContain('pruned 3 old release records (history_limit 1)');
  });
});

describe('namespace', () => {
  test('create_namespace makes it, labelled as ours; without it a missing namespace is a clear 404', async () => {
    const fake = deploymentController(new FakeCluster(), () => ({ pods: 'ready' }));
    const error = await fake.clock.run(deployRelease(deployInput(fake))).catch((e: unknown) => e);
    expect((error as ApiRejectedError).status).toBe(404);
    expect((error as Error).message).toBe(
      'namespace ns does not exist (set params.create_namespace: true to create it)',
    );
    await fake.clock.run(deployRelease(deployInput(fake, { createNamespace: true })));
    expect(fake.get('v1', 'Namespace', undefined, 'ns')?.metadata.labels?.[createdForLabel]).toBe('web');
    expect(records(fake)).toEqual(['1:deployed']);
  });
});

describe('the rollout wait, through the loop', () => {
  test.each(['status-first', 'pods-first'] as const)(
    'done when the controller reports the new replicas available (%s)',
    async (order) => {
      const fake = fakeWithController(() => ({ pods: 'ready', order }));
      const input = deployInput(fake);
      const result = await fake.clock.run(deployRelease(input));
      expect(result.rolloutMs).toBe(0);
      expect(input.log.lines).toContain('deployment/web: successfully rolled out (2 of 2 replicas available)');
    },
  );

  test.each(['status-first', 'pods-first'] as const)(
    'fails fast on a Pod that cannot pull its image (%s), with the cause and the events',
    async (order) => {
      const fake = fakeWithController(() => ({
        pods: { waiting: 'ImagePullBackOff', message: 'Back-off pulling image' },
        order,
      }));
      const started = fake.clock.now();
      const error = await fake.clock.run(deployRelease(deployInput(fake))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RolloutFailedError);
      expect((error as Error).message).toMatch(
        new RegExp(
          String.raw`^deployment/web failed: pod/web-\w+-0 container web: ImagePullBackOff: Back-off pulling image; ` +
            String.raw`recent events: Warning Failed: Error: ImagePullBackOff$`,
        ),
      );
      // Long before the timeout.
      expect(fake.clock.now() - started).toBeLessThan(1000);
    },
  );

  test('fails on ProgressDeadlineExceeded', async () => {
    const fake = fakeWithController(() => ({ pods: 'pending', deadlineExceeded: true }));
    await expect(fake.clock.run(deployRelease(deployInput(fake)))).rejects.toThrow(
      /deployment\/web exceeded its progress deadline \(ProgressDeadlineExceeded\)/,
    );
  });

  test(
    'times out after exactly the timeout on the clock when the Pods never become ready; ' + 'the record says failed',
    async () => {
      const fake = fakeWithController(() => ({ pods: 'pending' }));
      const started = fake.clock.now();
      const error = await fake.clock
        .run(deployRelease(deployInput(fake, { timeoutMs: 90_000 })))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimedOutError);
      expect((error as Error).message).toBe(
        'timed out after 1m30s waiting for the rollout: deployment/web: 0 of 2 updated replicas available',
      );
      expect(fake.clock.now() - started).toBe(90_000);
      expect(records(fake)).toEqual(['1:failed']);
    },
  );

  test('waits on the clock while the controller is slow, then succeeds', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    // No controller at first: the Deployment stays unobserved until the test plays the controller at 20 s.
    const input = deployInput(fake);
    const put = deployRelease(input);
    fake.clock.setTimeout(
      () =>
        deploymentController(fake, () => ({ pods: 'ready' })).update(
          { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' },
          (d) => (d.metadata.annotations = { poke: '1' }),
        ),
      20_000,
    );
    const result = await fake.clock.run(put);
    expect(result.rolloutMs).toBe(20_000);
    expect(input.log.lines).toContain('deployment/web: waiting for the deployment spec update to be observed');
  });

  test('watches cut mid-rollout are resumed from their resourceVersion and the rollout is still seen', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    const input = deployInput(fake);
    const put = deployRelease(input);
    fake.clock.setTimeout(() => fake.endWatches(undefined, new Error('socket hang up')), 1000);
    // While no watch is open, the controller does its work: only the resumed watches can tell.
    fake.clock.setTimeout(
      () =>
        deploymentController(fake, () => ({ pods: 'ready' })).update(
          { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' },
          (d) => (d.metadata.annotations = { poke: '1' }),
        ),
      1200,
    );
    const result = await fake.clock.run(put);
    // Seen when the first watch is resumed, 500 ms after the cut, long before the 10 s resync would have.
    expect(result.rolloutMs).toBe(1500);
    expect(fake.log('watch').slice(4)).toEqual(['watch deployment']);
    // Resumed from the resourceVersion it had: no relist.
    expect(fake.calls.filter((c) => c.verb === 'list' && c.kind === 'Deployment')).toHaveLength(0);
  });

  test(
    'an abort stops the wait (exit 7 class) ' + 'and the record is still marked failed through the detached client',
    async () => {
      const fake = fakeWithController(() => ({ pods: 'pending' }));
      const controller = new AbortController();
      const input = deployInput(fake, { signal: controller.signal });
      input.cluster = fake.client(controller.signal);
      fake.clock.setTimeout(() => controller.abort(new AbortedError('aborted: SIGTERM')), 5000);
      const error = await fake.clock.run(deployRelease(input)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortedError);
      expect(records(fake)).toEqual(['1:failed']);
      expect(fake.objects('Lease', 'ns')).toEqual([]);
    },
  );

  test('wait: false returns once applied, without a rollout duration', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    const result = await fake.clock.run(deployRelease(deployInput(fake, { wait: false })));
    expect(result.rolloutMs).toBeUndefined();
    expect(records(fake)).toEqual(['1:deployed']);
    expect(fake.log('watch')).toEqual([]);
  });
});

describe('rollback (on_failure: rollback)', () => {
  const configMaps = (...names: string[]) =>
    names.map((name) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: b}\n`).join('---\n');

  test(
    'puts the last deployed revision back, judged on the objects as the failed attempt left them, ' +
      'and prunes what the attempt added',
    async () => {
      const fake = fakeWithController((d) =>
        JSON.stringify(d).includes('web:bad')
          ? { pods: { waiting: 'ImagePullBackOff', message: 'not found' } }
          : { pods: 'ready' },
      );
      await fake.clock.run(deployRelease(deployInput(fake, { manifests: configMaps('kept'), prune: true })));
      const input = deployInput(fake, {
        image: 'registry.local/team/web:bad',
        manifests: configMaps('added'),
        onFailure: 'rollback',
        prune: true,
      });
      await expect(fake.clock.run(deployRelease(input))).rejects.toBeInstanceOf(RolloutFailedError);
      expect(JSON.stringify(fake.get('apps/v1', 'Deployment', 'ns', 'web'))).toContain('registry.local/team/web:1');
      expect(fake.get('v1', 'ConfigMap', 'ns', 'added')).toBeUndefined();
      expect(fake.get('v1', 'ConfigMap', 'ns', 'kept')).toBeDefined();
      const rollback = input.log.lines.slice(input.log.lines.findIndex((l) => l.startsWith('rolling back')));
      // There all along (the failed attempt only left it out): unchanged, not created.
      expect(rollback).toContain('configmap/kept unchanged');
      expect(rollback).toContain('deployment/web configured');
      expect(rollback).toContain('configmap/added pruned');
      expect(rollback.at(-1)).toBe('rolled back to revision 1');
      expect(records(fake)).toEqual(['1:deployed', '2:failed']);
    },
  );
});
