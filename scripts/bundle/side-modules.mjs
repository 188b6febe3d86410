// The one table of side modules, read by scripts/build.mjs (what to build, where each stand-in goes),
// scripts/bundle/check-bundle.mjs (which packages must stay out of the script bundles) and the tests. A side module
// holds packages only a rare path runs: assets/lib/NAME.cjs is built from scripts/bundle/side/NAME.mjs, and
// scripts/bundle/side/NAME.lazy.mjs stands in for its packages in the script bundles, requiring it on first use
// (scripts/bundle/side-module.mjs). Adding a side module: one row here, plus those two files.

/**
 * One row per side module.
 * - `packages`: the imports its stand-in replaces in the script bundles.
 * - `importers`: when set, the stand-in replaces them only where a file matching this pattern imports them.
 * - `scripts`: when set, only in these scripts' bundles (elsewhere the package stays bundled).
 * - `bundled`: the node_modules packages that must not enter those bundles (the packages and what they pull in).
 * - `why`: how the build names them when one enters a bundle.
 */
export const sideModuleTable = [
  {
    name: 'proxy-agents',
    packages: ['hpagent', 'socks-proxy-agent', 'socks'],
    bundled: ['hpagent', 'socks', 'socks-proxy-agent', 'agent-base', 'ip-address', 'smart-buffer', 'debug'],
    why: 'a proxy package', // for a proxy from the environment or a kubeconfig's proxy-url
  },
  {
    name: 'jsonpath-plus',
    packages: ['jsonpath-plus'],
    importers: clientNode('(azure|gcp)_auth'),
    bundled: ['jsonpath-plus', 'jsep'],
    why: 'jsonpath-plus', // for two auth providers' token helpers
  },
  {
    name: 'openid-client',
    packages: ['openid-client'],
    importers: clientNode('oidc_auth'),
    bundled: ['openid-client', 'oauth4webapi', 'jose'],
    why: 'openid-client', // for the oidc auth provider
  },
  {
    name: 'js-yaml',
    packages: ['js-yaml'],
    scripts: ['check'],
    bundled: ['js-yaml'],
    why: 'js-yaml', // check reads YAML only for a source.kubeconfig (in and out write YAML at every run)
  },
];

/** The side modules' names: assets/lib/NAME.cjs. */
export const sideModules = sideModuleTable.map((m) => m.name);

/**
 * The other stand-ins in scripts/bundle/ (no side module behind them): shims that require a built-in module on first
 * use (`lazyBuiltin`: only the shim may load it), and client-node's generated API classes, swapped for a stub that
 * throws (KubeConfig needs them only in makeApiClient(), which the scripts never call).
 */
export const otherStandIns = [
  {
    packages: ['./gen/index.js', './middleware.js'],
    stub: 'client-node-gen-stub.mjs',
    importers: clientNode('config'),
  },
  { packages: ['child_process', 'node:child_process'], stub: 'child-process-lazy.mjs', lazyBuiltin: true },
  { packages: ['readline', 'node:readline'], stub: 'readline-lazy.mjs', lazyBuiltin: true },
];

/** Every stand-in, with its file under scripts/bundle/: the side modules' first. */
export const standIns = [
  ...sideModuleTable.map(({ packages, importers, scripts, name }) => ({
    packages,
    importers,
    scripts,
    stub: `side/${name}.lazy.mjs`,
  })),
  ...otherStandIns,
];

/** Matches an importer path inside client-node's dist/ (FILE: a regex source for the file name without .js). */
function clientNode(file) {
  return new RegExp(`node_modules/@kubernetes/client-node/dist/${file}\\.js$`);
}
