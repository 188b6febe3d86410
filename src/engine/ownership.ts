// Before we write anything: objects with a release object's name that are not ours are never touched, and in create
// mode anything that already exists stops the put (like `kubectl create -f`).
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import { isOurs, labelKeys, managedBy } from '../kube/labels.js';
import { objectRef, type KubeObject } from '../kube/object.js';
import { mapBounded } from './bounded.js';

/** Reads every object of the release; returns those that exist (by ref). Throws on foreign objects. */
export async function checkOwnership(
  cluster: ClusterApi,
  objects: KubeObject[],
  app: string,
  mode: 'apply' | 'create',
): Promise<Map<string, KubeObject>> {
  const found = await mapBounded(objects, 8, (o) =>
    cluster.read({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }),
  );
  const existing = new Map<string, KubeObject>();
  const foreign: string[] = [];
  objects.forEach((o, i) => {
    const current = found[i];
    if (!current) return;
    existing.set(objectRef(o), current);
    if (!isOurs(current, app)) foreign.push(objectRef(o));
  });
  const namespace = objects[0]?.metadata.namespace ?? '';
  if (foreign.length) {
    throw new ApiRejectedError(
      `${foreign.join(', ')} already exist${foreign.length === 1 ? 's' : ''} in namespace ${namespace} ` +
        `and ${foreign.length === 1 ? 'is' : 'are'} not managed by this release ` +
        `(no ${labelKeys.managedBy}=${managedBy} and ${labelKeys.instance}=${app} labels): left untouched; ` +
        `rename the app or remove ${foreign.length === 1 ? 'it' : 'them'} first`,
      409,
    );
  }
  if (mode === 'create' && existing.size) {
    throw new ApiRejectedError(
      `mode create: ${[...existing.keys()].join(', ')} already exist${existing.size === 1 ? 's' : ''} ` +
        `in namespace ${namespace}; nothing was created (use mode: apply to update, or delete the release first)`,
      409,
    );
  }
  return existing;
}
