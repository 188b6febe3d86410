// The object shape every layer shares: plain JSON as we render, apply and record it (no client types).
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** What names one object on the API server. */
export interface ObjectKey {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function keyOf(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): ObjectKey {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  };
}

/** `deployment/web`, the way kubectl names objects in its output. */
export function objectRef(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${object.kind.toLowerCase()}/${object.metadata.name}`;
}
