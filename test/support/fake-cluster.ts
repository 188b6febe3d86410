// An in-memory Kubernetes API behind the project's ClusterApi seam (src/cluster/api.ts), for unit tests of the engine
// and the commands that run in milliseconds. It keeps what our code relies on, as the real API server does it:
// resourceVersions (one counter for the whole store) and generation, 404/409/422 with the real error classes,
// server-side apply for one field manager (create or merge, no new resourceVersion when nothing changed), label and
// field selectors, watches (ADDED for the current state, then MODIFIED/DELETED; DELETED/ADDED when an object leaves or
// enters a label selector), owner references with cascading deletion, and namespaces. What it leaves out is proven
// against the real cluster by test/integration: RBAC, TLS, admission, defaulting, the real controllers.
//
// The test drives time (FakeClock), the controllers (react) and faults (fail); see test/unit/fake-cluster.test.ts.
import { randomUUID } from 'node:crypto';
import type {
  ClusterApi,
  DeletePreconditions,
  ListResult,
  MetadataListResult,
  ObjectKey,
  ObjectMetadata,
  PodLogOptions,
  WatchEvent,
} from '../../src/cluster/api.js';
import { errorForStatus } from '../../src/cluster/errors.js';
import { wellKnownResource } from '../../src/cluster/resources.js';
import { AbortedError } from '../../src/errors.js';
import { product } from '../../src/kube/labels.js';
import type { KubeObject } from '../../src/kube/object.js';
import type { Clock } from '../../src/time.js';

// ---------------------------------------------------------------------------------------------------------------
// The clock

/** libuv requests of a file operation in flight (fs/promises: FSReqPromise, and CloseReq when readFile closes). */
const fileOperation = /^(FSReq|CloseReq|FileHandle)/;

/** Timers on virtual time: nothing fires until the test advances it. */
export class FakeClock implements Clock {
  private current: number;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  private readonly activity: (() => number)[] = [];

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const seq = ++this.seq;
    this.timers.push({ at: this.current + Math.max(0, ms), seq, fn });
    return seq;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.seq !== handle);
  }
  /** Something whose number changes while work is under way (a FakeCluster's calls and events): see settle(). */
  addActivity(probe: () => number): void {
    this.activity.push(probe);
  }

  /**
   * Lets the code under test go as far as it can without time passing: turns of the event loop until two in a row
   * saw no new call, change or event and no file operation in flight (bounded, so a busy loop fails the test instead
   * of hanging it).
   */
  async settle(): Promise<void> {
    let last = Number.NaN;
    let quiet = 0;
    for (let turn = 0; turn < 10_000; turn++) {
      // File reads and writes (the commands' sources and destination dirs) finish on libuv's thread pool: real time.
      const io = process.getActiveResourcesInfo().some((resource) => fileOperation.test(resource));
      await new Promise<void>((resolve) => (io ? setTimeout(resolve, 1) : setImmediate(resolve)));
      const seen = this.activity.reduce((sum, probe) => sum + probe(), 0);
      quiet = seen === last && !io ? quiet + 1 : 0;
      if (quiet >= 2) return;
      last = seen;
    }
    throw new Error('FakeClock.settle: the code under test never came to rest without time passing');
  }

  /** How many timers wait to fire. */
  get pending(): number {
    return this.timers.length;
  }
  /** When the next timer is due (undefined when none waits). */
  nextAt(): number | undefined {
    return this.timers.reduce<number | undefined>(
      (min, t) => (min === undefined || t.at < min ? t.at : min),
      undefined,
    );
  }

  /** Moves time on by `ms`, firing every timer due on the way in order (each after the async work before it). */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    for (;;) {
      await this.settle();
      const next = this.dueBefore(until);
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      this.timers = this.timers.filter((t) => t !== next);
      next.fn();
    }
    this.current = until;
    await this.settle();
  }

  /**
   * Runs the code under test to its end: lets its async work run, and whenever it waits only for a timer, moves
   * time to that timer. Fails when nothing is left to run or `limitMs` of virtual time have passed, so a test of a
   * loop that never ends fails instead of hanging.
   */
  async run<T>(promise: Promise<T>, limitMs = 60 * 60_000): Promise<T> {
    const state = { done: false };
    const watched = promise.then(
      (value) => {
        state.done = true;
        return value;
      },
      (error: unknown) => {
        state.done = true;
        throw error;
      },
    );
    watched.catch(() => undefined);
    const limit = this.current + limitMs;
    for (;;) {
      await this.settle();
      if (state.done) return watched;
      const next = this.dueBefore(limit) ?? (await this.lastChance(state, limit));
      if (state.done) return watched;
      if (!next)
        throw new Error(
          `FakeClock.run: still waiting after ${limitMs} ms of virtual time, or nothing left that could finish it`,
        );
      this.current = Math.max(this.current, next.at);
      this.timers = this.timers.filter((t) => t !== next);
      next.fn();
    }
  }

  /**
   * Nothing due and not done: before calling it a hang, give work the activity probes cannot see (the thread pool)
   * half a second of real time to finish or to set a timer. Not when timers wait past the limit: that is the end.
   */
  private async lastChance(state: { done: boolean }, limit: number) {
    if (this.timers.length) return undefined;
    for (let waited = 0; waited < 500 && !state.done; waited += 10) {
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
      await this.settle();
      const next = this.dueBefore(limit);
      if (next) return next;
    }
    return undefined;
  }

  private dueBefore(until: number) {
    let first: (typeof this.timers)[number] | undefined;
    for (const t of this.timers)
      if (t.at <= until && (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq))) first = t;
    return first;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Selectors

