// The pure rollout decisions for every workload kind, on snapshots of what the watches delivered — including the
// recovery put (good → broken → good), whose Deployment, ReplicaSets and Pods arrive in any order.
import { describe, expect, test } from 'vitest';
import {
  assessWorkload,
  combineFailures,
  currentReplicaSet,
  emptySnapshot,
  isWorkload,
  watchesFor,
  type Snapshot,
  type Verdict,
  type WatchedKind,
} from '../../src/rollout/assess.js';
import type { KubeObject } from '../../src/kube/object.js';

const goodTemplate = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [] }] },
};
const badTemplate = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'unpullable:1' }] },
};

function deployment(o: {
  generation: number;
  observed: number;
  revision: string;
  template: unknown;
  status?: Record<string, unknown>;
}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      uid: 'd-uid',
      generation: o.generation,
      annotations: { 'deployment.kubernetes.io/revision': o.revision },
    },
    spec: { replicas: 2, template: o.template },
    status: { observedGeneration: o.observed, ...o.status },
  };
}
function replicaSet(
  name: string,
  hash: string,
  revision: string,
  template: unknown,
  extra: Record<string, unknown> = {},
): KubeObject {
  const t = structuredClone(template) as { metadata: { labels: Record<string, string> } };
  t.metadata.labels['pod-template-hash'] = hash;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      uid: `${name}-uid`,
      labels: { 'pod-template-hash': hash },
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ uid: 'd-uid' }],
      creationTimestamp: `2026-01-01T00:00:0${revision}Z`,
    },
    spec: { template: t },
    ...extra,
  };
}
function pod(
  name: string,
  owner: string,
  labels: Record<string, string>,
  state: Record<string, unknown>,
  phase = 'Running',
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, uid: `${name}-uid`, labels, ownerReferences: [{ uid: owner }] },
    status: { phase, containerStatuses: [{ name: 'web', restartCount: 3, state }] },
  };
}
const running = { running: {} };
const pullError = { waiting: { reason: 'ErrImagePull', message: 'pull access denied' } };
const crashLoop = { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } };

const snapshotOf = (objects: KubeObject[]): Snapshot => {
  const s = emptySnapshot();
  for (const o of objects) s[o.kind as WatchedKind].push(o);
  return s;
};

