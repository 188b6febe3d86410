// Pure: the wait's decisions on a whole release from one snapshot — the verdict on every workload, whether the
// failures found are the answer yet, whether everything is done. The rules of each kind are in assess.ts.
import { assessWorkload, type Snapshot, type Verdict } from './assess.js';
import { objectRef, type KubeObject } from '../kube/object.js';

export type FailedVerdict = Extract<Verdict, { state: 'failed' }>;
/** A workload (as `kind/name`) and its verdict. */
export type Judged = readonly [ref: string, verdict: Verdict];
export type Failure = readonly [ref: string, verdict: FailedVerdict];

/** The verdict on every workload, in the release's order. */
export function judgeWorkloads(workloads: KubeObject[], snapshot: Snapshot, putStartedAt?: string): Judged[] {
  return workloads.map((w) => [objectRef(w), assessWorkload(w, snapshot, putStartedAt)] as const);
}

export const failuresOf = (verdicts: readonly Judged[]): Failure[] =>
  verdicts.flatMap(([ref, v]) => (v.state === 'failed' ? [[ref, v] as const] : []));

export const allDone = (verdicts: readonly Judged[]): boolean => verdicts.every(([, v]) => v.state === 'done');

export interface FailureTiming {
  /** How long ago the first failure was seen. */
  sinceFirstFailureMs: number;
  /** How long other workloads still rolling out may take to fail too. */
  graceMs: number;
  /** Whether the put's deadline has passed. */
  expired: boolean;
}

/**
 * Whether the failures among `verdicts` are the answer now. Fail fast, but give workloads still rolling out a moment
 * to fail too, so that they are reported together: at once when nothing is still rolling out, else after the grace
 * or at the deadline, whichever comes first.
 */
export function failuresFinal(verdicts: readonly Judged[], timing: FailureTiming): boolean {
  if (!failuresOf(verdicts).length) return false;
  return (
    verdicts.every(([, v]) => v.state !== 'progressing') ||
    timing.sinceFirstFailureMs >= timing.graceMs ||
    timing.expired
  );
}