type Requirement = { key: string; op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!'; values: string[] };

/** Label selector syntax of the API server: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`. */
export function parseLabelSelector(selector: string | undefined): Requirement[] {
  if (!selector?.trim()) return [];
  const parts = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return parts.map((raw) => {
    const part = raw.trim();
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()) };
    m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(part);
    if (m) return { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!] };
    if (part.startsWith('!')) return { key: part.slice(1).trim(), op: '!', values: [] };
    if (/^[\w./-]+$/.test(part)) return { key: part, op: 'exists', values: [] };
    throw errorForStatus(400, `unable to parse requirement: ${part}`, 'list', 'fake');
  });
}

function matchesRequirements(values: (key: string) => string | undefined, requirements: Requirement[]): boolean {
  return requirements.every(({ key, op, values: wanted }) => {
    const value = values(key);
    switch (op) {
      case '=':
        return value === wanted[0];
      case '!=':
        return value !== wanted[0];
      case 'in':
        return value !== undefined && wanted.includes(value);
      case 'notin':
        return value === undefined || !wanted.includes(value);
      case 'exists':
        return value !== undefined;
      case '!':
        return value === undefined;
    }
  });
}

export function matchesLabels(object: KubeObject, selector: string | undefined): boolean {
  return matchesRequirements((key) => object.metadata.labels?.[key], parseLabelSelector(selector));
}

/** Field selectors: `a.b=c`, `a.b==c`, `a.b!=c` on any dotted path (the API allows a few per kind; we allow all). */
export function matchesFields(object: KubeObject, selector: string | undefined): boolean {
  const requirements = parseLabelSelector(selector).map((r) => {
    if (r.op !== '=' && r.op !== '!=')
      throw errorForStatus(400, `field selectors only support =, == and !=: ${r.key}`, 'list', 'fake');
    return r;
  });
  const valueAt = (path: string) => {
    let current: unknown = object;
    for (const part of path.split('.')) current = (current as Record<string, unknown> | undefined)?.[part];
    return current === undefined ? undefined : String(current);
  };
  return matchesRequirements(valueAt, requirements);
}

// ---------------------------------------------------------------------------------------------------------------
// The store

export type Verb =
  | 'isNamespaced'
  | 'read'
  | 'list'
  | 'listMetadata'
  | 'apply'
  | 'create'
  | 'replace'
  | 'patchMetadata'
  | 'mergePatch'
  | 'podLog'
  | 'remove'
  | 'watch';

export interface Fault {
  verb: Verb;
  kind?: string;
  name?: string;
  namespace?: string;
  status: number;
  message?: string;
  /** How many calls fail (default 1); Infinity for every call. */
  times?: number;
}

/** One call the code under test made: what the tests assert order and counts on. */
export interface Call {
  verb: Verb;
  kind: string;
  namespace?: string;
  name?: string;
  dryRun?: boolean;
  /** An apply as another field manager (an ownership hand-over). */
  as?: string;
}

export interface ControllerEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface Watcher {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  onEvent: (event: WatchEvent) => void;
  onEnd: (error?: unknown) => void;
  open: boolean;
}

interface Change {
  revision: number;
  type: ControllerEvent['type'];
  object: KubeObject;
  previous?: KubeObject;
}

interface Stored {
  object: KubeObject;
  /** What our field manager last applied: fields it dropped since are removed, as server-side apply does. */
  applied?: KubeObject;
}

type Kind = { apiVersion: string; kind: string };
const kindKey = (k: Kind) => `${k.apiVersion}/${k.kind}`;
const objectKey = (k: ObjectKey, namespaced: boolean) =>
  `${k.apiVersion}/${k.kind}/${namespaced ? (k.namespace ?? '') : ''}/${k.name}`;
const clone = <T>(value: T): T => structuredClone(value);
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kinds whose status is written only through their status subresource: apply and replace keep the stored one. */
const statusSubresource = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Pod',
  'Service',
  'Ingress',
  'Job',
  'Namespace',
]);
/** Kinds without a spec generation (the API server sets metadata.generation only for these others). */
const noGeneration = new Set(['Secret', 'ConfigMap', 'Event', 'Lease', 'ServiceAccount', 'Namespace']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

/** RFC 7386: null removes, objects merge, anything else replaces. */
function mergePatched(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatched(out[key], value);
  }
  return out;
}

/** Server-side apply for one manager: the new config over what is there, minus what it applied before and dropped. */
function applyMerge(current: unknown, previous: unknown, applied: unknown): unknown {
  if (!isPlainObject(applied) || !isPlainObject(current)) return clone(applied);
  const out: Record<string, unknown> = { ...current };
  const before = isPlainObject(previous) ? previous : {};
  for (const key of Object.keys(before)) {
    if (key in applied) continue;
    // A map we no longer apply loses only our keys: what others set in it stays (field ownership per key).
    const rest =
      isPlainObject(before[key]) && isPlainObject(current[key])
        ? (applyMerge(current[key], before[key], {}) as Record<string, unknown>)
        : {};
    if (Object.keys(rest).length) out[key] = rest;
    else delete out[key];
  }
  for (const [key, value] of Object.entries(applied)) out[key] = applyMerge(current[key], before[key], value);
  return out;
}

/** Our Apply entry's fieldsV1 names spec.replicas when the config sets it (what engine/replicas.ts reads). */
function ownReplicas(object: KubeObject, config: KubeObject): KubeObject {
  const entry = (object.metadata.managedFields as Record<string, unknown>[] | undefined)?.find(
    (m) => m.manager === product && m.operation === 'Apply',
  );
  const replicas = (config.spec as { replicas?: unknown } | undefined)?.replicas !== undefined;
  if (entry) entry.fieldsV1 = replicas ? { 'f:spec': { 'f:replicas': {} } } : {};
  return object;
}

/** The metadata the server owns: kept across apply and replace. */
const serverMetadata = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'ownerReferences',
  'finalizers',
  'managedFields',
] as const;

/** Our field manager (src/cluster/client.ts): its managedFields entry tells when the put last changed an object. */
const ourManager = product;
const serverTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
/** An object without what the server changes on every write (for "did anything change?"). */
const content = (o: KubeObject) => ({
  ...o,
  metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined },
});

