// What the rest of the code may ask of a cluster. Plain JSON in and out; the one implementation (client.ts) is the
// only runtime user of @kubernetes/client-node, so tests can hand the commands a fake.
import type { KubeObject, ObjectKey } from '../kube/object.js';

export type { ObjectKey };

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

/**
 * An object's metadata alone, as the API server's PartialObjectMetadata has it: no spec, no data. Not a KubeObject,
 * so code that needs an object's content (a release record's data) cannot be handed one by mistake.
 */
export interface ObjectMetadata {
  /** The listed kind's, so that keyOf() names the object for a read. */
  apiVersion: string;
  kind: string;
  metadata: KubeObject['metadata'];
}

export interface MetadataListResult {
  items: ObjectMetadata[];
  resourceVersion: string;
}

export interface PodLogOptions {
  container: string;
  /** The previous instance of a restarted container (the one that crashed). */
  previous?: boolean;
  tailLines: number;
  limitBytes: number;
}

export interface ClusterApi {
  /** The API server URL, for messages. */
  readonly server: string;
  /** The same client, not bound to the abort signal: for the clean-up an aborted put still does (lock, record). */
  detached(): ClusterApi;
  /** Whether a kind is namespaced; undefined when the server does not know the kind. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  read(key: ObjectKey): Promise<KubeObject | undefined>;
  list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string,
  ): Promise<ListResult>;
  /**
   * The same list as metadata only (`PartialObjectMetadataList`, as client-go's metadata client and informers ask for
   * it; `kubectl get -o name` does not, it receives whole objects): its size does not depend on the objects' content.
   * Needs only the `list` verb.
   */
  listMetadata(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string,
  ): Promise<MetadataListResult>;
  /**
   * Server-side apply with our field manager (force: ownership is checked by the engine before); `as` another manager,
   * without force, for an ownership hand-over (engine/replicas.ts).
   */
  apply(object: KubeObject, options?: { dryRun?: boolean; as?: string }): Promise<KubeObject>;
  create(object: KubeObject, options?: { dryRun?: boolean }): Promise<KubeObject>;
  /** PUT: replaces the object; its metadata.resourceVersion makes it conditional (409 when someone was first). */
  replace(object: KubeObject): Promise<KubeObject>;
  /** Merge-patches metadata.labels/annotations (release records change status this way). */
  patchMetadata(
    key: ObjectKey,
    metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
  ): Promise<KubeObject>;
  /**
   * Merge-patches an object (RFC 7386) as another field manager than the apply's, so that the next apply neither
   * owns nor removes what the patch set (a restart's Pod-template annotation, as `kubectl rollout restart` does).
   */
  mergePatch(key: ObjectKey, patch: Record<string, unknown>, fieldManager: string): Promise<KubeObject>;
  /**
   * The last lines of a container's log (pods/log: the API server asks the node's kubelet). One attempt, no retry:
   * a log is a courtesy of a failure message, never worth delaying it. Throws as every call does (403, 5xx, network).
   */
  podLog(namespace: string, pod: string, options: PodLogOptions): Promise<string>;
  /**
   * Deletes with the given propagation; false when it was already gone (404). With preconditions, only the object we
   * read (its uid) or only that version of it (resourceVersion): another one is refused with 409, not deleted.
   */
  remove(
    key: ObjectKey,
    propagation?: 'Foreground' | 'Background' | 'Orphan',
    preconditions?: DeletePreconditions,
  ): Promise<boolean>;
  /** Starts a watch; events arrive until stop() or the connection ends (onEnd, with the error if any). */
  watch(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    options: { labelSelector?: string; fieldSelector?: string; resourceVersion?: string },
    onEvent: (event: WatchEvent) => void,
    onEnd: (error?: unknown) => void,
  ): Promise<{ stop(): void }>;
}
