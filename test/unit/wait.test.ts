// The watch-driven rollout wait with a fake cluster and a fake clock: no process, no network, microseconds.
import { describe, expect, test } from 'vitest';
import type { ClusterApi, WatchEvent } from '../../src/cluster/api.js';
import { AbortedError, ApiRejectedError, RolloutFailedError, TimedOutError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import type { KubeObject } from '../../src/kube/object.js';
import { waitForRollout } from '../../src/rollout/wait.js';
import type { Clock } from '../../src/time.js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 0;
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout(id) {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

function fakeCluster(events: KubeObject[] = []) {
  const watchers = new Map<string, { onEvent: (e: WatchEvent) => void; onEnd: (error?: unknown) => void }>();
  const cluster = {
    server: 'https://fake',
    list: async (_v: string, kind: string) => ({ items: kind === 'Event' ? events : [], resourceVersion: '1' }),
    watch: async (_v: string, kind: string, _ns: string | undefined, _o: unknown, onEvent: (e: WatchEvent) => void, onEnd: (error?: unknown) => void) => {
      watchers.set(kind, { onEvent, onEnd });
      return { stop: () => watchers.delete(kind) };
    },
  } as unknown as ClusterApi;
  const emit = (kind: string, type: WatchEvent['type'], object: KubeObject) => watchers.get(kind)!.onEvent({ type, object });
  return { cluster, watchers, emit };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const deployment = (status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', generation: 1, uid: 'd1', annotations: { 'deployment.kubernetes.io/revision': '1' } },
  spec: { replicas: 2 },
  status: { observedGeneration: 1, ...status },
});
const replicaSet: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-abc', labels: { 'pod-template-hash': 'abc' }, annotations: { 'deployment.kubernetes.io/revision': '1' }, ownerReferences: [{ uid: 'd1' }] as never },
};

async function started(options: Partial<Parameters<typeof waitForRollout>[0]> = {}) {
  const fake = fakeCluster();
  const clock = fakeClock();
  const log = memoryLogger();
  const result = waitForRollout({ cluster: fake.cluster, namespace: 'ns', selector: 's', deployments: ['web'], timeoutMs: 60_000, log, clock, ...options });
  result.catch(() => undefined);
  await tick();
  return { ...fake, clock, log, result };
}

describe('waitForRollout', () => {
  test('resolves once the watched Deployment is available, with progress lines on the way', async () => {
    const { emit, clock, log, result } = await started();
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 }));
    await tick();
    clock.advance(1500);
    emit('Deployment', 'MODIFIED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }));
    await expect(result).resolves.toEqual({ durationMs: 1500 });
    expect(log.lines).toEqual(['deployment/web: 1 of 2 updated replicas available', 'deployment/web: successfully rolled out (2 of 2 replicas available)']);
  });

  test('fails as soon as a Pod of the current ReplicaSet is in ImagePullBackOff, with its events', async () => {
    const events: KubeObject[] = [{ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' }];
    const fake = fakeCluster(events);
    const result = waitForRollout({ cluster: fake.cluster, namespace: 'ns', selector: 's', deployments: ['web'], timeoutMs: 60_000, log: memoryLogger(), clock: fakeClock() });
    await tick();
    fake.emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2 }));
    fake.emit('ReplicaSet', 'ADDED', replicaSet);
    fake.emit('Pod', 'ADDED', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-abc-1', labels: { 'pod-template-hash': 'abc' } },
      status: { containerStatuses: [{ name: 'web', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }] },
    });
    await expect(result).rejects.toEqual(
      new RolloutFailedError('deployment/web failed: pod/web-abc-1 container web: ImagePullBackOff: Back-off pulling image; recent events: Warning Failed: Error: ImagePullBackOff'),
    );
  });

  test('times out with the last progress line', async () => {
    const { emit, clock, result } = await started({ timeoutMs: 5000 });
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 0 }));
    await tick();
    clock.advance(5000);
    await expect(result).rejects.toEqual(new TimedOutError('timed out after 5.0s waiting for the rollout: deployment/web: 0 of 2 updated replicas available'));
  });

  test('an abort ends the wait at once', async () => {
    const abort = new AbortController();
    const { result } = await started({ signal: abort.signal });
    abort.abort(new AbortedError('aborted by SIGTERM'));
    await expect(result).rejects.toEqual(new AbortedError('aborted by SIGTERM'));
  });

  test('a dropped watch is started again; a refused one fails the wait', async () => {
    const { watchers, clock, result } = await started();
    watchers.get('Pod')!.onEnd(new Error('socket hang up'));
    clock.advance(500);
    await tick();
    expect(watchers.has('Pod')).toBe(true);
    watchers.get('ReplicaSet')!.onEnd(new ApiRejectedError('forbidden (403) to watch replicasets', 403));
    await expect(result).rejects.toThrow('forbidden (403) to watch replicasets');
    // Stopped: no watch is left open.
    expect(watchers.size).toBe(0);
  });
});
