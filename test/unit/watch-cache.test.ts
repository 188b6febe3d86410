// The rollout wait's watch cache (src/rollout/watch-cache.ts) on the fake cluster and its clock: what it watches, how
// it follows changes, resumes cut watches, relists after 410 Gone, resyncs, fails on a refusal, and stops.
import { describe, expect, test } from 'vitest';
import { ApiRejectedError } from '../../src/errors.js';
import type { KubeObject } from '../../src/kube/object.js';
import { memoryLogger } from '../../src/log.js';
import { waitForAnnotation } from '../../src/manifests/wait-for.js';
import { WatchCache, watchTargets, type WatchCacheOptions } from '../../src/rollout/watch-cache.js';
import { FakeCluster } from '../support/fake-cluster.js';

const labels = { app: 'web' };
const deployment: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels } };
const job: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', labels } };
const cronJob: KubeObject = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', labels } };
const widget = (name: string): KubeObject => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name, labels, annotations: { [waitForAnnotation]: 'condition=Ready' } },
});
const pod = (name: string, app = 'web'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app } },
});
const event = (name: string, reason: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name, namespace: 'default' },
  reason,
});

function started(workloads: KubeObject[] = [deployment], options: Partial<WatchCacheOptions> = {}) {
  const fake = new FakeCluster();
  const log = memoryLogger();
  const failures: Error[] = [];
  const seen = { changes: 0 };
  const cache = new WatchCache({
    cluster: fake.client(),
    namespace: 'default',
    selector: 'app=web',
    workloads,
    clock: fake.clock,
    log,
    onChange: () => seen.changes++,
    onFailure: (error) => failures.push(error),
    ...options,
  });
  cache.start();
  return { fake, cache, log, failures, seen };
}

const names = (objects: KubeObject[]) => objects.map((o) => o.metadata.name).sort();

describe('what the cache watches', () => {
  test('the kinds the workloads need, each once; kinds waited for by a condition go into Custom', () => {
    const targets = watchTargets([deployment, job, widget('a'), widget('b'), cronJob]);
    expect(targets.map((t) => [t.id, t.into])).toEqual([
      ['Deployment', 'Deployment'],
      ['ReplicaSet', 'ReplicaSet'],
      ['Pod', 'Pod'],
      ['Event', 'Event'],
      ['Job', 'Job'],
      ['example.com/v1 Widget', 'Custom'],
    ]);
    expect(targets.find((t) => t.id === 'Job')).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job' });
  });

  test('nothing for a release of only CronJobs: no watch, no list; stop leaves no timer', async () => {
    const { fake, cache } = started([cronJob]);
    await fake.clock.settle();
    expect(cache.watching).toBe(false);
    expect(fake.watching()).toBe(0);
    expect(fake.log('watch', 'list')).toEqual([]);
    cache.stop();
    expect(fake.clock.pending).toBe(0);
  });

  test("what matches the release's selector, and only the controllers' FailedCreate events", async () => {
    const { fake, cache, seen } = started();
    fake.seed(pod('web-1'));
    fake.seed(pod('db-1', 'db'));
    fake.seed(event('refused', 'FailedCreate'));
    fake.seed(event('pulled', 'Pulled'));
    await fake.clock.settle();
    const snapshot = cache.snapshot();
    expect(names(snapshot.Pod)).toEqual(['web-1']);
    expect(names(snapshot.Event)).toEqual(['refused']);
    expect(snapshot.Deployment).toEqual([]);
    expect(seen.changes).toBe(2);
    expect(fake.log('watch').sort()).toEqual(['watch deployment', 'watch event', 'watch pod', 'watch replicaset']);
  });
});

