// Waits until every Deployment of a release has rolled out, driven by watches (with a slow resync as a safety net),
// and fails as soon as a Pod of the new ReplicaSet is stuck for good or the progress deadline is exceeded.
import { assessDeployment, currentTemplateHash, describePodFailure, findPodFailure, type Assessment } from './assess.js';
import type { ClusterApi } from '../cluster/api.js';
import { AbortedError, ApiRejectedError, RolloutFailedError, TimedOutError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KubeObject } from '../kube/object.js';
import { formatDuration, systemClock, type Clock } from '../time.js';


export interface WaitOptions {
  cluster: ClusterApi;
  namespace: string;
  /** Label selector matching the release's Deployments, ReplicaSets and Pods. */
  selector: string;
  deployments: string[];
  timeoutMs: number;
  log: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  resyncMs?: number;
}

const watched = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  { apiVersion: 'v1', kind: 'Pod' },
] as const;
type Kind = (typeof watched)[number]['kind'];

export async function waitForRollout(options: WaitOptions): Promise<{ durationMs: number }> {
  const { cluster, namespace, selector, log } = options;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const objects: Record<Kind, Map<string, KubeObject>> = { Deployment: new Map(), ReplicaSet: new Map(), Pod: new Map() };
  const resourceVersions: Partial<Record<Kind, string>> = {};
  const stops: Partial<Record<Kind, () => void>> = {};
  const lastMessage = new Map<string, string>();
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

  async function relist(apiVersion: string, kind: Kind): Promise<void> {
    const list = await cluster.list(apiVersion, kind, namespace, selector);
    objects[kind] = new Map(list.items.map((o) => [o.metadata.name, o]));
    resourceVersions[kind] = list.resourceVersion;
  }

  async function startWatch(apiVersion: string, kind: Kind): Promise<void> {
    if (finished) return;
    const handle = await cluster.watch(
      apiVersion,
      kind,
      namespace,
      { labelSelector: selector, resourceVersion: resourceVersions[kind] },
      (event) => {
        const rv = event.object.metadata?.resourceVersion;
        if (event.type === 'ERROR') {
          // 410 Gone: our resourceVersion is too old; relist on restart.
          resourceVersions[kind] = undefined;
          return;
        }
        if (typeof rv === 'string') resourceVersions[kind] = rv;
        if (event.type === 'BOOKMARK') return;
        if (event.type === 'DELETED') objects[kind].delete(event.object.metadata.name);
        else objects[kind].set(event.object.metadata.name, event.object);
        schedule();
      },
      (error) => {
        if (finished) return;
        if (error instanceof ApiRejectedError) {
          // 410 Gone: relist and watch again; any other refusal (403…) will not heal by retrying.
          if (error.status !== 410) return settle(error);
          resourceVersions[kind] = undefined;
        }
        // The watch ended (server timeout, dropped connection): resume from where we were.
        timers.push(clock.setTimeout(() => void restart(apiVersion, kind), 500));
      },
    );
    if (finished) handle.stop();
    else stops[kind] = handle.stop;
  }

  async function restart(apiVersion: string, kind: Kind): Promise<void> {
    if (finished) return;
    try {
      if (!resourceVersions[kind]) await relist(apiVersion, kind);
      await startWatch(apiVersion, kind);
      schedule();
    } catch (error) {
      settle(error as Error);
    }
  }

  function report(name: string, assessment: Assessment): void {
    if (lastMessage.get(name) !== assessment.message) {
      lastMessage.set(name, assessment.message);
      log.info(assessment.message);
    }
  }

  async function evaluate(): Promise<void> {
    let allDone = true;
    for (const name of options.deployments) {
      const deployment = objects.Deployment.get(name);
      if (!deployment) {
        allDone = false;
        report(name, { state: 'progressing', message: `deployment/${name}: waiting for it to appear` });
        continue;
      }
      const assessment = assessDeployment(deployment);
      if (assessment.state === 'failed') throw new RolloutFailedError(assessment.message);
      const hash = currentTemplateHash(deployment, [...objects.ReplicaSet.values()]);
      const failure = hash ? findPodFailure([...objects.Pod.values()], hash) : undefined;
      if (failure) {
        const events = await cluster
          .list('v1', 'Event', namespace, undefined, `involvedObject.kind=Pod,involvedObject.name=${failure.pod}`)
          .then((l) => l.items)
          .catch(() => []);
        throw new RolloutFailedError(`deployment/${name} failed: ${describePodFailure(failure, events)}`);
      }
      report(name, assessment);
      if (assessment.state !== 'done') allDone = false;
    }
    if (allDone) settle();
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

  const onAbort = () => settle(options.signal?.reason instanceof Error ? options.signal.reason : new AbortedError('aborted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  timers.push(
    clock.setTimeout(() => {
      const waiting = [...lastMessage.values()].join('; ');
      settle(new TimedOutError(`timed out after ${formatDuration(options.timeoutMs)} waiting for the rollout${waiting ? `: ${waiting}` : ''}`));
    }, options.timeoutMs),
  );
  const resyncMs = options.resyncMs ?? 10_000;
  const resync = () => {
    if (finished) return;
    void Promise.all(watched.map((w) => relist(w.apiVersion, w.kind)))
      .then(schedule)
      .catch(() => undefined)
      .finally(() => {
        if (!finished) timers.push(clock.setTimeout(resync, resyncMs));
      });
  };

  try {
    if (options.signal?.aborted) onAbort();
    else {
      // No list first: a watch without a resourceVersion begins with an ADDED event for everything there is.
      // Not awaited: a watch that is slow to answer must not hold up the resync.
      for (const w of watched) void startWatch(w.apiVersion, w.kind).catch((error: Error) => settle(error));
      timers.push(clock.setTimeout(resync, resyncMs));
    }
    await outcome;
    return { durationMs: clock.now() - started };
  } finally {
    finished = true;
    options.signal?.removeEventListener('abort', onAbort);
    for (const stop of Object.values(stops)) stop?.();
    for (const timer of timers) clock.clearTimeout(timer);
  }
}
