// Waits until every workload of a release has rolled out (Deployments, StatefulSets, DaemonSets, Jobs), driven by
// watches (with a slow resync as a safety net), and fails as soon as any of them has failed for good — all the failed
// ones named together. The decisions are pure (assess.ts); this file only keeps the snapshot fresh and the deadline.
import {
  assessWorkload,
  combineFailures,
  customWatchesFor,
  emptySnapshot,
  watchesFor,
  type Snapshot,
  type Verdict,
  type WatchedKind,
} from './assess.js';
import { readLogTail } from './logs.js';
import { describeEvents } from './pods.js';
import type { ClusterApi } from '../cluster/api.js';
import { AbortedError, ApiRejectedError, RolloutFailedError, TimedOutError } from '../errors.js';
import type { Logger } from '../log.js';
import { objectRef, type KubeObject } from '../kube/object.js';
import { formatDuration, sleep, systemClock, type Clock } from '../time.js';

export interface WaitOptions {
  cluster: ClusterApi;
  namespace: string;
  /** Label selector matching the release's workloads, their ReplicaSets and Pods. */
  selector: string;
  /** The workloads as the apply returned them (their uid and generation say which object and spec count). */
  workloads: KubeObject[];
  /** The put's whole budget, for the timeout message; the wait ends at `deadline` (default: now + timeoutMs). */
  timeoutMs: number;
  deadline?: number;
  log: Logger;
  signal?: AbortSignal;
  clock?: Clock;
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

const apiVersionOf: Record<WatchedKind, string> = {
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  Pod: 'v1',
  Event: 'v1',
};

/** Events carry no labels of ours: only the controllers' `FailedCreate` ones are watched, the workload told by uid. */
const watchFilter = (kind: string, selector: string) =>
  kind === 'Event' ? { fieldSelector: 'reason=FailedCreate' } : { labelSelector: selector };

/** One watch: a kind, and where its objects go in the snapshot (custom kinds, all into `Custom`). */
interface WatchTarget {
  id: string;
  apiVersion: string;
  kind: string;
  into: keyof Snapshot;
}

function watchTargets(workloads: KubeObject[]): WatchTarget[] {
  return [
    ...watchesFor(workloads).map((kind) => ({ id: kind, apiVersion: apiVersionOf[kind], kind, into: kind })),
    ...customWatchesFor(workloads).map(({ apiVersion, kind }) => ({
      id: `${apiVersion} ${kind}`,
      apiVersion,
      kind,
      into: 'Custom' as const,
    })),
  ];
}

export async function waitForRollout(options: WaitOptions): Promise<{ durationMs: number }> {
  const { cluster, namespace, selector, log, workloads } = options;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const deadline = options.deadline ?? started + options.timeoutMs;
  const failureGraceMs = options.failureGraceMs ?? 1500;
  const eventsGraceMs = options.eventsGraceMs ?? 2000;
  const targets = watchTargets(workloads);
  const objects = new Map(targets.map((t) => [t.id, new Map<string, KubeObject>()]));
  const resourceVersions = new Map<string, string | undefined>();
  const stops = new Map<string, () => void>();
  const lastVerdict = new Map<string, Verdict>();
  let finished = false;
  let evaluating = false;
  let again = false;
  const timers: unknown[] = [];

  let settle!: (error?: Error) => void;
  const outcome = new Promise<void>((resolve, reject) => {
    settle = (error) => {
      if (finished) return;
      finished = true;
      if (error) reject(error);
      else resolve();
    };
  });
  // Settled before anyone awaits it (an abort during the first list): not an unhandled rejection.
  outcome.catch(() => undefined);

  async function relist(target: WatchTarget): Promise<void> {
    const filter = watchFilter(target.kind, selector);
    const list = await cluster.list(
      target.apiVersion,
      target.kind,
      namespace,
      filter.labelSelector,
      filter.fieldSelector,
    );
    objects.set(target.id, new Map(list.items.map((o) => [o.metadata.name, o])));
    resourceVersions.set(target.id, list.resourceVersion);
  }

  async function startWatch(target: WatchTarget): Promise<void> {
    if (finished) return;
    const { id } = target;
    const handle = await cluster.watch(
      target.apiVersion,
      target.kind,
      namespace,
      { ...watchFilter(target.kind, selector), resourceVersion: resourceVersions.get(id) },
      (event) => {
        const rv = event.object.metadata?.resourceVersion;
        if (event.type === 'ERROR') {
          // 410 Gone: our resourceVersion is too old; relist on restart.
          resourceVersions.set(id, undefined);
          return;
        }
        if (typeof rv === 'string') resourceVersions.set(id, rv);
        if (event.type === 'BOOKMARK') return;
        if (event.type === 'DELETED') objects.get(id)!.delete(event.object.metadata.name);
        else objects.get(id)!.set(event.object.metadata.name, event.object);
        schedule();
      },
      (error) => {
        if (finished) return;
        if (error instanceof ApiRejectedError) {
          // 410 Gone: relist and watch again; any other refusal (403…) will not heal by retrying.
          if (error.status !== 410) return settle(error);
          resourceVersions.set(id, undefined);
        }
        // The watch ended (server timeout, dropped connection): resume from where we were.
        timers.push(clock.setTimeout(() => void restart(target), 500));
      },
    );
    if (finished) handle.stop();
    else stops.set(id, handle.stop);
  }

  async function restart(target: WatchTarget): Promise<void> {
    if (finished) return;
    try {
      if (!resourceVersions.get(target.id)) await relist(target);
      await startWatch(target);
      schedule();
    } catch (error) {
      settle(error as Error);
    }
  }

  function snapshot(): Snapshot {
    const s = emptySnapshot();
    for (const target of targets) s[target.into].push(...objects.get(target.id)!.values());
    return s;
  }

  /** "…; recent events: …; last log lines of container …" for a failure whose events and log explain it. */
  async function withEvents(verdict: Extract<Verdict, { state: 'failed' }>): Promise<string> {
    const [explained, log] = await Promise.all([
      eventsFor(verdict),
      verdict.logsOf ? readLogTail(cluster, namespace, verdict.logsOf, { clock, giveUpAt: deadline }) : '',
    ]);
    return explained + log;
  }

  async function eventsFor(verdict: Extract<Verdict, { state: 'failed' }>): Promise<string> {
    if (!verdict.eventsOf) return verdict.message;
    const { kind, name } = verdict.eventsOf;
    const eventsOf = () =>
      cluster
        .list('v1', 'Event', namespace, undefined, `involvedObject.kind=${kind},involvedObject.name=${name}`)
        .then((l) => l.items)
        .catch(() => []);
    // The kubelet writes a Pod's status and the events that explain it separately, either first: a failure seen
    // before its events waits a moment for them (never past the deadline), so the message says why.
    const giveUpAt = Math.min(clock.now() + eventsGraceMs, deadline);
    let events = await eventsOf();
    while (!events.length && clock.now() + 250 <= giveUpAt) {
      await sleep(250, clock, options.signal);
      events = await eventsOf();
    }
    const recent = describeEvents(events);
    return recent ? `${verdict.message}; recent events: ${recent}` : verdict.message;
  }

  const judge = () => {
    const seen = snapshot();
    return workloads.map((w) => [objectRef(w), assessWorkload(w, seen, options.putStartedAt)] as const);
  };
  const failuresOf = (verdicts: ReturnType<typeof judge>) =>
    verdicts.flatMap(([ref, v]) => (v.state === 'failed' ? [[ref, v] as const] : []));

  /** Every workload failed by now, each with its events: what arrived while the first ones' events were read counts. */
  async function allFailures(first: ReturnType<typeof failuresOf>): Promise<string[]> {
    const described = new Map(await Promise.all(first.map(async ([ref, v]) => [ref, await withEvents(v)] as const)));
    const later = failuresOf(judge()).filter(([ref]) => !described.has(ref));
    for (const [ref, v] of later) described.set(ref, await withEvents(v));
    return workloads.map(objectRef).flatMap((ref) => (described.has(ref) ? [described.get(ref)!] : []));
  }

  let firstFailureAt: number | undefined;
  async function evaluate(): Promise<void> {
    const verdicts = judge();
    const failures = failuresOf(verdicts);
    if (failures.length) {
      // Fail fast, but give workloads still rolling out a moment to fail too, so that they are reported together.
      const now = clock.now();
      if (firstFailureAt === undefined) {
        firstFailureAt = now;
        timers.push(clock.setTimeout(schedule, failureGraceMs));
      }
      if (
        verdicts.every(([, v]) => v.state !== 'progressing') ||
        now - firstFailureAt >= failureGraceMs ||
        now >= deadline
      ) {
        throw new RolloutFailedError(combineFailures(await allFailures(failures)));
      }
    }
    for (const [ref, verdict] of verdicts) {
      if (verdict.state === 'failed') continue;
      const quiet = verdict.state === 'progressing' && verdict.quiet;
      if (!quiet && lastVerdict.get(ref)?.message !== verdict.message) log.info(verdict.message);
      lastVerdict.set(ref, verdict);
    }
    if (verdicts.every(([, v]) => v.state === 'done')) settle();
  }

  function schedule(): void {
    if (finished) return;
    if (evaluating) {
      again = true;
      return;
    }
    evaluating = true;
    void evaluate()
      .catch((error: Error) => settle(error))
      .finally(() => {
        evaluating = false;
        if (again && !finished) {
          again = false;
          schedule();
        }
      });
  }

  const onAbort = () =>
    settle(options.signal?.reason instanceof Error ? options.signal.reason : new AbortedError('aborted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  timers.push(
    clock.setTimeout(
      () => {
        // A failure found within the grace period is the answer, not the timeout.
        if (failuresOf(judge()).length) return schedule();
        const waiting = [...lastVerdict.values()]
          .filter((v) => v.state !== 'done')
          .map((v) => v.message)
          .join('; ');
        settle(
          new TimedOutError(
            `timed out after ${formatDuration(options.timeoutMs)} waiting for the rollout` +
              `${waiting ? `: ${waiting}` : ''}`,
          ),
        );
      },
      Math.max(0, deadline - started),
    ),
  );
  const resyncMs = options.resyncMs ?? 10_000;
  const resync = () => {
    if (finished) return;
    void Promise.all(targets.map(relist))
      .then(schedule)
      // Not fatal (the watches carry on), but not silent either: a resync that keeps failing explains a slow put.
      .catch((error: Error) => {
        if (!finished) log.warn(`resync of the rollout's objects failed (the watches carry on): ${error.message}`);
      })
      .finally(() => {
        if (!finished) timers.push(clock.setTimeout(resync, resyncMs));
      });
  };

  try {
    if (options.signal?.aborted) onAbort();
    else {
      // No list first: a watch without a resourceVersion begins with an ADDED event for everything there is.
      // Not awaited: a watch that is slow to answer must not hold up the resync.
      for (const target of targets) void startWatch(target).catch((error: Error) => settle(error));
      timers.push(clock.setTimeout(resync, resyncMs));
      // Nothing to watch (only CronJobs): judged at once.
      if (!targets.length) schedule();
    }
    await outcome;
    return { durationMs: clock.now() - started };
  } finally {
    finished = true;
    options.signal?.removeEventListener('abort', onAbort);
    for (const stop of stops.values()) stop();
    for (const timer of timers) clock.clearTimeout(timer);
  }
}