const appliedAtTime = '2026-01-01T10:00:00Z';
const managed = [{ manager: 'kubernetes-deploy-resource', operation: 'Apply', time: appliedAtTime }];
function failedCreateEvent(
  uid: string,
  kind: string,
  name: string,
  lastTimestamp: string,
  message = 'pods "db-0" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1',
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.1` },
    reason: 'FailedCreate',
    type: 'Warning',
    message,
    lastTimestamp,
    involvedObject: { kind, name, uid },
  };
}

describe('Deployment: only the generation this put wrote, only its ReplicaSet', () => {
  // The put that restores the good image: generation 3 written; revision 1 (good) is rolled back to as revision 3.
  const applied = deployment({ generation: 3, observed: 0, revision: '2', template: goodTemplate });
  const goodRs = replicaSet('web-good', 'good', '1', goodTemplate);
  const goodRsRev3 = replicaSet('web-good', 'good', '3', goodTemplate);
  const badRs = replicaSet('web-bad', 'bad', '2', badTemplate);
  const goodPods = [
    pod('web-good-1', 'web-good-uid', { 'pod-template-hash': 'good' }, running),
    pod('web-good-2', 'web-good-uid', { 'pod-template-hash': 'good' }, running),
  ];
  const badPod = pod('web-bad-1', 'web-bad-uid', { 'pod-template-hash': 'bad' }, pullError, 'Pending');
  const notObserved = deployment({
    generation: 3,
    observed: 2,
    revision: '2',
    template: goodTemplate,
    status: { replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
  });
  // The controller writes observedGeneration before it moves the revision annotation: it still names the failed one.
  const observedStaleRevision = deployment({
    generation: 3,
    observed: 3,
    revision: '2',
    template: goodTemplate,
    status: { replicas: 3, updatedReplicas: 2, availableReplicas: 2 },
  });
  const observedScalingDown = deployment({
    generation: 3,
    observed: 3,
    revision: '3',
    template: goodTemplate,
    status: { replicas: 3, updatedReplicas: 2, availableReplicas: 2 },
  });
  const available = deployment({
    generation: 3,
    observed: 3,
    revision: '3',
    template: goodTemplate,
    status: { replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
  });
  const badPodGone = { ...badPod, metadata: { ...badPod.metadata, deletionTimestamp: '2026-01-01T00:00:09Z' } };

  /** Feeds the watch deliveries one by one; the verdict after each must never be a failure. */
  function replay(deliveries: KubeObject[]): Verdict[] {
    const byKey = new Map<string, KubeObject>();
    return deliveries.map((object) => {
      byKey.set(`${object.kind}/${object.metadata.name}`, object);
      return assessWorkload(applied, snapshotOf([...byKey.values()]));
    });
  }
  const start = [notObserved, goodRs, badRs, ...goodPods, badPod];

  test.each<[string, KubeObject[]]>([
    [
      'Deployment observed (stale annotation) before the ReplicaSet update',
      [...start, observedStaleRevision, goodRsRev3, observedScalingDown, badPodGone, available],
    ],
    [
      'ReplicaSet update and Pod deletion before the Deployment',
      [...start, goodRsRev3, badPodGone, observedScalingDown, available],
    ],
    ['the Deployment jumps straight to Available, ReplicaSets late', [...start, available, goodRsRev3]],
    ['the failed Pod is still there when the Deployment is Available', [...start, observedStaleRevision, available]],
  ])('recovery put, %s: never failed, done at the end', (_name, deliveries) => {
    const verdicts = replay(deliveries);
    expect(verdicts.filter((v) => v.state === 'failed')).toEqual([]);
    expect(verdicts.at(-1)).toEqual({
      state: 'done',
      message: 'deployment/web: successfully rolled out (2 of 2 replicas available)',
    });
  });

  test('before the generation is observed nothing counts: not the old failed Pod, not an old deadline', () => {
    const stuck = deployment({
      generation: 3,
      observed: 2,
      revision: '2',
      template: goodTemplate,
      status: {
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "web-bad" has timed out progressing.',
          },
        ],
      },
    });
    expect(assessWorkload(applied, snapshotOf([stuck, goodRs, badRs, badPod]))).toEqual({
      state: 'progressing',
      message: 'deployment/web: waiting for the deployment spec update to be observed',
    });
  });

  test('the current ReplicaSet is found by template, not by the revision annotation (the stale-hash case)', () => {
    expect(currentReplicaSet(observedStaleRevision, [goodRs, badRs])?.metadata.name).toBe('web-good');
    expect(
      currentReplicaSet(deployment({ generation: 2, observed: 2, revision: '2', template: badTemplate }), [
        goodRs,
        badRs,
      ])?.metadata.name,
    ).toBe('web-bad');
    // Not owned by this Deployment: not its ReplicaSet, same template or not.
    const foreign = { ...goodRs, metadata: { ...goodRs.metadata, ownerReferences: [{ uid: 'other' }] } };
    expect(currentReplicaSet(observedStaleRevision, [foreign, badRs])).toBeUndefined();
  });

  test('template comparison ignores key order, empty values and the pod-template-hash label', () => {
    const reordered = {
      spec: { containers: [{ image: 'nginx:1.27', name: 'web', env: [] }] },
      metadata: { creationTimestamp: null, labels: { app: 'web' } },
    };
    expect(
      currentReplicaSet(deployment({ generation: 1, observed: 1, revision: '1', template: reordered }), [goodRs])
        ?.metadata.name,
    ).toBe('web-good');
  });

  test('a broken new ReplicaSet fails the put once observed, naming its Pod', () => {
    const forward = deployment({
      generation: 2,
      observed: 2,
      revision: '2',
      template: badTemplate,
      status: { replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
    });
    const verdict = assessWorkload(forward, snapshotOf([forward, goodRs, badRs, ...goodPods, badPod]));
    expect(verdict).toEqual({
      state: 'failed',
      message: 'deployment/web failed: pod/web-bad-1 container web: ErrImagePull: pull access denied',
      eventsOf: { kind: 'Pod', name: 'web-bad-1' },
    });
    // The same Pods, judged for the good template: the broken Pod is a superseded ReplicaSet's.
    expect(assessWorkload(applied, snapshotOf([observedScalingDown, goodRs, badRs, ...goodPods, badPod])).state).toBe(
      'progressing',
    );
  });

  test('crashing Pods of the superseded ReplicaSet never fail the recovery put', () => {
    const crashing = pod('web-bad-2', 'web-bad-uid', { 'pod-template-hash': 'bad' }, crashLoop);
    expect(
      assessWorkload(applied, snapshotOf([observedStaleRevision, goodRs, badRs, ...goodPods, crashing])).state,
    ).toBe('progressing');
  });

  test('ProgressDeadlineExceeded counts only when it names the current ReplicaSet (or none)', () => {
    const condition = (rs: string) => ({
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${rs}" has timed out progressing.`,
        },
      ],
      replicas: 3,
      updatedReplicas: 2,
      availableReplicas: 2,
    });
    const stale = deployment({
      generation: 3,
      observed: 3,
      revision: '3',
      template: goodTemplate,
      status: condition('web-bad'),
    });
    expect(assessWorkload(applied, snapshotOf([stale, goodRs, badRs])).state).toBe('progressing');
    const current = deployment({
      generation: 3,
      observed: 3,
      revision: '3',
      template: goodTemplate,
      status: condition('web-good'),
    });
    expect(assessWorkload(applied, snapshotOf([current, goodRs, badRs]))).toEqual({
      state: 'failed',
      message:
        'deployment/web exceeded its progress deadline (ProgressDeadlineExceeded): ' +
        'ReplicaSet "web-good" has timed out progressing.',
    });
  });

  test(
    'a current ReplicaSet that cannot create Pods (ReplicaFailure, e.g. a quota) fails the put; ' +
      'a superseded one does not',
    () => {
      const failure = {
        status: {
          conditions: [
            {
              type: 'ReplicaFailure',
              status: 'True',
              reason: 'FailedCreate',
              message:
                'pods "web-good-x" is forbidden: exceeded quota: ' +
                'pods, requested: pods=1, used: pods=1, limited: pods=1',
            },
          ],
        },
      };
      const quotaGood = replicaSet('web-good', 'good', '3', goodTemplate, failure);
      expect(assessWorkload(applied, snapshotOf([observedScalingDown, quotaGood, badRs]))).toEqual({
        state: 'failed',
        message:
          'deployment/web failed: replicaset/web-good cannot create Pods: FailedCreate: ' +
          'pods "web-good-x" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1',
      });
      const quotaBad = replicaSet('web-bad', 'bad', '2', badTemplate, failure);
      expect(assessWorkload(applied, snapshotOf([observedScalingDown, goodRs, quotaBad])).state).toBe('progressing');
    },
  );

  test(
    'ReplicaFailure or a FailedCreate event counts only since this put changed the Deployment, ' +
      'and while Pods are missing',
    () => {
      const put = { ...applied, metadata: { ...applied.metadata, managedFields: managed } };
      const condition = (at: string, message = 'pods "web-good-x" is forbidden: exceeded quota') => ({
        type: 'ReplicaFailure',
        status: 'True',
        reason: 'FailedCreate',
        message,
        lastTransitionTime: at,
      });
      const rsWith = (at: string, replicas = 0, message?: string) =>
        replicaSet('web-good', 'good', '3', goodTemplate, {
          spec: { replicas: 2, template: (goodRs.spec as { template: unknown }).template },
          status: { replicas, conditions: [condition(at, message)] },
        });
      expect(assessWorkload(put, snapshotOf([observedScalingDown, rsWith('2026-01-01T10:00:00Z')])).message).toBe(
        'deployment/web failed: replicaset/web-good cannot create Pods: ' +
          'FailedCreate: pods "web-good-x" is forbidden: exceeded quota',
      );
      // The controller could not reach the API server (it was restarting): it retries; not a failure of the put.
      const unreachable = 'Post "https://127.0.0.1:6443/api/v1/namespaces/ns/pods": unexpected EOF';
      expect(
        assessWorkload(put, snapshotOf([observedScalingDown, rsWith('2026-01-01T10:00:00Z', 0, unreachable)])).state,
      ).toBe('progressing');
      const transientEvent = failedCreateEvent(
        'web-good-uid',
        'ReplicaSet',
        'web-good',
        '2026-01-01T10:00:03Z',
        `Error creating: ${unreachable}`,
      );
      expect(
        assessWorkload(put, snapshotOf([observedScalingDown, rsWith('2026-01-01T09:59:58Z'), transientEvent])).state,
      ).toBe('progressing');
      // Left from before this put (a quota raised since): the controller clears it on its next try.
      expect(assessWorkload(put, snapshotOf([observedScalingDown, rsWith('2026-01-01T09:59:58Z')])).state).toBe(
        'progressing',
      );
      // Every Pod there: not counted.
      expect(assessWorkload(put, snapshotOf([observedScalingDown, rsWith('2026-01-01T10:00:00Z', 2)])).state).toBe(
        'progressing',
      );
      // The controller failing again after an old condition: its event is fresh.
      // The ReplicaSet controller's event words it "Error creating: …": the same message as from the condition.
      const event = failedCreateEvent(
        'web-good-uid',
        'ReplicaSet',
        'web-good',
        '2026-01-01T10:00:03Z',
        'Error creating: pods "web-good-y" is forbidden: exceeded quota: q',
      );
      expect(
        assessWorkload(put, snapshotOf([observedScalingDown, rsWith('2026-01-01T09:59:58Z'), event])).message,
      ).toBe(
        'deployment/web failed: replicaset/web-good cannot create Pods: ' +
          'FailedCreate: pods "web-good-y" is forbidden: exceeded quota: q',
      );
    },
  );

  test(
    'a re-put that left the Deployment unchanged counts only what the controller said after this put began ' +
      '(a ServiceAccount created in between: the old ReplicaFailure is said, not judged)',
    () => {
      // The apply wrote nothing: our field manager's time is the earlier put's. This put took the lock at 10:00:00.
      const earlierPut = [{ manager: 'kubernetes-deploy-resource', operation: 'Apply', time: '2026-01-01T09:00:00Z' }];
      const unchanged = { ...applied, metadata: { ...applied.metadata, managedFields: earlierPut } };
      const putStartedAt = '2026-01-01T10:00:00Z';
      const refused = 'pods "web-good-x" is forbidden: error looking up service account ns/missing: not found';
      const rsWith = (conditionAt: string, replicas = 0) =>
        replicaSet('web-good', 'good', '3', goodTemplate, {
          spec: { replicas: 2, template: (goodRs.spec as { template: unknown }).template },
          status: {
            replicas,
            conditions: [
              {
                type: 'ReplicaFailure',
                status: 'True',
                reason: 'FailedCreate',
                message: refused,
                lastTransitionTime: conditionAt,
              },
            ],
          },
        });
      const eventAt = (at: string) =>
        failedCreateEvent('web-good-uid', 'ReplicaSet', 'web-good', at, `Error creating: ${refused}`);
      const stale = rsWith('2026-01-01T09:00:05Z');

      // The condition and the last retry's event from before (the event in the very second the put began too).
      for (const extra of [[], [eventAt('2026-01-01T09:59:58Z')], [eventAt('2026-01-01T10:00:00Z')]]) {
        expect(assessWorkload(unchanged, snapshotOf([observedScalingDown, stale, ...extra]), putStartedAt)).toEqual({
          state: 'progressing',
          message:
            'deployment/web: 1 old replicas pending termination ' +
            `(before this put replicaset/web-good could not create Pods: FailedCreate: ${refused})`,
        });
      }
      // The controller's next try fails again (the cause is still there): its renewed event fails the put.
      const failed = {
        state: 'failed',
        message: `deployment/web failed: replicaset/web-good cannot create Pods: FailedCreate: ${refused}`,
      };
      expect(
        assessWorkload(
          unchanged,
          snapshotOf([observedScalingDown, stale, eventAt('2026-01-01T10:00:01Z')]),
          putStartedAt,
        ),
      ).toEqual(failed);
      // Or the condition newly set since (it had cleared in between).
      expect(
        assessWorkload(unchanged, snapshotOf([observedScalingDown, rsWith('2026-01-01T10:00:02Z')]), putStartedAt),
      ).toEqual(failed);
      // The next try succeeds: the Pods are there, the old condition is not looked at.
      expect(
        assessWorkload(unchanged, snapshotOf([available, rsWith('2026-01-01T09:00:05Z', 2)]), putStartedAt).state,
      ).toBe('done');
      // A put that changed the Deployment (managed time since it began) is judged from its apply, as before.
      const changed = [{ manager: 'kubernetes-deploy-resource', operation: 'Apply', time: '2026-01-01T10:00:00Z' }];
      const rewritten = { ...applied, metadata: { ...applied.metadata, managedFields: changed } };
      expect(
        assessWorkload(
          rewritten,
          snapshotOf([observedScalingDown, eventAt('2026-01-01T10:00:00Z'), rsWith('2026-01-01T09:00:05Z')]),
          putStartedAt,
        ),
      ).toEqual(failed);
      // Without the put's start (the server did not say), the apply's time alone: the old condition counts.
      expect(assessWorkload(unchanged, snapshotOf([observedScalingDown, stale])).state).toBe('failed');
    },
  );

  test('a Deployment of another uid (an older one of that name) is not judged', () => {
    const appliedNew = { ...available, metadata: { ...available.metadata, uid: 'new-uid' } };
    expect(assessWorkload(appliedNew, snapshotOf([available]))).toEqual({
      state: 'progressing',
      message: 'deployment/web: waiting for it to appear',
      quiet: true,
    });
  });
});

