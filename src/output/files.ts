// What `in` writes into its destination dir. Pure rendering; the command writes the files.
import type { ReleaseRecord } from '../engine/records.js';
import { parseImageReference } from '../manifests/image.js';
import { toYaml } from '../manifests/yaml.js';
import type { Version } from '../request/schemas.js';
import type { KubeObject } from '../kube/object.js';

export const redactedValue = '<redacted>';

/** Secrets keep their keys, never their values: `data` becomes `stringData` with a placeholder kubectl accepts. */
export function redactSecrets(objects: KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    if (object.kind !== 'Secret' || object.apiVersion !== 'v1') return object;
    const { data, stringData, ...rest } = object as KubeObject & {
      data?: Record<string, string>;
      stringData?: Record<string, string>;
    };
    const keys = [...new Set([...Object.keys(data ?? {}), ...Object.keys(stringData ?? {})])].sort();
    if (keys.length === 0) return rest as KubeObject;
    return { ...rest, stringData: Object.fromEntries(keys.map((k) => [k, redactedValue])) } as KubeObject;
  });
}

/** Without metadata.namespace, so the file deploys anywhere: `kubectl apply -n NAMESPACE -f manifests.yml`. */
export function portable(objects: KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    const { namespace: _namespace, ...metadata } = object.metadata;
    return { ...object, metadata };
  });
}

export function releaseFiles(record: ReleaseRecord): Record<string, string> {
  const image = record.image;
  return {
    'manifests.yml': toYaml(portable(redactSecrets(record.objects))),
    repository: image.repository,
    tag: image.tag ?? '',
    digest: image.digest ?? '',
    image: image.ref,
    namespace: record.namespace,
    app: record.app,
    revision: String(record.revision),
    url: record.url ?? '',
  };
}

/**
 * For a version whose release is gone: what the version itself carries (its image in the registry-image layout when
 * it names one, so that a put with `image: <this dir>` deploys that digest) and `gone`, the reason in one line.
 */
export function goneFiles(version: Version, reason: string): Record<string, string> {
  const image = parseImageReference(version.image);
  return {
    ...(image
      ? { repository: image.repository, tag: image.tag ?? '', digest: image.digest ?? '', image: version.image }
      : {}),
    namespace: version.namespace,
    app: version.app,
    revision: version.revision,
    gone: reason + '\n',
  };
}
