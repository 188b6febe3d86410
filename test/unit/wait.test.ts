// The watch-driven rollout wait with a fake cluster and a fake clock: no process, no network, microseconds.
import { describe, expect, test } from 'vitest';
import type { ClusterApi, WatchEvent } from '../../src/cluster/api.js';
import { AbortedError, ApiRejectedError, RolloutFailedError, TimedOutError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import type { KubeObject } from '../../src/kube/object.js';
import { waitForRollout, type WaitOptions } from '../../src/rollout/wait.js';
import { Deadline, type Clock } from '../../src/time.js';

type FakeClock = Clock & { advance(ms: number): void };

function fakeClock(): FakeClock {
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

function fakeCluster(events: KubeObject[] = [], podLog?: ClusterApi['podLog']) {
  const watchers = new Map<string, { onEvent: (e: WatchEvent) => void; onEnd: (error?: unknown) => void }>();
  const watchOptions = new Map<string, unknown>();
  const cluster = {
    server: 'https://fake',
    list: async (_v: string, kind: string, _ns: string, _l?: string, field?: string) => ({
      // Events of the object named by the field selector (events without involvedObject: for any).
      items:
        kind === 'Event'
          ? events.filter(
              (e) =>
                !e.involvedObject ||
                field?.split(',').includes(`involvedObject.name=${(e.involvedObject as { name: string }).name}`),
            )
          : [],
      resourceVersion: '1',
    }),
    watch: async (
      _v: string,
      kind: string,
      _ns: string | undefined,
      o: unknown,
      onEvent: (e: WatchEvent) => void,
      onEnd: (error?: unknown) => void,
    ) => {
      watchers.set(kind, { onEvent, onEnd });
      watchOptions.set(kind, o);
      return { stop: () => watchers.delete(kind) };
    },
    podLog,
  } as unknown as ClusterApi;
  const emit = (kind: string, type: WatchEvent['type'], object: KubeObject) =>
    watchers.get(kind)!.onEvent({ type, object });
  return { cluster, watchers, watchOptions, emit };
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
  metadata: {
    name: 'web-abc',
    labels: { 'pod-template-hash': 'abc' },
    annotations: { 'deployment.kubernetes.io/revision': '1' },
    ownerReferences: [{ uid: 'd1' }] as never,
  },
};

/** Test knobs: `timeoutMs` becomes the put's Deadline on the fake clock, starting now (unless `deadline` is given). */
type Knobs = Partial<WaitOptions> & { timeoutMs?: number; clock?: FakeClock };

async function started({ timeoutMs = 60_000, clock = fakeClock(), ...options }: Knobs = {}) {
  const fake = fakeCluster();
  const log = memoryLogger();
  // No grace for events by default: these fakes have none; the grace has its own tests.
  const result = waitForRollout({
    cluster: fake.cluster,
    namespace: 'ns',
    selector: 's',
    workloads: [deployment({})],
    deadline: new Deadline(clock, timeoutMs),
    log,
    eventsGraceMs: 0,
    ...options,
  });
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
    expect(log.lines).toEqual([
      'deployment/web: 1 of 2 updated replicas available',
      'deployment/web: successfully rolled out (2 of 2 replicas available)',
    ]);
  });

  test('fails as soon as a Pod of the current ReplicaSet is in ImagePullBackOff, with its events', async () => {
    const events: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e' },
        type: 'Warning',
        reason: 'Failed',
        message: 'Error: ImagePullBackOff',
      },
    ];
    const fake = fakeCluster(events);
    const result = waitForRollout({
      cluster: fake.cluster,
      namespace: 'ns',
      selector: 's',
      workloads: [deployment({})],
      deadline: new Deadline(fakeClock(), 60_000),
      log: memoryLogger(),
    });
    await tick();
    fake.emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2 }));
    fake.emit('ReplicaSet', 'ADDED', replicaSet);
    fake.emit('Pod', 'ADDED', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-abc-1', labels: { 'pod-template-hash': 'abc' } },
      status: {
        containerStatuses: [
          {
            name: 'web',
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
          },
        ],
      },
    });
    await expect(result).rejects.toEqual(
      new RolloutFailedError(
        'deployment/web failed: pod/web-abc-1 container web: ImagePullBackOff: Back-off pulling image; ' +
          'recent events: Warning Failed: Error: ImagePullBackOff',
      ),
    );
  });

  test('a crash loop ends with the last lines of the run that crashed; an unreadable log is said', async () => {
    const crashing: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-abc-1', labels: { 'pod-template-hash': 'abc' } },
      status: {
        containerStatuses: [
          {
            name: 'web',
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
            lastState: { terminated: { exitCode: 1 } },
          },
        ],
      },
    };
    const failWith = async (podLog: ClusterApi['podLog']) => {
      const fake = fakeCluster([], podLog);
      const result = waitForRollout({
        cluster: fake.cluster,
        namespace: 'ns',
        selector: 's',
        workloads: [deployment({})],
        deadline: new Deadline(fakeClock(), 60_000),
        log: memoryLogger(),
        eventsGraceMs: 0,
      });
      await tick();
      fake.emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2 }));
      fake.emit('ReplicaSet', 'ADDED', replicaSet);
      fake.emit('Pod', 'ADDED', crashing);
      return result.then(
        () => 'resolved',
        (error: Error) => error.message,
      );
    };
    const asked: unknown[] = [];
    const message = await failWith(async (namespace, pod, options) => {
      asked.push({ namespace, pod, ...options });
      return 'connecting to db:5432\nerror: cannot connect to db:5432: connection refused\n';
    });
    expect(message).toBe(
      'deployment/web failed: pod/web-abc-1 container web: CrashLoopBackOff (restarted 3 times): back-off 40s; ' +
        'last 2 log lines of container web (its previous run, the one that exited): ' +
        'connecting to db:5432 ⏎ error: cannot connect to db:5432: connection refused',
    );
    expect(asked).toEqual([
      { namespace: 'ns', pod: 'web-abc-1', container: 'web', previous: true, tailLines: 20, limitBytes: 65536 },
    ]);
    const forbidden = await failWith(async () => {
      throw new ApiRejectedError(
        'forbidden (403) to read the log of pod/web-abc-1: pods "web-abc-1" is forbidden',
        403,
      );
    });
    expect(forbidden).toContain('back-off 40s; the log of container web (its previous run, the one that exited)');
    expect(forbidden).toContain('could not be read: the credentials may not get pods/log in namespace ns');
  });

  describe('a failure seen before the events that explain it', () => {
    const failingPod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-abc-1', labels: { 'pod-template-hash': 'abc' } },
      status: {
        containerStatuses: [
          { name: 'web', restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: 'denied' } } },
        ],
      },
    };
    const pullEvent: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e' },
      type: 'Warning',
      reason: 'Failed',
      message: 'Error: ErrImagePull',
    };
    async function failing(timeoutMs = 60_000) {
      const events: KubeObject[] = [];
      const fake = fakeCluster(events);
      const clock = fakeClock();
      const result = waitForRollout({
        cluster: fake.cluster,
        namespace: 'ns',
        selector: 's',
        workloads: [deployment({})],
        deadline: new Deadline(clock, timeoutMs),
        log: memoryLogger(),
      });
      let settledAt: number | undefined;
      result.then(
        () => (settledAt = clock.now()),
        () => (settledAt = clock.now()),
      );
      await tick();
      fake.emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2 }));
      fake.emit('ReplicaSet', 'ADDED', replicaSet);
      fake.emit('Pod', 'ADDED', failingPod);
      const advance = async (ms: number) => {
        for (let t = 0; t < ms; t += 50) {
          await tick();
          clock.advance(50);
        }
        await tick();
      };
      return { events, result, advance, settled: () => settledAt };
    }

    test('waits for the events that arrive a moment later and names them', async () => {
      const { events, result, advance, settled } = await failing();
      await advance(600);
      expect(settled()).toBeUndefined();
      events.push(pullEvent);
      await advance(300);
      await expect(result).rejects.toEqual(
        new RolloutFailedError(
          'deployment/web failed: pod/web-abc-1 container web: ErrImagePull: denied; ' +
            'recent events: Warning Failed: Error: ErrImagePull',
        ),
      );
      expect(settled()).toBeLessThanOrEqual(1000);
    });

    test('without events, fails with the status alone after the grace (2 s), not later', async () => {
      const { result, advance, settled } = await failing();
      await advance(1900);
      expect(settled()).toBeUndefined();
      await advance(300);
      await expect(result).rejects.toEqual(
        new RolloutFailedError('deployment/web failed: pod/web-abc-1 container web: ErrImagePull: denied'),
      );
      expect(settled()).toBeGreaterThanOrEqual(2000);
      expect(settled()).toBeLessThanOrEqual(2100);
    });

    test('never waits for events past the deadline', async () => {
      const { result, advance, settled } = await failing(500);
      await advance(700);
      await expect(result).rejects.toEqual(
        new RolloutFailedError('deployment/web failed: pod/web-abc-1 container web: ErrImagePull: denied'),
      );
      expect(settled()).toBeLessThanOrEqual(550);
    });
  });

  test('a failed resync is logged and the wait carries on', async () => {
    const fake = fakeCluster();
    const clock = fakeClock();
    const log = memoryLogger();
    let failLists = true;
    const list = fake.cluster.list.bind(fake.cluster);
    fake.cluster.list = (async (...args: Parameters<typeof list>) => {
      if (failLists) throw new Error('connection reset by peer');
      return list(...args);
    }) as typeof list;
    const result = waitForRollout({
      ...{ cluster: fake.cluster, namespace: 'ns', selector: 's', workloads: [deployment({})] },
      ...{ deadline: new Deadline(clock, 60_000), log, resyncMs: 1000 },
    });
    await tick();
    clock.advance(1000);
    await tick();
    await tick();
    expect(log.lines).toEqual([
      "warning: resync of the rollout's objects failed (the watches carry on): connection reset by peer",
    ]);
    failLists = false;
    fake.emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }));
    await expect(result).resolves.toBeDefined();
  });

  test('times out with the last progress line', async () => {
    const { emit, clock, result } = await started({ timeoutMs: 5000 });
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 0 }));
    await tick();
    clock.advance(5000);
    await expect(result).rejects.toEqual(
      new TimedOutError(
        'timed out after 5.0s waiting for the rollout: deployment/web: 0 of 2 updated replicas available',
      ),
    );
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

