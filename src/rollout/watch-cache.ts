// What the rollout wait has seen of the cluster, kept up to date: one watch per kind the release's workloads need
// (started from where the last one ended, relisted after a 410 Gone), and a slow resync as a safety net. It decides
// nothing: each change calls `onChange`, and the judging reads `snapshot()`.
import { customWatchesFor, emptySnapshot, watchesFor, type Snapshot, type WatchedKind } from './assess.js';
import type { ClusterApi, WatchEvent } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KubeObject } from '../kube/object.js';
import type { Clock } from '../time.js';

export interface WatchCacheOptions {
  cluster: ClusterApi;
  namespace: string;
  /** Label selector matching the release's workloads, their ReplicaSets and Pods. */
  selector: string;
  workloads: KubeObject[];
  clock: Clock;
  log: Logger;
  /** How often every kind is listed again, whatever the watches said (default 10 s). */
  resyncMs?: number;
  /** Something changed (an event, a relist): time to judge again. */
  onChange: () => void;
  /** A watch the server refused (403…), or a relist that failed while restarting one: the wait cannot go on. */
  onFailure: (error: Error) => void;
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
export const watchFilter = (kind: string, selector: string) =>
  kind === 'Event' ? { fieldSelector: 'reason=FailedCreate' } : { labelSelector: selector };

/** One watch: a kind, and where its objects go in the snapshot (custom kinds, all into `Custom`). */
export interface WatchTarget {
  id: string;
  apiVersion: string;
  kind: string;
  into: keyof Snapshot;
}

export function watchTargets(workloads: KubeObject[]): WatchTarget[] {
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

export class WatchCache {
  private readonly targets: WatchTarget[];
  private readonly objects: Map<string, Map<string, KubeObject>>;
  private readonly resourceVersions = new Map<string, string | undefined>();
  private readonly stops = new Map<string, () => void>();
  private readonly timers: unknown[] = [];
  private stopped = false;

  constructor(private readonly options: WatchCacheOptions) {
    this.targets = watchTargets(options.workloads);
    this.objects = new Map(this.targets.map((t) => [t.id, new Map<string, KubeObject>()]));
  }

  /** Whether there is anything to watch (a release of only CronJobs has not). */
  get watching(): boolean {
    return this.targets.length > 0;
  }

  start(): void {
    // No list first: a watch without a resourceVersion begins with an ADDED event for everything there is.
    // Not awaited: a watch that is slow to answer must not hold up the resync.
    for (const target of this.targets) void this.watch(target).catch((error: Error) => this.options.onFailure(error));
    this.later(() => this.resync(), this.resyncMs);
  }

  /** Stops every watch and timer; idempotent. Nothing is called back after it. */
  stop(): void {
    this.stopped = true;
    for (const stop of this.stops.values()) stop();
    this.stops.clear();
    for (const timer of this.timers) this.options.clock.clearTimeout(timer);
    this.timers.length = 0;
  }

  /** The latest objects of every watched kind. */
  snapshot(): Snapshot {
    const s = emptySnapshot();
    for (const target of this.targets) s[target.into].push(...this.objects.get(target.id)!.values());
    return s;
  }

  private get resyncMs(): number {
    return this.options.resyncMs ?? 10_000;
  }

  private later(fn: () => void, ms: number): void {
    this.timers.push(this.options.clock.setTimeout(fn, ms));
  }

  private async relist(target: WatchTarget): Promise<void> {
    const { cluster, namespace, selector } = this.options;
    const filter = watchFilter(target.kind, selector);
    const list = await cluster.list(
      target.apiVersion,
      target.kind,
      namespace,
      filter.labelSelector,
      filter.fieldSelector,
    );
    this.objects.set(target.id, new Map(list.items.map((o) => [o.metadata.name, o])));
    this.resourceVersions.set(target.id, list.resourceVersion);
  }

  private async watch(target: WatchTarget): Promise<void> {
    if (this.stopped) return;
    const { cluster, namespace, selector } = this.options;
    const handle = await cluster.watch(
      target.apiVersion,
      target.kind,
      namespace,
      { ...watchFilter(target.kind, selector), resourceVersion: this.resourceVersions.get(target.id) },
      (event) => this.received(target, event),
      (error) => this.ended(target, error),
    );
    if (this.stopped) handle.stop();
    else this.stops.set(target.id, handle.stop);
  }

  private received({ id }: WatchTarget, event: WatchEvent): void {
    const rv = event.object.metadata?.resourceVersion;
    if (event.type === 'ERROR') {
      // 410 Gone: our resourceVersion is too old; relist on restart.
      this.resourceVersions.set(id, undefined);
      return;
    }
    if (typeof rv === 'string') this.resourceVersions.set(id, rv);
    if (event.type === 'BOOKMARK') return;
    if (event.type === 'DELETED') this.objects.get(id)!.delete(event.object.metadata.name);
    else this.objects.get(id)!.set(event.object.metadata.name, event.object);
    this.changed();
  }

  private ended(target: WatchTarget, error: unknown): void {
    if (this.stopped) return;
    if (error instanceof ApiRejectedError) {
      // 410 Gone: relist and watch again; any other refusal (403…) will not heal by retrying.
      if (error.status !== 410) return this.options.onFailure(error);
      this.resourceVersions.set(target.id, undefined);
    }
    // The watch ended (server timeout, dropped connection): resume from where we were.
    this.later(() => void this.restart(target), 500);
  }

  private async restart(target: WatchTarget): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.resourceVersions.get(target.id)) await this.relist(target);
      await this.watch(target);
      this.changed();
    } catch (error) {
      this.options.onFailure(error as Error);
    }
  }

  private resync(): void {
    if (this.stopped) return;
    void Promise.all(this.targets.map((t) => this.relist(t)))
      .then(() => this.changed())
      // Not fatal (the watches carry on), but not silent either: a resync that keeps failing explains a slow put.
      .catch((error: Error) => {
        if (!this.stopped)
          this.options.log.warn(`resync of the rollout's objects failed (the watches carry on): ${error.message}`);
      })
      .finally(() => {
        if (!this.stopped) this.later(() => this.resync(), this.resyncMs);
      });
  }

  private changed(): void {
    if (!this.stopped) this.options.onChange();
  }
}
