// What a re-put does with a Job (src/engine/jobs.ts): decided from the hash of what we applied, never the live spec.
import { describe, expect, test } from 'vitest';
import type { ClusterApi } from '../../src/cluster/api.js';
import { jobSpecHash, jobSpecHashAnnotation, planJob, putJob, withSpecHash } from '../../src/engine/jobs.js';
import { TimedOutError } from '../../src/errors.js';
import type { KubeObject } from '../../src/kube/object.js';
import { Deadline, type Clock } from '../../src/time.js';

const job = (image: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'migrate', namespace: 'staging', labels },
  spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image }] } } },
});

/** The Job as the cluster holds it after we applied `applied`: server defaults, a generated selector, a status. */
function live(applied: KubeObject, conditions: { type: string; status: string; reason?: string }[] = []): KubeObject {
  const written = withSpecHash(applied);
  const spec = structuredClone(written.spec) as Record<string, any>;
  spec.selector = { matchLabels: { 'controller-uid': 'abc' } };
  spec.template.metadata = { labels: { 'controller-uid': 'abc', 'job-name': 'migrate' } };
  spec.completions = 1;
  spec.parallelism = 1;
  return {
    ...written,
    metadata: { ...written.metadata, uid: 'abc', resourceVersion: '7' },
    spec,
    status: { conditions },
  };
}

describe('planJob', () => {
  test('a Job not there yet is created', () => {
    expect(planJob(job('m:1'), undefined)).toEqual({ action: 'create' });
  });

  test('unchanged and complete: left as it is, even when the live spec carries server defaults', () => {
    expect(planJob(job('m:1'), live(job('m:1'), [{ type: 'Complete', status: 'True' }]))).toEqual({
      action: 'leave',
      why: 'unchanged and complete: left as it is, not run again',
    });
  });

  test('new labels (another app version) do not count as a change: metadata is not hashed', () => {
    const current = live(job('m:1', { 'app.kubernetes.io/version': '1' }), [{ type: 'Complete', status: 'True' }]);
    expect(planJob(job('m:1', { 'app.kubernetes.io/version': '2' }), current).action).toBe('leave');
  });

  test('unchanged and still running: applied (mutable fields only), not restarted', () => {
    expect(planJob(job('m:1'), live(job('m:1'))).action).toBe('apply');
    expect(planJob(job('m:1'), live(job('m:1'), [{ type: 'Complete', status: 'False' }])).action).toBe('apply');
  });

  test('a changed spec is replaced', () => {
    expect(planJob(job('m:2'), live(job('m:1'), [{ type: 'Complete', status: 'True' }]))).toEqual({
      action: 'replace',
      why: "its spec changed (a Job's pod template is immutable)",
    });
  });

  test('an unchanged Job that failed is replaced, to run again', () => {
    expect(
      planJob(job('m:1'), live(job('m:1'), [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }])),
    ).toEqual({
      action: 'replace',
      why: 'it failed before (BackoffLimitExceeded): running it again',
    });
  });

  test('a Job without our hash (written by hand or an older version) is replaced; one being deleted too', () => {
    const unannotated = live(job('m:1'), [{ type: 'Complete', status: 'True' }]);
    delete unannotated.metadata.annotations![jobSpecHashAnnotation];
    expect(planJob(job('m:1'), unannotated).action).toBe('replace');
    const deleting = live(job('m:1'));
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(planJob(job('m:1'), deleting)).toEqual({ action: 'replace', why: 'it is being deleted' });
  });

  test('the hash covers the spec only and is stable', () => {
    expect(jobSpecHash(job('m:1'))).toBe(jobSpecHash(job('m:1', { a: 'b' })));
    expect(jobSpecHash(job('m:1'))).not.toBe(jobSpecHash(job('m:2')));
    expect(withSpecHash(job('m:1')).metadata.annotations).toEqual({ [jobSpecHashAnnotation]: jobSpecHash(job('m:1')) });
  });
});

describe('putJob', () => {
  /** A cluster whose Job goes after `readsUntilGone` reads (never, when undefined), on a clock that jumps. */
  function setup(current: KubeObject, readsUntilGone?: number) {
    const calls: string[] = [];
    let reads = 0;
    let now = 0;
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => {
        now += ms;
        fn();
        return 0;
      },
      clearTimeout: () => undefined,
    };
    const cluster = {
      remove: async (key: { name: string }, propagation: string) => {
        calls.push(`remove ${key.name} ${propagation}`);
        return true;
      },
      read: async () => (readsUntilGone !== undefined && ++reads > readsUntilGone ? undefined : current),
    } as unknown as ClusterApi;
    const write = async (object: KubeObject) => {
      calls.push(`write ${object.metadata.annotations?.[jobSpecHashAnnotation]}`);
      return object;
    };
    const lines: string[] = [];
    const log = { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(l) };
    return { calls, lines, input: { cluster, log, write, deadline: new Deadline(clock, 5_000), clock } };
  }

  test('a changed Job: deleted in the background, waited for until gone, created again with the new hash', async () => {
    const { calls, lines, input } = setup(live(job('m:1'), [{ type: 'Complete', status: 'True' }]), 3);
    const { change } = await putJob(input, job('m:2'), live(job('m:1'), [{ type: 'Complete', status: 'True' }]));
    expect(change).toBe('replaced');
    expect(calls).toEqual(['remove migrate Background', `write ${jobSpecHash(job('m:2'))}`]);
    expect(lines).toEqual(["job/migrate: replacing it, its spec changed (a Job's pod template is immutable)"]);
  });

  test("waiting for the old Job to go never outlasts the put's deadline: timed out, nothing created", async () => {
    const current = live(job('m:1'));
    const { calls, input } = setup(current);
    const error = await putJob(input, job('m:2'), current).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimedOutError);
    expect((error as Error).message).toBe(
      'timed out after 5.0s waiting for job/migrate to be deleted before re-creating it',
    );
    expect(calls).toEqual(['remove migrate Background']);
  });

  test('an unchanged complete Job: nothing written, the live Job returned for the wait', async () => {
    const current = live(job('m:1'), [{ type: 'Complete', status: 'True' }]);
    const { calls, input } = setup(current);
    expect(await putJob(input, job('m:1'), current)).toEqual({ change: 'unchanged', after: current });
    expect(calls).toEqual([]);
  });
});