export interface FakeClusterOptions {
  clock?: FakeClock;
  /** Namespaces that exist from the start (default: default). */
  namespaces?: string[];
}

export class FakeCluster {
  readonly clock: FakeClock;
  readonly server = 'https://fake-cluster.test';
  /** Every call, in order. */
  readonly calls: Call[] = [];
  /**
   * Every whole object (content and all: a Secret's data) a call handed back, one entry each, in order: reads, list
   * items, the answers of writes; not listMetadata's items, not watch events. Code can decode only what it was handed:
   * a test counts the release records here to prove that only the records a command uses were read.
   */
  readonly served: (Call & { name: string })[] = [];
  private readonly store = new Map<string, Stored>();
  private readonly kinds = new Map<string, boolean>();
  private readonly watchers = new Set<Watcher>();
  private readonly faults: Fault[] = [];
  private readonly controllers: {
    kind: string;
    react: (event: ControllerEvent, cluster: FakeCluster) => void | Promise<void>;
  }[] = [];
  private readonly lingering = new Map<string, number>();
  /** Container logs, by `namespace/pod/container/current|previous`. */
  private readonly logs = new Map<string, string>();
  /** Every change, for watches that start from a resourceVersion. */
  private readonly history: Change[] = [];
  /** Changes before this revision are forgotten: a watch from an older resourceVersion ends with 410 Gone. */
  private compactedBefore = 0;
  private revision = 100;
  /** Events and controller reactions on their way: FakeClock.run waits for them before it moves time. */
  private busy = 0;