describe('StatefulSet (RollingUpdate, like kubectl rollout status)', () => {
  const sts = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, generation = 2): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', uid: 's-uid', generation, managedFields: managed },
    spec: { replicas: 3, ...spec },
    status,
  });
  const ok = {
    observedGeneration: 2,
    replicas: 3,
    readyReplicas: 3,
    updatedReplicas: 3,
    currentRevision: 'db-2',
    updateRevision: 'db-2',
  };
  test.each<[string, Record<string, unknown>, Record<string, unknown>, Verdict]>([
    [
      'spec not observed',
      { ...ok, observedGeneration: 1 },
      {},
      { state: 'progressing', message: 'statefulset/db: waiting for the statefulset spec update to be observed' },
    ],
    [
      'pods not ready',
      { ...ok, readyReplicas: 1 },
      {},
      { state: 'progressing', message: 'statefulset/db: 1 of 3 pods ready' },
    ],
    [
      'revisions differ',
      { ...ok, updatedReplicas: 2, currentRevision: 'db-1' },
      {},
      { state: 'progressing', message: 'statefulset/db: 2 of 3 pods updated to revision db-2' },
    ],
    [
      'done',
      ok,
      {},
      { state: 'done', message: 'statefulset/db: successfully rolled out (3 of 3 pods ready at revision db-2)' },
    ],
    [
      'partitioned, not there',
      { ...ok, updatedReplicas: 0, currentRevision: 'db-1' },
      { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      { state: 'progressing', message: 'statefulset/db: 0 of 1 new pods updated (partition 2)' },
    ],
    [
      'partitioned, done',
      { ...ok, updatedReplicas: 1, currentRevision: 'db-1' },
      { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      { state: 'done', message: 'statefulset/db: partitioned roll out complete (1 new pods updated, partition 2)' },
    ],
    [
      'OnDelete',
      { observedGeneration: 0 },
      { updateStrategy: { type: 'OnDelete' } },
      {
        state: 'done',
        message:
          'statefulset/db: not waited for: its updateStrategy is OnDelete, ' +
          'so its Pods change only when they are deleted',
      },
    ],
  ])('%s', (_name, status, spec, verdict) => {
    const object = sts(status, spec);
    expect(assessWorkload(object, snapshotOf([object]))).toEqual(verdict);
  });

  test('a stuck Pod of the update revision fails it; one of the old revision or another owner does not', () => {
    const object = sts({ ...ok, readyReplicas: 2, updatedReplicas: 1, updateRevision: 'db-3' });
    const oldPod = pod('db-2', 's-uid', { 'controller-revision-hash': 'db-2' }, crashLoop);
    const otherOwner = pod('x-0', 'x-uid', { 'controller-revision-hash': 'db-3' }, crashLoop);
    expect(assessWorkload(object, snapshotOf([object, oldPod, otherOwner])).state).toBe('progressing');
    const newPod = pod('db-2', 's-uid', { 'controller-revision-hash': 'db-3' }, crashLoop);
    expect(assessWorkload(object, snapshotOf([object, newPod]))).toEqual({
      state: 'failed',
      message:
        'statefulset/db failed: pod/db-2 container web: CrashLoopBackOff (restarted 3 times): ' +
        'back-off 40s restarting failed container',
      eventsOf: { kind: 'Pod', name: 'db-2' },
      // The crashed run's log, not the one waiting in back-off.
      logsOf: { pod: 'db-2', container: 'web', previous: true },
    });
  });

  test('Pods the controller cannot create fail it at once (FailedCreate since this put, Pods missing)', () => {
    const object = sts({ ...ok, replicas: 0, readyReplicas: 0, updatedReplicas: 0 });
    const event = failedCreateEvent(
      's-uid',
      'StatefulSet',
      'db',
      '2026-01-01T10:00:01Z',
      'create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: ' +
        'error looking up service account ns/missing: serviceaccount "missing" not found',
    );
    expect(assessWorkload(object, snapshotOf([object, event]))).toEqual({
      state: 'failed',
      message:
        'statefulset/db failed: cannot create Pods: FailedCreate: create Pod db-0 in StatefulSet db failed error: ' +
        'pods "db-0" is forbidden: error looking up service account ns/missing: serviceaccount "missing" not found',
    });
    // From before this put changed it, or about another object of that name: not counted.
    expect(
      assessWorkload(
        object,
        snapshotOf([object, failedCreateEvent('s-uid', 'StatefulSet', 'db', '2026-01-01T09:59:59Z')]),
      ).state,
    ).toBe('progressing');
    expect(
      assessWorkload(
        object,
        snapshotOf([object, failedCreateEvent('old-uid', 'StatefulSet', 'db', '2026-01-01T10:00:05Z')]),
      ).state,
    ).toBe('progressing');
    // All Pods there: an event left from a moment of pressure does not fail it.
    const whole = sts({ ...ok, readyReplicas: 2 });
    expect(assessWorkload(whole, snapshotOf([whole, event])).state).toBe('progressing');
    // The controller writes no status when it cannot create a Pod: the generation is never observed.
    const unobserved = sts({ observedGeneration: 0 }, {}, 1);
    expect(assessWorkload(unobserved, snapshotOf([unobserved, event])).state).toBe('failed');
    expect(
      assessWorkload(
        unobserved,
        snapshotOf([unobserved, failedCreateEvent('s-uid', 'StatefulSet', 'db', '2026-01-01T09:59:00Z')]),
      ).state,
    ).toBe('progressing');
  });
});

