// What may be written, judged on what is there: a kind the server does not know, or knows as cluster-scoped, stops the
// put; so does an object with a release object's name that is not ours (never touched), and in create mode anything
// that already exists (like `kubectl create -f`). Pure: the planner (changes.ts) gives the verdict, the executor
// throws it before the first write.
import { ApiRejectedError } from '../errors.js';
import { isOurs, labelKeys, managedBy } from '../kube/labels.js';
import { objectRef, type KubeObject } from '../kube/object.js';

/** Why nothing of a release may be written. */
export type Refusal =
  | { why: 'unknown kind' | 'cluster-scoped'; object: KubeObject }
  | { why: 'foreign'; refs: string[]; namespace: string; app: string }
  | { why: 'exists'; refs: string[]; namespace: string };

/** `apiVersion/kind`: how the kinds the server knows are keyed. */
export const kindOf = (o: Pick<KubeObject, 'apiVersion' | 'kind'>) => `${o.apiVersion}/${o.kind}`;

/** The first kind of `objects` the server cannot hold in a namespace; `kinds` as state.ts reads them. */
export function kindRefusal(
  objects: KubeObject[],
  kinds: ReadonlyMap<string, boolean | undefined>,
): Refusal | undefined {
  for (const object of objects) {
    const namespaced = kinds.get(kindOf(object));
    if (namespaced === undefined) return { why: 'unknown kind', object };
    if (!namespaced) return { why: 'cluster-scoped', object };
  }
  return undefined;
}

/**
 * Foreign objects among those there now (`live`, by ref), then, in create mode, any that exists at all. A rollback
 * judges as apply: it goes back over objects that exist by design.
 */
export function ownershipRefusal(
  objects: KubeObject[],
  live: ReadonlyMap<string, KubeObject>,
  app: string,
  mode: 'apply' | 'create',
): Refusal | undefined {
  const namespace = objects[0]?.metadata.namespace ?? '';
  const existing = objects.map(objectRef).filter((ref) => live.has(ref));
  const foreign = existing.filter((ref) => !isOurs(live.get(ref)!, app));
  if (foreign.length) return { why: 'foreign', refs: foreign, namespace, app };
  if (mode === 'create' && existing.length) return { why: 'exists', refs: existing, namespace };
  return undefined;
}

/** The error a refusal stops the put with (exit 4). */
export function refusalError(refusal: Refusal): ApiRejectedError {
  switch (refusal.why) {
    case 'unknown kind': {
      const { object } = refusal;
      return new ApiRejectedError(
        `params.manifests: the cluster does not know kind ${object.kind} in ${object.apiVersion} ` +
          `(${objectRef(object)}); is its CustomResourceDefinition installed?`,
        404,
      );
    }
    case 'cluster-scoped':
      return new ApiRejectedError(
        `params.manifests: ${objectRef(refusal.object)} is cluster-scoped; a release holds only namespaced objects`,
        422,
      );
    case 'foreign': {
      const { refs, namespace, app } = refusal;
      const one = refs.length === 1;
      return new ApiRejectedError(
        `${refs.join(', ')} already exist${one ? 's' : ''} in namespace ${namespace} ` +
          `and ${one ? 'is' : 'are'} not managed by this release ` +
          `(no ${labelKeys.managedBy}=${managedBy} and ${labelKeys.instance}=${app} labels): left untouched; ` +
          `rename the app or remove ${one ? 'it' : 'them'} first`,
        409,
      );
    }
    case 'exists':
      return new ApiRejectedError(
        `mode create: ${refusal.refs.join(', ')} already exist${refusal.refs.length === 1 ? 's' : ''} ` +
          `in namespace ${refusal.namespace}; nothing was created ` +
          '(use mode: apply to update, or delete the release first)',
        409,
      );
  }
}
