// Waits until every workload of a release has rolled out (Deployments, StatefulSets, DaemonSets, Jobs), driven by
// watches (with a slow resync as a safety net), and fails as soon as any of them has failed for good — all the failed
// ones named together. The watches keep a cache (watch-cache.ts), the decisions are pure (judge.ts, assess.ts), what
// is said is in report.ts; this file runs them on every change, until done, failed, aborted or out of time.
import { combineFailures } from './assess.js';
import { allDone, failuresFinal, failuresOf, judgeWorkloads, type FailedVerdict } from './judge.js';
import { describeFailure, describeFailures, ProgressLines } from './report.js';
import { WatchCache } from './watch-cache.js';
import type { ClusterApi } from '../cluster/api.js';
import { RolloutFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KubeObject } from '../kube/object.js';
import { abortReason, type Deadline } from '../time.js';

export interface WaitOptions {
  cluster: ClusterApi;
  namespace: string;
  /** Label selector matching the release's workloads, their ReplicaSets and Pods. */
  selector: string;
  /** The workloads as the apply returned them (their uid and generation say which object and spec count). */
  workloads: KubeObject[];
  /** The put's deadline (and its clock): the wait ends at it, and the timeout names the put's whole budget. */
  deadline: Deadline;
  log: Logger;
  signal?: AbortSignal;
  resyncMs?: number;
  /** After the first failure, how long other workloads still rolling out may take to fail too (default 1.5 s). */
  failureGraceMs?: number;
  /**
   * The server's time of this put's start (when it took the release lock): a workload the put left unchanged is
   * failed only by what the controllers said after it (see failuresSince in snapshot.ts).
   */
  putStartedAt?: string;
  /** How long a failure whose object has no events yet waits for them (default 2 s): kubelets post them apart. */
  eventsGraceMs?: number;
}

/** A promise settled once, by whoever comes first (done, a failure, the timeout, an abort); later calls are ignored. */
function settleOnce(onSettle: () => void) {
  let settled = false;
  let settle!: (error?: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    settle = (error) => {
      if (settled) return;
      settled = true;
      onSettle();
      if (error) reject(error);
      else resolve();
    };
  });
  // Settled before anyone awaits it (an abort during the first list): not an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, settle, settled: () => settled };
}

/**
 * Runs `run` now, or once more right after the run in progress (however many calls came meanwhile); its error goes
 * to `onError`. Nothing runs once `finished`.
 */
function coalesced(run: () => Promise<void>, onError: (error: Error) => void, finished: () => boolean) {
  let running = false;
  let again = false;
  const schedule = (): void => {
    if (finished()) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    void run()
      .catch(onError)
      .finally(() => {
        running = false;
        if (again && !finished()) {
          again = false;
          schedule();
        }
      });
  };
  return schedule;
}

export async function waitForRollout(options: WaitOptions): Promise<{ durationMs: number }> {
  const { cluster, namespace, selector, workloads, log, deadline, signal } = options;
  const clock = deadline.clock;
  const started = clock.now();
  const failureGraceMs = options.failureGraceMs ?? 1500;
  const timers: unknown[] = [];
  const progress = new ProgressLines(log);
  // Once settled, the watches stop at once: nothing they bring afterwards is judged or said.
  const outcome = settleOnce(() => cache.stop());
  const cache = new WatchCache({
    ...{ cluster, namespace, selector, workloads, clock, log, resyncMs: options.resyncMs },
    ...{ onChange: () => schedule(), onFailure: outcome.settle },
  });
  const context = { cluster, namespace, deadline, signal, eventsGraceMs: options.eventsGraceMs ?? 2000 };
  const describe = (verdict: FailedVerdict) => describeFailure(verdict, context);
  const judge = () => judgeWorkloads(workloads, cache.snapshot(), options.putStartedAt);

  let firstFailureAt: number | undefined;
  async function evaluate(): Promise<void> {
    const verdicts = judge();
    const failures = failuresOf(verdicts);
    if (failures.length) {
      const now = clock.now();
      if (firstFailureAt === undefined) {
        firstFailureAt = now;
        timers.push(clock.setTimeout(schedule, failureGraceMs));
      }
      const timing = {
        sinceFirstFailureMs: now - firstFailureAt,
        graceMs: failureGraceMs,
        expired: now >= deadline.at,
      };
      if (failuresFinal(verdicts, timing)) {
        const described = await describeFailures(workloads, failures, () => failuresOf(judge()), describe);
        throw new RolloutFailedError(combineFailures(described));
      }
    }
    progress.report(verdicts);
    if (allDone(verdicts)) outcome.settle();
  }
  const schedule = coalesced(evaluate, outcome.settle, outcome.settled);

  const timedOut = () => {
    // A failure found within the grace period is the answer, not the timeout.
    if (failuresOf(judge()).length) return schedule();
    outcome.settle(deadline.timedOut(progress.waitingFor()));
  };
  const onAbort = () => outcome.settle(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  timers.push(clock.setTimeout(timedOut, deadline.remainingMs()));
  try {
    if (signal?.aborted) onAbort();
    else {
      cache.start();
      // Nothing to watch (only CronJobs): judged at once.
      if (!cache.watching) schedule();
    }
    await outcome.promise;
    return { durationMs: clock.now() - started };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    cache.stop();
    for (const timer of timers) clock.clearTimeout(timer);
  }
}
