// The bench's copy of check as it was before issue 28, for measuring it beside today's in the same run: the release
// records come from a whole list (every revision's data), the rest of check unchanged. Nothing in src/ can reach it.
import type { ClusterApi } from '../../src/cluster/api.js';

/** The cluster with listMetadata answered from a full list, as listRecords did before. */
export function fullList(cluster: ClusterApi): ClusterApi {
  return {
    ...cluster,
    detached: () => fullList(cluster.detached()),
    listMetadata: async (apiVersion, kind, namespace, labelSelector, fieldSelector) => {
      const list = await cluster.list(apiVersion, kind, namespace, labelSelector, fieldSelector);
      return { items: list.items, resourceVersion: list.resourceVersion };
    },
  };
}