describe('DaemonSet (like kubectl rollout status)', () => {
  const ds = (status: Record<string, unknown>, strategy = 'RollingUpdate'): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'agent',
      uid: 'ds-uid',
      generation: 2,
      annotations: { 'deprecated.daemonset.template.generation': '2' },
      managedFields: managed,
    },
    spec: { updateStrategy: { type: strategy } },
    status,
  });
  const ok = {
    observedGeneration: 2,
    desiredNumberScheduled: 1,
    currentNumberScheduled: 1,
    updatedNumberScheduled: 1,
    numberAvailable: 1,
  };
  test.each<[string, Record<string, unknown>, string, Verdict]>([
    [
      'spec not observed',
      { ...ok, observedGeneration: 1 },
      'RollingUpdate',
      { state: 'progressing', message: 'daemonset/agent: waiting for the daemonset spec update to be observed' },
    ],
    [
      'not updated',
      { ...ok, updatedNumberScheduled: 0 },
      'RollingUpdate',
      { state: 'progressing', message: 'daemonset/agent: 0 of 1 new pods updated' },
    ],
    [
      'not available',
      { ...ok, numberAvailable: 0 },
      'RollingUpdate',
      { state: 'progressing', message: 'daemonset/agent: 0 of 1 updated pods available' },
    ],
    [
      'done',
      ok,
      'RollingUpdate',
      { state: 'done', message: 'daemonset/agent: successfully rolled out (1 of 1 pods available)' },
    ],
    [
      'OnDelete',
      {},
      'OnDelete',
      {
        state: 'done',
        message:
          'daemonset/agent: not waited for: its updateStrategy is OnDelete, ' +
          'so its Pods change only when they are deleted',
      },
    ],
  ])('%s', (_name, status, strategy, verdict) => {
    const object = ds(status, strategy);
    expect(assessWorkload(object, snapshotOf([object]))).toEqual(verdict);
  });

  test('a stuck Pod of the current template generation fails it, of an older one not; FailedCreate fails it', () => {
    const object = ds({ ...ok, numberAvailable: 0 });
    const old = pod('agent-a', 'ds-uid', { 'pod-template-generation': '1' }, pullError);
    expect(assessWorkload(object, snapshotOf([object, old])).state).toBe('progressing');
    const current = pod('agent-b', 'ds-uid', { 'pod-template-generation': '2' }, pullError);
    expect(assessWorkload(object, snapshotOf([object, current])).message).toBe(
      'daemonset/agent failed: pod/agent-b container web: ErrImagePull: pull access denied',
    );
    const unobserved = ds({});
    expect(
      assessWorkload(
        unobserved,
        snapshotOf([
          unobserved,
          failedCreateEvent('ds-uid', 'DaemonSet', 'agent', '2026-01-01T10:00:00Z', 'pods "agent-x" is forbidden: x'),
        ]),
      ).state,
    ).toBe('failed');
    // Not reaching the API server is retried by the controller: not a refusal.
    expect(
      assessWorkload(
        unobserved,
        snapshotOf([
          unobserved,
          failedCreateEvent(
            'ds-uid',
            'DaemonSet',
            'agent',
            '2026-01-01T10:00:00Z',
            'Post "https://x/api": dial tcp: connection refused',
          ),
        ]),
      ).state,
    ).not.toBe('failed');
    const missing = ds({ ...ok, currentNumberScheduled: 0, updatedNumberScheduled: 0, numberAvailable: 0 });
    expect(
      assessWorkload(
        missing,
        snapshotOf([
          missing,
          failedCreateEvent(
            'ds-uid',
            'DaemonSet',
            'agent',
            '2026-01-01T10:00:00Z',
            'Error creating: pods "agent-x" is forbidden: denied',
          ),
        ]),
      ).message,
    ).toBe(
      'daemonset/agent failed: cannot create Pods: FailedCreate: Error creating: pods "agent-x" is forbidden: denied',
    );
  });
});