const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } },
  spec: { containers: [{ name: 'web', image }] },
});
const rs = (name: string, revision: string, image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name,
    uid: `${name}-uid`,
    labels: { 'pod-template-hash': name },
    annotations: { 'deployment.kubernetes.io/revision': revision },
    ownerReferences: [{ uid: 'd1' }] as never,
  },
  spec: { template: template(image, name) },
});
const pod = (name: string, owner: string, state: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { 'pod-template-hash': owner }, ownerReferences: [{ uid: `${owner}-uid` }] as never },
  status: { containerStatuses: [{ name: 'web', restartCount: 0, state }] },
});
const recovery = (status: Record<string, unknown>, revision = '2', observedGeneration = 3): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', generation: 3, uid: 'd1', annotations: { 'deployment.kubernetes.io/revision': revision } },
  spec: { replicas: 2, template: template('nginx:1.27') },
  status: { observedGeneration, ...status },
});

describe('the recovery put (good → unpullable → good) through the loop', () => {
  // What the watches have when the put that restores the good image starts, and what follows, in either order.
  const before: [string, KubeObject][] = [
    ['Deployment', recovery({ replicas: 3, updatedReplicas: 1, availableReplicas: 2 }, '2', 2)],
    ['ReplicaSet', rs('good', '1', 'nginx:1.27')],
    ['ReplicaSet', rs('bad', '2', 'unpullable:1')],
    ['Pod', pod('good-1', 'good', { running: {} })],
    ['Pod', pod('good-2', 'good', { running: {} })],
    ['Pod', pod('bad-1', 'bad', { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } })],
  ];
  const deploymentFirst: [string, KubeObject][] = [
    ['Deployment', recovery({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 })],
    ['ReplicaSet', rs('good', '3', 'nginx:1.27')],
    ['Deployment', recovery({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, '3')],
  ];
  const replicaSetsFirst: [string, KubeObject][] = [
    ['ReplicaSet', rs('good', '3', 'nginx:1.27')],
    ['Deployment', recovery({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 }, '3')],
    ['Deployment', recovery({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, '3')],
  ];
  test.each([
    ['the Deployment (observed, stale revision) before the ReplicaSet', deploymentFirst],
    ['the ReplicaSet before the Deployment', replicaSetsFirst],
  ])('%s: resolves, the stale Pod never fails it', async (_name, after) => {
    const { emit, clock, log, result } = await started({ workloads: [recovery({}, '2', 0)] });
    for (const [kind, object] of [...before, ...after]) {
      emit(kind, 'MODIFIED', object);
      await tick();
      clock.advance(100);
    }
    await expect(result).resolves.toEqual({ durationMs: 800 });
    expect(log.lines.at(-1)).toBe('deployment/web: successfully rolled out (2 of 2 replicas available)');
    expect(log.lines.join('\n')).not.toContain('bad-1');
  });

  test('the same events for the put of the unpullable image fail it, naming the Pod', async () => {
    const forward = {
      ...recovery({ replicas: 3, updatedReplicas: 1, availableReplicas: 2 }, '2', 2),
      metadata: { name: 'web', generation: 2, uid: 'd1' },
      spec: { replicas: 2, template: template('unpullable:1') },
    };
    const { emit, result } = await started({ workloads: [forward] });
    for (const [kind, object] of [['Deployment', forward] as [string, KubeObject], ...before.slice(1)])
      emit(kind, 'ADDED', object);
    await expect(result).rejects.toThrow(
      'deployment/web failed: pod/bad-1 container web: ImagePullBackOff: Back-off pulling image',
    );
  });
});

describe('every workload of the release', () => {
  const job = (status: Record<string, unknown>): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', uid: 'j1' },
    spec: { completions: 1 },
    status,
  });

  test('watches only the kinds the release needs; FailedCreate events by field selector', async () => {
    const { watchOptions, result } = await started({ workloads: [job({})] });
    expect([...watchOptions.keys()].sort()).toEqual(['Event', 'Job', 'Pod']);
    expect(watchOptions.get('Event')).toMatchObject({ fieldSelector: 'reason=FailedCreate' });
    expect(watchOptions.get('Event')).not.toHaveProperty('labelSelector');
    expect(watchOptions.get('Job')).toMatchObject({ labelSelector: 's' });
    void result;
  });

  test('resolves when the Deployment has rolled out and the Job completed, whichever is last', async () => {
    const { emit, log, result } = await started({ workloads: [deployment({}), job({})] });
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }));
    emit('Job', 'ADDED', job({ active: 1 }));
    await tick();
    expect(log.lines).toContain('job/migrate: 0 of 1 completions (1 active, 0 failed)');
    emit('Job', 'MODIFIED', job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }));
    await expect(result).resolves.toBeDefined();
    expect(log.lines.at(-1)).toBe('job/migrate: completed (1 of 1 succeeded)');
  });

  test('several failed workloads are reported together, each with its events', async () => {
    const events: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e1' },
        type: 'Warning',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
        involvedObject: { kind: 'Job', name: 'migrate' },
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e2' },
        type: 'Warning',
        reason: 'Failed',
        message: 'Error: ImagePullBackOff',
        involvedObject: { kind: 'Pod', name: 'web-abc-1' },
      },
    ];
    const fake = fakeCluster(events);
    const result = waitForRollout({
      cluster: fake.cluster,
      namespace: 'ns',
      selector: 's',
      workloads: [deployment({}), job({})],
      deadline: new Deadline(fakeClock(), 60_000),
      log: memoryLogger(),
    });
    result.catch(() => undefined);
    await tick();
    fake.emit(
      'Job',
      'ADDED',
      job({
        failed: 1,
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
          },
        ],
      }),
    );
    fake.emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2 }));
    fake.emit('ReplicaSet', 'ADDED', replicaSet);
    fake.emit('Pod', 'ADDED', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-abc-1', labels: { 'pod-template-hash': 'abc' } },
      status: {
        containerStatuses: [
          { name: 'web', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } },
        ],
      },
    });
    await expect(result).rejects.toEqual(
      new RolloutFailedError(
        '2 workloads failed: (1) deployment/web failed: pod/web-abc-1 container web: ImagePullBackOff: ' +
          'Back-off pulling image; recent events: Warning Failed: Error: ImagePullBackOff ' +
          '(2) job/migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit; ' +
          'recent events: Warning BackoffLimitExceeded: Job has reached the specified backoff limit',
      ),
    );
  });

  test('a release of only a CronJob is done at once, without a watch', async () => {
    const { watchers, log, result } = await started({
      workloads: [{ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' } }],
    });
    await expect(result).resolves.toEqual({ durationMs: 0 });
    expect(watchers.size).toBe(0);
    expect(log.lines).toEqual(['cronjob/nightly: created; not waited for (a CronJob runs on its schedule)']);
  });

  test('the deadline from the caller ends the wait, naming only what is not done', async () => {
    // The put began 7 s ago with a budget of 9 s: 2 s are left, and the timeout names the 9 s.
    const clock = fakeClock();
    const { emit, result } = await started({
      workloads: [deployment({}), job({})],
      clock,
      deadline: new Deadline(clock, 9000, clock.now() - 7000),
    });
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }));
    emit('Job', 'ADDED', job({ active: 1 }));
    await tick();
    clock.advance(2000);
    await expect(result).rejects.toEqual(
      new TimedOutError(
        'timed out after 9.0s waiting for the rollout: job/migrate: 0 of 1 completions (1 active, 0 failed)',
      ),
    );
  });
});