describe('keeping up to date', () => {
  test('objects there before the start arrive without a list; changes and departures follow', async () => {
    const fake = new FakeCluster();
    fake.seed(pod('web-1'));
    fake.seed(pod('web-2'));
    const failures: Error[] = [];
    const cache = new WatchCache({
      ...{ cluster: fake.client(), namespace: 'default', selector: 'app=web', workloads: [deployment] },
      ...{ clock: fake.clock, log: memoryLogger(), onChange: () => undefined, onFailure: (e) => failures.push(e) },
    });
    cache.start();
    await fake.clock.settle();
    expect(names(cache.snapshot().Pod)).toEqual(['web-1', 'web-2']);
    expect(fake.log('list')).toEqual([]);

    fake.update({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1' }, (p) => {
      (p as { status?: unknown }).status = { phase: 'Running' };
    });
    // Leaving the selector is a DELETED event for the watch.
    fake.update({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-2' }, (p) => {
      p.metadata.labels = { app: 'other' };
    });
    await fake.clock.settle();
    expect(cache.snapshot().Pod).toMatchObject([{ metadata: { name: 'web-1' }, status: { phase: 'Running' } }]);
    expect(failures).toEqual([]);
    cache.stop();
  });

  test('a cut watch resumes after 500 ms where it was, without a list; what changed meanwhile arrives', async () => {
    const { fake, cache, failures } = started();
    fake.seed(pod('web-1'));
    await fake.clock.settle();
    fake.endWatches('Pod');
    fake.seed(pod('web-2'));
    await fake.clock.advance(499);
    expect(fake.watching('Pod')).toBe(0);
    expect(names(cache.snapshot().Pod)).toEqual(['web-1']);
    await fake.clock.advance(1);
    expect(fake.watching('Pod')).toBe(1);
    expect(names(cache.snapshot().Pod)).toEqual(['web-1', 'web-2']);
    expect(fake.log('list')).toEqual([]);
    expect(failures).toEqual([]);
    cache.stop();
  });

  test('a cut watch that never saw an object (no resourceVersion) lists before it watches again', async () => {
    const { fake, cache, failures } = started();
    await fake.clock.settle();
    fake.endWatches('Pod');
    fake.seed(pod('web-1'));
    await fake.clock.advance(500);
    expect(fake.log('list')).toEqual(['list pod']);
    expect(fake.watching('Pod')).toBe(1);
    expect(names(cache.snapshot().Pod)).toEqual(['web-1']);
    expect(failures).toEqual([]);
    cache.stop();
  });

  test('a watch whose resourceVersion is gone (410) lists again and watches from there', async () => {
    const { fake, cache, failures } = started();
    fake.seed(pod('web-1'));
    await fake.clock.settle();
    fake.endWatches('Pod');
    fake.seed(pod('web-2'));
    fake.update({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1' }, (p) => {
      p.metadata.labels = { app: 'other' };
    });
    fake.compact();
    await fake.clock.advance(500);
    // The resumed watch was refused with 410 Gone: a list, then a watch from the list's resourceVersion.
    expect(fake.log('list')).toEqual([]);
    await fake.clock.advance(500);
    expect(fake.log('list')).toEqual(['list pod']);
    expect(fake.watching('Pod')).toBe(1);
    expect(names(cache.snapshot().Pod)).toEqual(['web-2']);
    fake.seed(pod('web-3'));
    await fake.clock.settle();
    expect(names(cache.snapshot().Pod)).toEqual(['web-2', 'web-3']);
    expect(failures).toEqual([]);
    cache.stop();
  });

  test('a resync lists every kind; one that fails is a warning, and the next comes all the same', async () => {
    const { fake, cache, log, seen, failures } = started([deployment], { resyncMs: 1000 });
    fake.fail({ verb: 'list', kind: 'Pod', status: 500 });
    await fake.clock.advance(1000);
    expect(log.lines).toEqual([
      "warning: resync of the rollout's objects failed (the watches carry on): " +
        'the API server at https://fake-cluster.test failed to list pods in namespace default: ' +
        '500 injected by the test',
    ]);
    expect(seen.changes).toBe(0);
    await fake.clock.advance(1000);
    expect(fake.log('list').filter((l) => l === 'list pod')).toHaveLength(2);
    expect(fake.log('list')).toHaveLength(8);
    expect(seen.changes).toBe(1);
    expect(log.lines).toHaveLength(1);
    expect(failures).toEqual([]);
    cache.stop();
  });
});

describe('failing and stopping', () => {
  test('a watch the server refuses (403) fails at once and is not tried again', async () => {
    const { fake, cache, failures } = started();
    await fake.clock.settle();
    const refused = new ApiRejectedError('forbidden (403) to watch replicasets', 403);
    fake.endWatches('ReplicaSet', refused);
    await fake.clock.advance(1000);
    expect(failures).toEqual([refused]);
    expect(fake.watching('ReplicaSet')).toBe(0);
    cache.stop();
  });

  test('a watch refused as it starts fails too', async () => {
    const fake = new FakeCluster();
    fake.fail({ verb: 'watch', kind: 'Pod', status: 403, message: 'pods is forbidden' });
    const failures: Error[] = [];
    const cache = new WatchCache({
      ...{ cluster: fake.client(), namespace: 'default', selector: 'app=web', workloads: [deployment] },
      ...{ clock: fake.clock, log: memoryLogger(), onChange: () => undefined, onFailure: (e) => failures.push(e) },
    });
    cache.start();
    await fake.clock.settle();
    expect(failures.map((e) => e.message)).toEqual([
      'forbidden (403) to watch pods in namespace default: pods is forbidden',
    ]);
    cache.stop();
  });

  test('stop ends every watch and timer, and nothing is called back after it', async () => {
    const { fake, cache, seen, failures } = started([deployment], { resyncMs: 1000 });
    await fake.clock.settle();
    expect(fake.watching()).toBe(4);
    cache.stop();
    expect(fake.watching()).toBe(0);
    expect(fake.clock.pending).toBe(0);
    fake.seed(pod('web-1'));
    await fake.clock.advance(5000);
    expect(seen.changes).toBe(0);
    expect(fake.log('watch', 'list')).toHaveLength(4);
    expect(failures).toEqual([]);
  });

  test('a watch that answers after the stop is stopped at once', async () => {
    const { fake, cache } = started();
    cache.stop();
    await fake.clock.settle();
    expect(fake.log('watch')).toHaveLength(4);
    expect(fake.watching()).toBe(0);
  });
});