describe('Job and CronJob', () => {
  const job = (status: Record<string, unknown>, uid = 'j-uid'): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', uid, generation: 1, managedFields: managed },
    spec: { completions: 1, backoffLimit: 2 },
    status,
  });
  test('progress, then Complete is done', () => {
    const running = job({ active: 1 });
    expect(assessWorkload(running, snapshotOf([running]))).toEqual({
      state: 'progressing',
      message: 'job/migrate: 0 of 1 completions (1 active, 0 failed)',
    });
    const complete = job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    expect(assessWorkload(complete, snapshotOf([complete]))).toEqual({
      state: 'done',
      message: 'job/migrate: completed (1 of 1 succeeded)',
    });
  });

  test(
    'Failed names the reason, the failed Pods with exit codes and termination messages, ' +
      'and asks for the Job events and the log of the first container that failed',
    () => {
      const failed = job({
        failed: 3,
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
          },
        ],
      });
      const terminated = (name: string) => ({
        ...pod(
          name,
          'j-uid',
          { 'job-name': 'migrate' },
          { terminated: { exitCode: 1, reason: 'Error', message: 'relation "users" does not exist\n' } },
          'Failed',
        ),
      });
      const other = pod('other-1', 'other-uid', {}, { terminated: { exitCode: 2 } }, 'Failed');
      expect(
        assessWorkload(failed, snapshotOf([failed, terminated('migrate-a'), terminated('migrate-b'), other])),
      ).toEqual({
        state: 'failed',
        message:
          'job/migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit; failed pods: ' +
          'pod/migrate-a (container web exit code 1: Error: relation "users" does not exist), ' +
          'pod/migrate-b (container web exit code 1: Error: relation "users" does not exist)',
        eventsOf: { kind: 'Job', name: 'migrate' },
        logsOf: { pod: 'migrate-a', container: 'web', previous: false },
      });
      const deadline = job({
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
          },
        ],
      });
      expect(assessWorkload(deadline, snapshotOf([deadline])).message).toBe(
        'job/migrate failed: DeadlineExceeded: Job was active longer than specified deadline',
      );
    },
  );

  test("a Job Pod that cannot pull its image fails at once; a crash loop is the Job controller's to count", () => {
    const running = job({ active: 1 });
    expect(assessWorkload(running, snapshotOf([running, pod('migrate-a', 'j-uid', {}, crashLoop)])).state).toBe(
      'progressing',
    );
    expect(
      assessWorkload(running, snapshotOf([running, pod('migrate-a', 'j-uid', {}, pullError, 'Pending')])).message,
    ).toBe('job/migrate failed: pod/migrate-a container web: ErrImagePull: pull access denied');
  });

  test('a Job that cannot create its Pod fails with the cause; an older Job of that name is not ours', () => {
    const pending = job({});
    const event = failedCreateEvent(
      'j-uid',
      'Job',
      'migrate',
      '2026-01-01T10:00:02Z',
      'Error creating: pods "migrate-x" is forbidden: exceeded quota: q',
    );
    expect(assessWorkload(pending, snapshotOf([pending, event])).message).toBe(
      'job/migrate failed: cannot create Pods: FailedCreate: Error creating: pods "migrate-x" is forbidden: ' +
        'exceeded quota: q',
    );
    const replaced = job(
      { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] },
      'old-uid',
    );
    expect(assessWorkload(pending, snapshotOf([replaced]))).toEqual({
      state: 'progressing',
      message: 'job/migrate: waiting for it to appear',
      quiet: true,
    });
  });

  test('a CronJob is created, never waited for', () => {
    const cron: KubeObject = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' } };
    expect(assessWorkload(cron, emptySnapshot())).toEqual({
      state: 'done',
      message: 'cronjob/nightly: created; not waited for (a CronJob runs on its schedule)',
    });
  });
});

