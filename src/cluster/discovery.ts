// Where a kind lives on the API server: the well-known kinds from our table, any other by asking the server for its
// group version's resources (once per group version and connection).
import type { ObjectKey } from './api.js';
import { errorForStatus } from './errors.js';
import type { Requests } from './requests.js';
import { resourcePath, type ResourceInfo, wellKnownResource } from './resources.js';

export interface Discovery {
  resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined>;
  /** The path of an object (or, without a name, of its collection); a kind the server does not know is a 404. */
  pathFor(key: Omit<ObjectKey, 'name'> & { name?: string }): Promise<string>;
}

export function createDiscovery(server: string, json: Requests['json']): Discovery {
  const discovered = new Map<string, Promise<Map<string, ResourceInfo>>>();

  function groupResources(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let pending = discovered.get(apiVersion);
    if (!pending) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      pending = json<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
        { method: 'GET', path, what: `discover ${apiVersion}`, idempotent: true },
        true,
      ).then(
        (list) =>
          new Map(
            (list?.resources ?? [])
              .filter((r) => !r.name.includes('/'))
              .map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]),
          ),
      );
      discovered.set(apiVersion, pending);
    }
    return pending;
  }

  async function resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    return wellKnownResource(apiVersion, kind) ?? (await groupResources(apiVersion)).get(kind);
  }

  async function pathFor(key: Omit<ObjectKey, 'name'> & { name?: string }): Promise<string> {
    const info = await resource(key.apiVersion, key.kind);
    if (!info)
      throw errorForStatus(
        404,
        `the server does not know ${key.kind} in ${key.apiVersion}`,
        `find ${key.kind}`,
        server,
      );
    return resourcePath(key.apiVersion, info, info.namespaced ? key.namespace : undefined, key.name);
  }

  return { resource, pathFor };
}