describe('failures reported together', () => {
  const job = (status: Record<string, unknown>): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', uid: 'j1' },
    spec: { completions: 1 },
    status,
  });
  const failedJob = job({
    conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'too long' }],
  });
  const brokenPod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-abc-1', labels: { 'pod-template-hash': 'abc' } },
    status: { containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ErrImagePull', message: 'denied' } } }] },
  };

  test('a workload failing within the grace period after the first is named too', async () => {
    const { emit, clock, result, log } = await started({ workloads: [deployment({}), job({})] });
    emit('Job', 'ADDED', failedJob);
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2 }));
    emit('ReplicaSet', 'ADDED', replicaSet);
    await tick();
    clock.advance(1000);
    emit('Pod', 'ADDED', brokenPod);
    await expect(result).rejects.toThrow(
      '2 workloads failed: (1) deployment/web failed: pod/web-abc-1 container web: ErrImagePull: denied ' +
        '(2) job/migrate failed: DeadlineExceeded: too long',
    );
    // The failure is the error line, not a progress line.
    expect(log.lines.join('\n')).not.toContain('DeadlineExceeded');
  });

  test('one still rolling out after the grace period is not waited for', async () => {
    const { emit, clock, result } = await started({ workloads: [deployment({}), job({})] });
    emit('Job', 'ADDED', failedJob);
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 }));
    await tick();
    clock.advance(1499);
    await tick();
    let settled = false;
    void result.catch(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(result).rejects.toEqual(new RolloutFailedError('job/migrate failed: DeadlineExceeded: too long'));
  });

  test('a failure found just before the deadline is the answer, not the timeout', async () => {
    const { emit, clock, result } = await started({ workloads: [deployment({}), job({})], timeoutMs: 1000 });
    emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 }));
    await tick();
    clock.advance(900);
    emit('Job', 'ADDED', failedJob);
    await tick();
    clock.advance(100);
    await expect(result).rejects.toEqual(new RolloutFailedError('job/migrate failed: DeadlineExceeded: too long'));
  });
});

test('no progress line for a workload the watch has not delivered yet; the timeout still names it', async () => {
  const job: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', uid: 'j1' } };
  const { emit, clock, log, result } = await started({ workloads: [deployment({}), job], timeoutMs: 3000 });
  emit('Deployment', 'ADDED', deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }));
  await tick();
  expect(log.lines).toEqual(['deployment/web: successfully rolled out (2 of 2 replicas available)']);
  clock.advance(3000);
  await expect(result).rejects.toEqual(
    new TimedOutError('timed out after 3.0s waiting for the rollout: job/migrate: waiting for it to appear'),
  );
});