  constructor(options: FakeClusterOptions = {}) {
    this.clock = options.clock ?? new FakeClock();
    this.clock.addActivity(() => this.busy * 1e9 + this.calls.length * 1e4 + this.revision);
    for (const name of options.namespaces ?? ['default'])
      this.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  // --- what the test sets up ----------------------------------------------------------------------------------

  /** A kind the server knows (a CustomResourceDefinition); the kinds of src/cluster/resources.ts are known already. */
  defineKind(apiVersion: string, kind: string, namespaced: boolean): this {
    this.kinds.set(kindKey({ apiVersion, kind }), namespaced);
    return this;
  }

  /** Uninstalls a kind (a CustomResourceDefinition deleted): its objects go with it, the server no longer knows it. */
  forgetKind(apiVersion: string, kind: string): this {
    for (const [id, stored] of [...this.store])
      if (stored.object.apiVersion === apiVersion && stored.object.kind === kind) this.drop(id);
    this.kinds.delete(kindKey({ apiVersion, kind }));
    return this;
  }

  /** The next `times` (default 1) calls of `verb` on matching objects fail with `status`, as the API server says. */
  fail(fault: Fault): this {
    this.faults.push({ times: 1, ...fault });
    return this;
  }

  /**
   * A controller: called after every change of an object of `kind`, once the call that made it has returned. It
   * acts through the cluster (setStatus, seed, remove…) and must be idempotent: a write that changes nothing makes
   * no event, so a controller that reacts to its own change once more comes to rest.
   */
  react(kind: string, react: (event: ControllerEvent, cluster: FakeCluster) => void | Promise<void>): this {
    this.controllers.push({ kind, react });
    return this;
  }

  /** What a container printed (its previous instance: one that crashed before the current one started). */
  setLog(namespace: string, pod: string, container: string, text: string, previous = false): this {
    this.logs.set(`${namespace}/${pod}/${container}/${previous ? 'previous' : 'current'}`, text);
    return this;
  }

  /** Deleted objects of this kind (and name) stay, with a deletionTimestamp, for `ms` (Infinity: for good). */
  lingerOnDelete(kind: string, ms: number, name?: string): this {
    this.lingering.set(`${kind}/${name ?? '*'}`, ms);
    return this;
  }

  /** Puts an object in as someone else would create it (another tool, a controller): events, no fault, no call. */
  seed(object: KubeObject): KubeObject {
    const namespaced = this.namespacedOrThrow(object);
    const key = objectKey(this.keyOf(object), namespaced);
    const existing = this.store.get(key);
    const stored = this.stamp(clone(object), existing?.object);
    this.store.set(key, { object: stored, applied: existing?.applied });
    this.emit(existing ? 'MODIFIED' : 'ADDED', stored, existing?.object);
    return clone(stored);
  }

  /** Sets an object's status (as its controller would, through the status subresource). */
  setStatus(key: ObjectKey, status: Record<string, unknown>): KubeObject {
    return this.update(key, (object) => {
      (object as { status?: unknown }).status = clone(status);
    });
  }

  /** Changes a stored object as a controller would (events, a new resourceVersion if anything changed; no call). */
  update(key: ObjectKey, change: (object: KubeObject) => void): KubeObject {
    const stored = this.mustGet(key, 'update');
    const next = clone(stored.object);
    change(next);
    return this.commit(key, next, stored);
  }

  /** Forgets the changes so far, as etcd compaction does: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.compactedBefore = this.revision;
    this.history.length = 0;
  }

  /** Ends every open watch (of a kind), as a cut connection or the server's watch timeout would. */
  endWatches(kind?: string, error?: unknown): void {
    for (const w of [...this.watchers]) if (!kind || w.kind === kind) this.endWatch(w, error);
  }
  /** Open watches (of a kind). */
  watching(kind?: string): number {
    return [...this.watchers].filter((w) => !kind || w.kind === kind).length;
  }

  /** What is stored (a copy), for the test to look at without a call being counted. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const stored = this.store.get(
      objectKey({ apiVersion, kind, namespace, name }, this.namespaced({ apiVersion, kind }) ?? true),
    );
    return stored && clone(stored.object);
  }
  /** Every stored object of a kind (in a namespace), sorted by name. */
  objects(kind: string, namespace?: string): KubeObject[] {
    return [...this.store.values()]
      .map((s) => s.object)
      .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map(clone);
  }
  /** The calls of some verbs, as `verb kind/name`, for order assertions. */
  log(...verbs: Verb[]): string[] {
    return this.calls
      .filter((c) => verbs.length === 0 || verbs.includes(c.verb))
      .map((c) => `${c.verb} ${c.kind.toLowerCase()}${c.name ? `/${c.name}` : ''}`);
  }

  /** A ClusterApi over this store. With a signal, every call after the abort fails as the real client's does. */
  client(signal?: AbortSignal): ClusterApi {
    const guard = async <T>(call: Call, run: () => T | Promise<T>): Promise<T> => {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new AbortedError('aborted');
      this.calls.push(call);
      // Every call is asynchronous, as over the network.
      await Promise.resolve();
      this.injectFault(call);
      const result = await run();
      this.noteServed(call.verb, result);
      return result;
    };
    return {
      server: this.server,
      detached: () => this.client(),
      isNamespaced: (apiVersion, kind) =>
        guard({ verb: 'isNamespaced', kind }, () => this.namespaced({ apiVersion, kind })),
      read: (key) =>
        guard({ verb: 'read', kind: key.kind, namespace: key.namespace, name: key.name }, () => this.read(key)),
      list: (apiVersion, kind, namespace, labelSelector, fieldSelector) =>
        guard({ verb: 'list', kind, namespace }, () =>
          this.list({ apiVersion, kind }, namespace, labelSelector, fieldSelector),
        ),
      listMetadata: (apiVersion, kind, namespace, labelSelector, fieldSelector) =>
        guard({ verb: 'listMetadata', kind, namespace }, () =>
          this.listMetadata({ apiVersion, kind }, namespace, labelSelector, fieldSelector),
        ),
      apply: (object, options) =>
        guard(
          {
            verb: 'apply',
            ...this.callKey(object),
            ...(options?.dryRun ? { dryRun: true } : {}),
            ...(options?.as ? { as: options.as } : {}),
          },
          () => (options?.as ? this.applyAs(object, options.as) : this.apply(object, options?.dryRun ?? false)),
        ),
      create: (object, options) =>
        guard({ verb: 'create', ...this.callKey(object), ...(options?.dryRun ? { dryRun: true } : {}) }, () =>
          this.create(object, options?.dryRun ?? false),
        ),
      replace: (object) => guard({ verb: 'replace', ...this.callKey(object) }, () => this.replace(object)),
      patchMetadata: (key, metadata) =>
        guard({ verb: 'patchMetadata', kind: key.kind, namespace: key.namespace, name: key.name }, () =>
          this.patchMetadata(key, metadata),
        ),
      mergePatch: (key, patch, manager) =>
        guard({ verb: 'mergePatch', kind: key.kind, namespace: key.namespace, name: key.name }, () =>
          this.mergePatch(key, patch, manager),
        ),
      podLog: (namespace, pod, options) =>
        guard({ verb: 'podLog', kind: 'Pod', namespace, name: pod }, () => this.podLog(namespace, pod, options)),
      remove: (key, propagation, preconditions) =>
        guard({ verb: 'remove', kind: key.kind, namespace: key.namespace, name: key.name }, () =>
          this.remove(key, propagation ?? 'Foreground', preconditions),
        ),
      watch: (apiVersion, kind, namespace, options, onEvent, onEnd) =>
        guard({ verb: 'watch', kind, namespace }, () =>
          this.watch({ apiVersion, kind }, namespace, options, onEvent, onEnd),
        ),
    };
  }

  // --- the API ------------------------------------------------------------------------------------------------

  private read(key: ObjectKey): KubeObject | undefined {
    const namespaced = this.namespacedOrThrow(key);
    const stored = this.store.get(objectKey(key, namespaced));
    return stored && clone(stored.object);
  }

  private list(kind: Kind, namespace: string | undefined, labelSelector?: string, fieldSelector?: string): ListResult {
    const namespaced = this.namespacedOrThrow(kind);
    const items = [...this.store.values()]
      .map((s) => s.object)
      .filter((o) => o.apiVersion === kind.apiVersion && o.kind === kind.kind)
      .filter((o) => !namespaced || namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => matchesLabels(o, labelSelector) && matchesFields(o, fieldSelector))
      .sort((a, b) =>
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
      )
      .map(clone);
    return { items, resourceVersion: String(this.revision) };
  }

  /** As the API server answers a PartialObjectMetadataList: the same items, metadata only. */
  private listMetadata(
    kind: Kind,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string,
  ): MetadataListResult {
    const { items, resourceVersion } = this.list(kind, namespace, labelSelector, fieldSelector);
    const metadataOnly = items.map((o): ObjectMetadata => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: o.metadata,
    }));
    return { items: metadataOnly, resourceVersion };
  }

  private noteServed(verb: Verb, result: unknown): void {
    if (verb === 'listMetadata' || verb === 'watch' || verb === 'isNamespaced') return;
    const objects = verb === 'list' ? (result as ListResult).items : result ? [result as KubeObject] : [];
    for (const o of objects)
      if (o && typeof o === 'object' && 'metadata' in o)
        this.served.push({ verb, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
  }

  private create(object: KubeObject, dryRun: boolean): KubeObject {
    const key = this.keyOf(object);
    const namespaced = this.namespacedOrThrow(object);
    this.validate(object, namespaced, 'create');
    if (this.store.has(objectKey(key, namespaced))) {
      throw this.refused(
        409,
        'create',
        key,
        'AlreadyExists',
        `${key.kind.toLowerCase()}s "${key.name}" already exists`,
      );
    }
    const stored = this.touchManager(this.stamp(clone(object), undefined), 'Update');
    if (dryRun) return clone(stored);
    return this.commit(key, stored, undefined);
  }

  private apply(object: KubeObject, dryRun: boolean): KubeObject {
    const key = this.keyOf(object);
    const namespaced = this.namespacedOrThrow(object);
    this.validate(object, namespaced, 'apply');
    const config = clone(object);
    if (statusSubresource.has(object.kind)) delete (config as { status?: unknown }).status;
    const existing = this.store.get(objectKey(key, namespaced));
    if (!existing) {
      const created = ownReplicas(this.touchManager(this.stamp(clone(config), undefined), 'Apply'), config);
      if (dryRun) return clone(created);
      return this.commit(key, created, undefined, config);
    }
    const merged = applyMerge(existing.object, existing.applied, config) as KubeObject;
    for (const field of serverMetadata)
      if (existing.object.metadata[field] !== undefined) merged.metadata[field] = existing.object.metadata[field];
    // As the API server: a no-op apply changes nothing, not even our managedFields entry's time.
    if (!deepEqual(content(existing.object), content(merged))) this.touchManager(merged, 'Apply');
    if (!dryRun) ownReplicas(merged, config);
    if (dryRun) return clone(merged);
    return this.commit(key, merged, existing, config);
  }

  /**
   * An apply by another field manager of the same values (an ownership hand-over, engine/replicas.ts): the fields it
   * names become co-owned, so our manager dropping them later keeps their values, as the API server does.
   */
  private applyAs(object: KubeObject, manager: string): KubeObject {
    const stored = this.mustGet(this.keyOf(object), 'update');
    const spec = (object.spec ?? {}) as Record<string, unknown>;
    const live = stored.object.spec as Record<string, unknown>;
    const ourSpec = stored.applied?.spec as Record<string, unknown> | undefined;
    for (const field of Object.keys(spec)) {
      if (!deepEqual(live[field], spec[field]))
        throw this.refused(409, 'apply', this.keyOf(object), 'Conflict', `Apply failed with 1 conflict: ${field}`);
      if (ourSpec) delete ourSpec[field];
    }
    const managers = (stored.object.metadata.managedFields as { manager?: string }[] | undefined) ?? [];
    stored.object.metadata.managedFields = [...managers.filter((m) => m.manager !== manager), { manager }];
    return clone(stored.object);
  }

  private replace(object: KubeObject): KubeObject {
    const key = this.keyOf(object);
    const stored = this.mustGet(key, 'update');
    this.validate(object, this.namespacedOrThrow(object), 'update');
    const given = object.metadata.resourceVersion;
    if (given !== undefined && given !== stored.object.metadata.resourceVersion) {
      throw this.refused(
        409,
        'update',
        key,
        'Conflict',
        `Operation cannot be fulfilled on ${key.kind.toLowerCase()}s "${key.name}": the object has been modified; ` +
          'please apply your changes to the latest version and try again',
      );
    }
    const next = clone(object);
    for (const field of serverMetadata) {
      if (field === 'ownerReferences' || field === 'finalizers') continue;
      if (stored.object.metadata[field] !== undefined) next.metadata[field] = stored.object.metadata[field];
      else delete next.metadata[field];
    }
    if (statusSubresource.has(object.kind))
      (next as { status?: unknown }).status = clone((stored.object as { status?: unknown }).status);
    // As the API server: an update that changes the object renews the writer's managedFields entry and its time.
    if (!deepEqual(content(stored.object), content(next))) this.touchManager(next, 'Update');
    return this.commit(key, next, stored);
  }

  private patchMetadata(
    key: ObjectKey,
    patch: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
  ): KubeObject {
    const stored = this.mustGet(key, 'update');
    const next = clone(stored.object);
    for (const field of ['labels', 'annotations'] as const) {
      const changes = patch[field];
      if (!changes) continue;
      const current: Record<string, string> = { ...next.metadata[field] };
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete current[k];
        else current[k] = v;
      }
      next.metadata[field] = current;
    }
    return this.commit(key, next, stored);
  }

  private mergePatch(key: ObjectKey, patch: Record<string, unknown>, manager: string): KubeObject {
    const stored = this.mustGet(key, 'patch');
    const next = mergePatched(stored.object, patch) as KubeObject;
    if (!deepEqual(content(stored.object), content(next))) {
      const others = (next.metadata.managedFields as { manager?: string }[] | undefined) ?? [];
      next.metadata.managedFields = [
        ...others.filter((m) => m.manager !== manager),
        { manager, operation: 'Update', time: serverTime(this.clock.now()), fieldsType: 'FieldsV1' },
      ];
    }
    return this.commit(key, next, stored);
  }

  /** As the API server's pods/log: the last `tailLines` lines, at most `limitBytes`; 400 when there is none. */
  private podLog(namespace: string, pod: string, options: PodLogOptions): string {
    const key: ObjectKey = { apiVersion: 'v1', kind: 'Pod', namespace, name: pod };
    this.mustGet(key, 'get');
    const which = options.previous ? 'previous' : 'current';
    const text = this.logs.get(`${namespace}/${pod}/${options.container}/${which}`);
    if (text === undefined)
      throw this.refused(
        400,
        'get',
        key,
        'BadRequest',
        options.previous
          ? `previous terminated container "${options.container}" in pod "${pod}" not found`
          : `container "${options.container}" in pod "${pod}" is waiting to start: trying and failing to pull image`,
      );
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const tail = lines
      .slice(-options.tailLines)
      .map((l) => `${l}\n`)
      .join('');
    return Buffer.from(tail).subarray(0, options.limitBytes).toString('utf8');
  }

  private remove(
    key: ObjectKey,
    propagation: 'Foreground' | 'Background' | 'Orphan',
    preconditions?: DeletePreconditions,
  ): boolean {
    const namespaced = this.namespacedOrThrow(key);
    const id = objectKey(key, namespaced);
    const stored = this.store.get(id);
    if (!stored) return false;
    const object = stored.object;
    // As the API server: a precondition that does not hold is a 409 Conflict, and nothing is deleted.
    for (const field of ['uid', 'resourceVersion'] as const) {
      const wanted = preconditions?.[field];
      if (wanted !== undefined && wanted !== object.metadata[field])
        throw this.refused(
          409,
          'delete',
          key,
          'Conflict',
          `Precondition failed: ${field === 'uid' ? 'UID' : 'ResourceVersion'} in precondition: ${wanted}, ` +
            `${field === 'uid' ? 'UID' : 'ResourceVersion'} in object meta: ${String(object.metadata[field])}`,
        );
    }
    if (object.metadata.deletionTimestamp) return true; // already going: the API answers 200 with the object
    const linger = this.lingering.get(`${key.kind}/${key.name}`) ?? this.lingering.get(`${key.kind}/*`);
    const dependents = this.dependentsOf(object);
    if (propagation === 'Orphan') {
      for (const d of dependents) {
        const next = clone(d.object);
        next.metadata.ownerReferences = (next.metadata.ownerReferences as { uid: string }[]).filter(
          (r) => r.uid !== object.metadata.uid,
        );
        this.commit(this.keyOf(next), next, d);
      }
    } else {
      for (const d of dependents) this.remove(this.keyOf(d.object), propagation);
    }
    if (key.kind === 'Namespace') {
      for (const s of [...this.store.values()])
        if (s.object.metadata.namespace === key.name && s.object.kind !== 'Namespace')
          this.remove(this.keyOf(s.object), 'Background');
    }
    if (linger === undefined || linger <= 0) {
      this.drop(id);
      return true;
    }
    const going = clone(object);
    going.metadata.deletionTimestamp = new Date(this.clock.now()).toISOString();
    if (key.kind === 'Namespace') (going as { status?: unknown }).status = { phase: 'Terminating' };
    this.commit(key, going, stored);
    if (Number.isFinite(linger)) this.clock.setTimeout(() => this.drop(id), linger);
    return true;
  }

  private async watch(
    kind: Kind,
    namespace: string | undefined,
    options: { labelSelector?: string; fieldSelector?: string; resourceVersion?: string },
    onEvent: (event: WatchEvent) => void,
    onEnd: (error?: unknown) => void,
  ): Promise<{ stop(): void }> {
    const namespaced = this.namespacedOrThrow(kind);
    parseLabelSelector(options.labelSelector);
    const watcher: Watcher = {
      ...kind,
      namespace: namespaced ? namespace : undefined,
      ...options,
      onEvent,
      onEnd,
      open: true,
    };
    this.watchers.add(watcher);
    if (!options.resourceVersion) {
      // As the API server: a watch without a resourceVersion starts with ADDED for everything there is.
      const { items } = this.list(kind, namespace, options.labelSelector, options.fieldSelector);
      this.busy++;
      queueMicrotask(() => {
        this.busy--;
        for (const object of items) if (watcher.open) onEvent({ type: 'ADDED', object });
      });
    } else if (Number(options.resourceVersion) < this.compactedBefore) {
      this.endWatch(
        watcher,
        errorForStatus(
          410,
          {
            kind: 'Status',
            reason: 'Expired',
            message: `too old resource version: ${options.resourceVersion}`,
            code: 410,
          },
          `watch ${kind.kind.toLowerCase()}s`,
          this.server,
        ),
      );
    } else {
      // From a resourceVersion: every change after it, then the live ones.
      for (const change of this.history)
        if (change.revision > Number(options.resourceVersion)) this.deliver(watcher, change);
    }
    return { stop: () => this.endWatch(watcher) };
  }

  // --- helpers ------------------------------------------------------------------------------------------------

  private namespaced(kind: Kind): boolean | undefined {
    return this.kinds.get(kindKey(kind)) ?? wellKnownResource(kind.apiVersion, kind.kind)?.namespaced;
  }
  private namespacedOrThrow(kind: Kind): boolean {
    const namespaced = this.namespaced(kind);
    if (namespaced === undefined)
      throw errorForStatus(
        404,
        `the server does not know ${kind.kind} in ${kind.apiVersion}`,
        `find ${kind.kind}`,
        this.server,
      );
    return namespaced;
  }

  private keyOf(object: KubeObject): ObjectKey {
    return {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace,
      name: object.metadata.name,
    };
  }
  private callKey(object: KubeObject) {
    return { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
  }

  private mustGet(key: ObjectKey, verb: string): Stored {
    const stored = this.store.get(objectKey(key, this.namespacedOrThrow(key)));
    if (!stored) throw this.refused(404, verb, key, 'NotFound', `${key.kind.toLowerCase()}s "${key.name}" not found`);
    return stored;
  }

  private validate(object: KubeObject, namespaced: boolean, verb: string): void {
    const key = this.keyOf(object);
    const name = object.metadata?.name;
    if (!name || name.length > 253 || !dns1123Subdomain.test(name)) {
      throw this.refused(
        422,
        verb,
        key,
        'Invalid',
        `${object.kind} "${name ?? ''}" is invalid: metadata.name: Invalid value: "${name ?? ''}": ` +
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
      );
    }
    if (!namespaced) return;
    if (!object.metadata.namespace)
      throw this.refused(
        422,
        verb,
        key,
        'Invalid',
        `${object.kind} "${name}" is invalid: metadata.namespace: Required value`,
      );
    const ns = this.store.get(
      objectKey({ apiVersion: 'v1', kind: 'Namespace', name: object.metadata.namespace }, false),
    );
    if (!ns) throw this.refused(404, verb, key, 'NotFound', `namespaces "${object.metadata.namespace}" not found`);
    if (ns.object.metadata.deletionTimestamp && !this.store.has(objectKey(key, true))) {
      throw this.refused(
        403,
        verb,
        key,
        'Forbidden',
        `unable to create new content in namespace ${object.metadata.namespace} because it is being terminated`,
      );
    }
  }

  private refused(status: number, verb: string, key: ObjectKey, reason: string, message: string): Error {
    const what =
      `${verb} ${key.kind.toLowerCase()}/${key.name}` + `${key.namespace ? ` in namespace ${key.namespace}` : ''}`;
    return errorForStatus(status, { kind: 'Status', reason, message, code: status }, what, this.server);
  }

  private injectFault(call: Call): void {
    const index = this.faults.findIndex(
      (f) =>
        f.verb === call.verb &&
        (!f.kind || f.kind === call.kind) &&
        (!f.name || f.name === call.name) &&
        (!f.namespace || f.namespace === call.namespace),
    );
    if (index < 0) return;
    const fault = this.faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    // Worded as the real client words it (client.ts), so messages in tests read as they will for users.
    const verb =
      { replace: 'update', patchMetadata: 'update', remove: 'delete', isNamespaced: 'discover' }[call.verb as string] ??
      call.verb;
    const object = call.name ? `${call.kind.toLowerCase()}/${call.name}` : `${call.kind.toLowerCase()}s`;
    const what = `${verb} ${object}${call.namespace ? ` in namespace ${call.namespace}` : ''}`;
    throw errorForStatus(
      fault.status,
      { kind: 'Status', message: fault.message ?? 'injected by the test', code: fault.status },
      what,
      this.server,
    );
  }

  /** Our field manager's managedFields entry, with the time of this write. */
  private touchManager(object: KubeObject, operation: 'Apply' | 'Update'): KubeObject {
    const others = (
      (object.metadata.managedFields as { manager?: string; operation?: string }[] | undefined) ?? []
    ).filter((m) => !(m.manager === ourManager && m.operation === operation));
    const entry = {
      manager: ourManager,
      operation,
      apiVersion: object.apiVersion,
      time: serverTime(this.clock.now()),
      fieldsType: 'FieldsV1',
    };
    object.metadata.managedFields = [...others, entry];
    return object;
  }

  /** Server-set metadata of a new object (or one seeded over an old one). */
  private stamp(object: KubeObject, previous: KubeObject | undefined): KubeObject {
    object.metadata.uid = previous?.metadata.uid ?? object.metadata.uid ?? randomUUID();
    object.metadata.creationTimestamp =
      previous?.metadata.creationTimestamp ?? new Date(this.clock.now()).toISOString();
    if (!noGeneration.has(object.kind))
      object.metadata.generation = (previous?.metadata.generation as number | undefined) ?? 1;
    object.metadata.resourceVersion = String(++this.revision);
    return object;
  }

  /** Stores a changed object: a new resourceVersion only when something changed, generation on a spec change. */
  private commit(key: ObjectKey, next: KubeObject, existing: Stored | undefined, applied?: KubeObject): KubeObject {
    const id = objectKey(key, this.namespacedOrThrow(key));
    if (existing) {
      const { resourceVersion: _rv, ...before } = existing.object.metadata;
      const { resourceVersion: _nrv, ...after } = next.metadata;
      const same = deepEqual({ ...existing.object, metadata: before }, { ...next, metadata: after });
      if (same) {
        if (applied) existing.applied = applied;
        return clone(existing.object);
      }
      const spec = (o: KubeObject) => ({ ...o, metadata: undefined, status: undefined });
      if (!noGeneration.has(next.kind) && !deepEqual(spec(existing.object), spec(next))) {
        next.metadata.generation = ((existing.object.metadata.generation as number | undefined) ?? 0) + 1;
      }
      next.metadata.resourceVersion = String(++this.revision);
    }
    this.store.set(id, { object: next, applied: applied ?? existing?.applied });
    this.emit(existing ? 'MODIFIED' : 'ADDED', next, existing?.object);
    return clone(next);
  }

  private drop(id: string): void {
    const stored = this.store.get(id);
    if (!stored) return;
    this.store.delete(id);
    this.revision++;
    const gone = clone(stored.object);
    gone.metadata.resourceVersion = String(this.revision);
    this.emit('DELETED', gone, stored.object);
  }

  private dependentsOf(owner: KubeObject): Stored[] {
    const uid = owner.metadata.uid;
    return [...this.store.values()].filter((s) =>
      (s.object.metadata.ownerReferences as { uid?: string }[] | undefined)?.some((r) => r.uid === uid),
    );
  }

  private emit(type: ControllerEvent['type'], object: KubeObject, previous: KubeObject | undefined): void {
    const change: Change = {
      revision: Number(object.metadata.resourceVersion),
      type,
      object: clone(object),
      previous: previous && clone(previous),
    };
    this.history.push(change);
    for (const w of this.watchers) this.deliver(w, change);
    for (const controller of this.controllers) {
      if (controller.kind !== object.kind) continue;
      const copy = clone(object);
      // After the call that made the change has returned, as a controller sees it through its informer. Its errors
      // surface as unhandled rejections, which fail the test run.
      this.busy++;
      setImmediate(() => {
        void Promise.resolve()
          .then(() => controller.react({ type, object: copy }, this))
          .finally(() => this.busy--);
      });
    }
  }

  /** One change as a watcher sees it: an object that leaves its selector is DELETED, one that enters it ADDED. */
  private deliver(w: Watcher, change: Change): void {
    const { type, object, previous } = change;
    if (w.apiVersion !== object.apiVersion || w.kind !== object.kind) return;
    if (w.namespace !== undefined && object.metadata.namespace !== w.namespace) return;
    const matches = (o: KubeObject | undefined) =>
      o !== undefined && matchesLabels(o, w.labelSelector) && matchesFields(o, w.fieldSelector);
    const now = type !== 'DELETED' && matches(object);
    const before = type === 'DELETED' ? matches(object) : matches(previous);
    const event: WatchEvent['type'] | undefined =
      now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    if (!event) return;
    const copy = clone(object);
    this.busy++;
    queueMicrotask(() => {
      this.busy--;
      if (w.open) w.onEvent({ type: event, object: copy });
    });
  }

  private endWatch(watcher: Watcher, error?: unknown): void {
    if (!watcher.open) return;
    watcher.open = false;
    this.watchers.delete(watcher);
    // As the real client: stop() ends the stream, and onEnd is called (without an error).
    queueMicrotask(() => watcher.onEnd(error));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A Deployment controller, scripted by the test

export interface RolloutBehaviour {
  /** What the new Pods do: become ready, stay Pending, or wait for a reason that does not heal (ImagePullBackOff). */
  pods: 'ready' | 'pending' | { waiting: string; message?: string; restartCount?: number };
  /** What the controller writes first: the new ReplicaSet and its Pods, or the Deployment's status (default). */
  order?: 'pods-first' | 'status-first';
  /** The controller reports ProgressDeadlineExceeded on the Deployment instead of progress. */
  deadlineExceeded?: boolean;
}

const templateHash = (template: unknown) =>
  [...JSON.stringify(sortKeys(template))]
    .reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7)
    .toString(36)
    .slice(0, 8);

/**
 * What kube-controller-manager does for a Deployment, in two steps the test can order: a ReplicaSet per pod template
 * (pod-template-hash label, revision annotation, owner reference) with its Pods, and the Deployment's status
 * (observedGeneration, replicas, updated and available counts, the revision annotation). Old ReplicaSets lose their
 * Pods. Idempotent: a Deployment already observed at its generation is left alone.
 */
export function deploymentController(
  fake: FakeCluster,
  behaviour: (deployment: KubeObject) => RolloutBehaviour,
): FakeCluster {
  const revisions = new Map<string, string[]>();
  return fake.react('Deployment', async (event, cluster) => {
    if (event.type === 'DELETED') return;
    const deployment = event.object as KubeObject & {
      spec?: { replicas?: number; template?: { metadata?: { labels?: Record<string, string> } } };
      status?: { observedGeneration?: number };
    };
    if (deployment.metadata.deletionTimestamp) return;
    if (deployment.status?.observedGeneration === deployment.metadata.generation) return;
    const { name, namespace, uid } = deployment.metadata;
    const plan = behaviour(deployment);
    const replicas = deployment.spec?.replicas ?? 1;
    const hash = templateHash(deployment.spec?.template);
    const seen = revisions.get(`${namespace}/${name}`) ?? [];
    if (!seen.includes(hash)) seen.push(hash);
    revisions.set(`${namespace}/${name}`, seen);
    const revision = String(seen.indexOf(hash) + 1);
    const labels = { ...deployment.spec?.template?.metadata?.labels, 'pod-template-hash': hash };
    const template = deployment.spec?.template;
    const ready = plan.pods === 'ready';
    const key = { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name };

    const writePods = async () => {
      const rsName = `${name}-${hash}`;
      const rs = cluster.seed({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace,
          labels,
          annotations: { 'deployment.kubernetes.io/revision': revision },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid }],
        },
        // The Deployment's Pod template with the hash label: how the wait tells the current ReplicaSet.
        spec: { replicas, template: { ...template, metadata: { ...template?.metadata, labels } } },
        status: { replicas, readyReplicas: ready ? replicas : 0, availableReplicas: ready ? replicas : 0 },
      });
      // The old ReplicaSets' Pods go.
      for (const old of cluster.objects('ReplicaSet', namespace)) {
        const owned = (old.metadata.ownerReferences as { uid?: string }[] | undefined)?.some((r) => r.uid === uid);
        if (!owned || old.metadata.name === rsName) continue;
        for (const pod of cluster.objects('Pod', namespace)) {
          if (
            (pod.metadata.ownerReferences as { uid?: string }[] | undefined)?.some((r) => r.uid === old.metadata.uid)
          ) {
            await cluster
              .client()
              .remove({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod.metadata.name }, 'Background');
          }
        }
      }
      for (let i = 0; i < replicas; i++) {
        const waiting = typeof plan.pods === 'object' ? plan.pods : undefined;
        // The kubelet's Warning event comes before the Pod's status says why it waits.
        if (waiting) {
          cluster.seed({
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: `${rsName}-${i}.${waiting.waiting.toLowerCase()}`, namespace },
            involvedObject: { kind: 'Pod', name: `${rsName}-${i}`, namespace },
            type: 'Warning',
            reason: 'Failed',
            message: `Error: ${waiting.waiting}`,
          });
        }
        cluster.seed({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rsName}-${i}`,
            namespace,
            labels,
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rs.metadata.uid }],
          },
          status: {
            phase: ready ? 'Running' : 'Pending',
            ...(waiting
              ? {
                  containerStatuses: [
                    {
                      name,
                      restartCount: waiting.restartCount ?? 0,
                      state: { waiting: { reason: waiting.waiting, message: waiting.message ?? '' } },
                    },
                  ],
                }
              : ready
                ? { containerStatuses: [{ name, ready: true, restartCount: 0, state: { running: {} } }] }
                : {}),
          },
        });
      }
    };
    const writeStatus = () => {
      cluster.update(key, (d) => {
        d.metadata.annotations = { ...d.metadata.annotations, 'deployment.kubernetes.io/revision': revision };
        const progressing = plan.deadlineExceeded
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: `ReplicaSet "${name}-${hash}" has timed out progressing.`,
            }
          : {
              type: 'Progressing',
              status: 'True',
              reason: ready ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
              message: `ReplicaSet "${name}-${hash}" is progressing.`,
            };
        (d as { status?: unknown }).status = {
          observedGeneration: d.metadata.generation,
          replicas,
          updatedReplicas: replicas,
          readyReplicas: ready ? replicas : 0,
          availableReplicas: ready ? replicas : 0,
          ...(ready ? {} : { unavailableReplicas: replicas }),
          conditions: [progressing],
        };
      });
    };
    if ((plan.order ?? 'status-first') === 'pods-first') {
      await writePods();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (cluster.get('apps/v1', 'Deployment', namespace, name)) writeStatus();
    } else {
      writeStatus();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (cluster.get('apps/v1', 'Deployment', namespace, name)) await writePods();
    }
  });
}
