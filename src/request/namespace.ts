// Where a release goes, as a request says it: the one home of the namespace above its rule (kube/names.ts).
// source.namespace, params.namespace, a file of the sources dir (params.namespace_file) or, with in_cluster and no
// source.namespace, the Pod's own namespace; commands/context.ts's releaseNamespace resolves each of these (reading the
// file or the ServiceAccount mount) before any cluster call. A name, however it came, passes the one rule with the
// one message: here (checkNamespaceName) or in the schemas (isNamespaceName, notANamespaceName).
import { BadRequestError } from '../errors.js';
import { isNamespaceName, notANamespaceName } from '../kube/names.js';
import { quote } from './issues.js';

/** The namespace when a request names none and the source is not in_cluster (as kubectl's). */
export const defaultNamespace = 'default';

/** Where a source's releases are: named, or the Pod's own namespace (in_cluster), read from the mount later. */
export type SourceNamespace = { name: string } | { podNamespace: true };

/** Where a put's release goes: as its source says, a name of its params, or a file of the sources dir. */
export type NamespaceChoice = SourceNamespace | { file: string };

/** source.namespace when given; else the Pod's namespace with in_cluster (as kubectl in a Pod), else `default`. */
export function namespaceOfSource(source: { namespace?: string; in_cluster?: boolean }): SourceNamespace {
  if (source.namespace !== undefined) return { name: source.namespace };
  return source.in_cluster ? { podNamespace: true } : { name: defaultNamespace };
}

/**
 * A namespace name read or built after the schemas (params.namespace expanded, params.namespace_file, the Pod's
 * mount), or exit 2 naming `field`; `how` says where the value came from.
 */
export function checkNamespaceName(name: string, field: string, how = ''): string {
  if (!isNamespaceName(name)) throw new BadRequestError(`${field}: ${quote(name)}${how} is ${notANamespaceName}`);
  return name;
}
