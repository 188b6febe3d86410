import { describe, expect, test } from 'vitest';
import { assessDeployment, currentTemplateHash, describePodFailure, findPodFailure } from '../../src/rollout/assess.js';
import type { KubeObject } from '../../src/kube/object.js';

const deployment = (
  status: Record<string, unknown>,
  extra: { generation?: number; replicas?: number } = {},
): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    generation: extra.generation ?? 2,
    uid: 'd-uid',
    annotations: { 'deployment.kubernetes.io/revision': '3' },
  },
  spec: { replicas: extra.replicas ?? 3 },
  status,
});

describe('assessDeployment (kubectl rollout status order)', () => {
  test.each<[string, Record<string, unknown>, { generation?: number; replicas?: number }, string, string]>([
    [
      'spec not observed yet',
      { observedGeneration: 1 },
      {},
      'progressing',
      'deployment/web: waiting for the deployment spec update to be observed',
    ],
    [
      'deadline exceeded wins over counts',
      {
        observedGeneration: 2,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "web-1" has timed out progressing.',
          },
        ],
      },
      {},
      'failed',
      'deployment/web exceeded its progress deadline (ProgressDeadlineExceeded): ' +
        'ReplicaSet "web-1" has timed out progressing.',
    ],
    [
      'new replicas being updated',
      { observedGeneration: 2, updatedReplicas: 1, replicas: 3 },
      {},
      'progressing',
      'deployment/web: 1 of 3 new replicas updated',
    ],
    [
      'old replicas terminating',
      { observedGeneration: 2, updatedReplicas: 3, replicas: 4 },
      {},
      'progressing',
      'deployment/web: 1 old replicas pending termination',
    ],
    [
      'updated but not available',
      { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 1 },
      {},
      'progressing',
      'deployment/web: 1 of 3 updated replicas available',
    ],
    [
      'done',
      { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 },
      {},
      'done',
      'deployment/web: successfully rolled out (3 of 3 replicas available)',
    ],
    [
      'scaled to zero is done',
      { observedGeneration: 2 },
      { replicas: 0 },
      'done',
      'deployment/web: successfully rolled out (0 of 0 replicas available)',
    ],
  ])('%s', (_name, status, extra, state, message) => {
    expect(assessDeployment(deployment(status, extra))).toEqual({ state, message });
  });
});

const pod = (
  name: string,
  hash: string,
  waiting?: { reason: string; message?: string },
  restartCount = 0,
  deleting = false,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    labels: { 'pod-template-hash': hash },
    ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  status: { containerStatuses: [{ name: 'web', restartCount, state: waiting ? { waiting } : { running: {} } }] },
});

describe('pod failures', () => {
  test.each(['ErrImagePull', 'ImagePullBackOff', 'CrashLoopBackOff', 'CreateContainerConfigError', 'InvalidImageName'])(
    '%s fails the rollout',
    (reason) => {
      expect(findPodFailure([pod('web-new-1', 'new', { reason, message: 'm' }, 2)], 'new')).toEqual({
        pod: 'web-new-1',
        container: 'web',
        reason,
        message: 'm',
        restartCount: 2,
      });
    },
  );

  test('ContainerCreating and pods of the old ReplicaSet or being deleted do not', () => {
    expect(findPodFailure([pod('a', 'new', { reason: 'ContainerCreating' })], 'new')).toBeUndefined();
    expect(findPodFailure([pod('b', 'old', { reason: 'CrashLoopBackOff' })], 'new')).toBeUndefined();
    expect(findPodFailure([pod('c', 'new', { reason: 'CrashLoopBackOff' }, 1, true)], 'new')).toBeUndefined();
  });

  test('init containers count too', () => {
    const p = pod('web-1', 'h');
    (p.status as Record<string, unknown>).initContainerStatuses = [
      { name: 'migrate', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } } },
    ];
    expect(findPodFailure([p], 'h')?.container).toBe('migrate');
  });

  test(
    'the current ReplicaSet is the one of the deployment template (not its revision annotation), ' + 'owned by it',
    () => {
      const template = (image: string, hash?: string) => ({
        metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } },
        spec: { containers: [{ name: 'web', image }] },
      });
      const rs = (name: string, revision: string, hash: string, image: string, owner = 'd-uid'): KubeObject => ({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          labels: { 'pod-template-hash': hash },
          annotations: { 'deployment.kubernetes.io/revision': revision },
          ownerReferences: [{ uid: owner }],
        },
        spec: { template: template(image, hash) },
      });
      const d = { ...deployment({}), spec: { replicas: 3, template: template('web:2') } };
      // The annotation says revision 3 (web-c), but the template is web-b's: the controller's "new" ReplicaSet is
      // web-b.
      expect(
        currentTemplateHash(d, [
          rs('web-a', '2', 'aaa', 'web:1'),
          rs('web-b', '1', 'bbb', 'web:2'),
          rs('web-c', '3', 'ccc', 'web:3'),
          rs('other', '3', 'ddd', 'web:2', 'other-uid'),
        ]),
      ).toBe('bbb');
      expect(currentTemplateHash(d, [rs('web-a', '2', 'aaa', 'web:1')])).toBeUndefined();
    },
  );

  test('the message names pod, container, reason, message and recent events', () => {
    const failure = {
      pod: 'web-1',
      container: 'web',
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "x"',
      restartCount: 0,
    };
    const events: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e2' },
        type: 'Warning',
        reason: 'Failed',
        message: 'Error: ErrImagePull',
        lastTimestamp: '2026-01-01T00:00:02Z',
        count: 2,
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e1' },
        type: 'Normal',
        reason: 'Pulling',
        message: 'Pulling image "x"',
        lastTimestamp: '2026-01-01T00:00:01Z',
      },
    ];
    expect(describePodFailure(failure, events)).toBe(
      'pod/web-1 container web: ImagePullBackOff: Back-off pulling image "x"; recent events: Pulling: ' +
        'Pulling image "x" | Warning Failed: Error: ErrImagePull (x2)',
    );
  });
});