describe('which objects are waited for and what is watched', () => {
  const o = (apiVersion: string, kind: string): KubeObject => ({ apiVersion, kind, metadata: { name: 'x' } });
  test('workloads by kind and API version', () => {
    expect(
      [
        o('apps/v1', 'Deployment'),
        o('apps/v1', 'StatefulSet'),
        o('apps/v1', 'DaemonSet'),
        o('batch/v1', 'Job'),
        o('batch/v1', 'CronJob'),
      ].every(isWorkload),
    ).toBe(true);
    // batch/v1beta1 CronJobs left Kubernetes in 1.25, before the oldest supported version: not judged.
    expect(
      [o('v1', 'ConfigMap'), o('v1', 'Service'), o('example.com/v1', 'Deployment'), o('batch/v1beta1', 'CronJob')].some(
        isWorkload,
      ),
    ).toBe(false);
  });
  test('only the kinds the release needs, each once', () => {
    expect(watchesFor([o('apps/v1', 'Deployment')])).toEqual(['Deployment', 'ReplicaSet', 'Pod', 'Event']);
    expect(watchesFor([o('apps/v1', 'Deployment'), o('batch/v1', 'Job')])).toEqual([
      'Deployment',
      'ReplicaSet',
      'Pod',
      'Event',
      'Job',
    ]);
    expect(watchesFor([o('batch/v1', 'CronJob')])).toEqual([]);
  });
  test('several failures make one message', () => {
    expect(combineFailures(['deployment/web failed: a'])).toBe('deployment/web failed: a');
    expect(combineFailures(['deployment/web failed: a', 'job/migrate failed: b'])).toBe(
      '2 workloads failed: (1) deployment/web failed: a (2) job/migrate failed: b',
    );
  });
});
