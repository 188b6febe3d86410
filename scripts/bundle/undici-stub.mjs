// Stands in for the `undici` package in the bundles. @kubernetes/client-node imports it for its fetch-based API
// classes, which the scripts do not use (src/cluster/transport.ts talks node:https with the library's KubeConfig);
// bundling it cost 720 KiB and about 70 ms of start-up per script. Any use fails loudly rather than silently.
const unused = (name) => {
  throw new Error(`undici.${name} is not bundled in kubernetes-deploy-resource (see scripts/bundle/undici-stub.mjs)`);
};
export function fetch() {
  return unused('fetch');
}
export class Agent {
  constructor() {
    unused('Agent');
  }
}
export class ProxyAgent {
  constructor() {
    unused('ProxyAgent');
  }
}
