// The rollout wait's decisions on a whole release (src/rollout/judge.ts) and what it says (src/rollout/report.ts),
// without a cluster: when failures are the answer, which progress lines are written, how failures are gathered.
import { describe, expect, test } from 'vitest';
import type { KubeObject } from '../../src/kube/object.js';
import { memoryLogger } from '../../src/log.js';
import { allDone, failuresFinal, failuresOf, judgeWorkloads, type Judged } from '../../src/rollout/judge.js';
import { describeFailures, ProgressLines } from '../../src/rollout/report.js';
import { done, emptySnapshot, notSeenYet, progressing, type Verdict } from '../../src/rollout/snapshot.js';

const failed = (message: string): Verdict => ({ state: 'failed', message });
const judged = (...verdicts: Verdict[]): Judged[] => verdicts.map((v, i) => [`job/j${i}`, v] as const);
const timing = { sinceFirstFailureMs: 0, graceMs: 1500, expired: false };

describe('failuresFinal: when the failures found are the answer', () => {
  test.each([
    ['no failure', judged(progressing('p'), done('d')), timing, false],
    ['a failure, nothing else rolling out', judged(failed('f'), done('d')), timing, true],
    ['two failures, nothing else rolling out', judged(failed('f'), failed('g')), timing, true],
    ['a failure, another rolling out, just seen', judged(failed('f'), progressing('p')), timing, false],
    ['…not yet seen by its watch (quiet)', judged(failed('f'), notSeenYet('job/x')), timing, false],
    ['…1 ms before the grace', judged(failed('f'), progressing('p')), { ...timing, sinceFirstFailureMs: 1499 }, false],
    ['…the grace is over', judged(failed('f'), progressing('p')), { ...timing, sinceFirstFailureMs: 1500 }, true],
    ['…the deadline passed', judged(failed('f'), progressing('p')), { ...timing, expired: true }, true],
  ])('%s', (_name, verdicts, when, final) => {
    expect(failuresFinal(verdicts, when)).toBe(final);
  });
});

test('judgeWorkloads names each workload in the release order; failuresOf and allDone read the verdicts', () => {
  const workloads: KubeObject[] = [
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', uid: 'j1' } },
  ];
  const verdicts = judgeWorkloads(workloads, emptySnapshot());
  expect(verdicts.map(([ref, v]) => [ref, v.state])).toEqual([
    ['cronjob/nightly', 'done'],
    ['configmap/settings', 'done'],
    ['job/migrate', 'progressing'],
  ]);
  expect(allDone(verdicts)).toBe(false);
  expect(allDone(verdicts.slice(0, 2))).toBe(true);
  expect(failuresOf(judged(done('d'), failed('f')))).toEqual([['job/j1', failed('f')]]);
});

describe('ProgressLines', () => {
  test('one line per change of a workload; none for a failure or a workload not delivered yet', () => {
    const log = memoryLogger();
    const lines = new ProgressLines(log);
    lines.report([
      ['deployment/web', progressing('deployment/web: 0 of 2')],
      ['job/migrate', notSeenYet('job/migrate')],
    ]);
    lines.report([
      ['deployment/web', progressing('deployment/web: 0 of 2')],
      ['job/migrate', failed('job/migrate failed: DeadlineExceeded')],
    ]);
    lines.report([['deployment/web', done('deployment/web: rolled out')]]);
    expect(log.lines).toEqual(['deployment/web: 0 of 2', 'deployment/web: rolled out']);
  });

  test('at a timeout: the last word on every workload not done, a quiet one included', () => {
    const lines = new ProgressLines(memoryLogger());
    expect(lines.waitingFor()).toBe('waiting for the rollout');
    lines.report([
      ['deployment/web', done('deployment/web: rolled out')],
      ['job/migrate', notSeenYet('job/migrate')],
      ['job/seed', progressing('job/seed: 0 of 1 completions')],
    ]);
    expect(lines.waitingFor()).toBe(
      'waiting for the rollout: job/migrate: waiting for it to appear; job/seed: 0 of 1 completions',
    );
  });
});

test('describeFailures: the first failures and those found meanwhile, each once, in release order', async () => {
  const workloads: KubeObject[] = ['web', 'db', 'migrate'].map((name) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
  }));
  const described: string[] = [];
  const explain = async (verdict: Extract<Verdict, { state: 'failed' }>) => {
    described.push(verdict.message);
    return `${verdict.message} (explained)`;
  };
  const migrate = ['job/migrate', { state: 'failed', message: 'migrate failed' }] as const;
  const web = ['job/web', { state: 'failed', message: 'web failed' }] as const;
  const messages = await describeFailures(workloads, [migrate], () => [migrate, web], explain);
  expect(messages).toEqual(['web failed (explained)', 'migrate failed (explained)']);
  expect(described).toEqual(['migrate failed', 'web failed']);
});
