// Stands in for @kubernetes/client-node's generated code (dist/gen/: the typed API classes and ~1,000 model
// classes) where the library's config.js imports it. KubeConfig needs it only in makeApiClient(), which the scripts
// never call: src/cluster/transport.ts sends plain JSON over node:https. Bundling it cost ~300 KiB per script.
// Any use fails loudly rather than silently.
const unused = (name) => {
  throw new Error(`@kubernetes/client-node ${name} is not bundled in kubernetes-deploy-resource (see scripts/bundle/)`);
};
export function createConfiguration() {
  return unused('createConfiguration');
}
export class ServerConfiguration {
  constructor() {
    unused('ServerConfiguration');
  }
}
// config.js's './middleware.js' (a User-Agent middleware for the generated client, built on gen/rxjsStub.js).
export function setHeaderMiddleware() {
  return unused('setHeaderMiddleware');
}
