// Bundles the three entrypoints into assets/lib/{check,in,out}.cjs (no node_modules needed beside them), each one
// started by a copy of the launcher scripts/bundle/launcher.cjs at assets/{check,in,out} (which uses the V8 code cache
// the image fills, see there); and the packages only a rare path runs into side modules under assets/lib/, which a
// script requires on first use.
// Each bundle holds only what its script runs; scripts/bundle/check-bundle.mjs fails the build when the client
// library's unused parts or a side module's packages come back (see bench/RESULTS.md for what they cost at start-up).
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleProblems, sideModules } from './bundle/check-bundle.mjs';

const entrypoints = ['check', 'in', 'out'];
const stub = (file) => fileURLToPath(new URL(`./bundle/${file}`, import.meta.url));
const clientNode = (file) => (importer) =>
  new RegExp(`node_modules/@kubernetes/client-node/dist/${file}\\.js$`).test(importer.replaceAll('\\', '/'));

// The side modules (sideModules): assets/lib/NAME.cjs from scripts/bundle/side/NAME.mjs. A stub stands in for each
// package where the bundled code imports it and requires the side module on first use (scripts/bundle/side-module.mjs):
// the package's code is then neither parsed nor run at a start that does not use it.

// Where each stub stands in: package → stub, and the importers (all when absent) and scripts (all when absent).
// - The proxy packages, for a proxy from the environment or a kubeconfig's proxy-url (config.js, transport.ts).
// - jsonpath-plus, used only by two auth providers' token helpers; openid-client, by the oidc auth provider.
// - js-yaml in check only: it reads YAML for a source.kubeconfig alone (in and out write YAML at every run).
// - node:child_process and node:readline, everywhere: only exec credential plugins start a process, only watches
//   read lines (shims that require the built-in module on first use, no side module).
// client-node's generated API classes are swapped for a stub that throws: KubeConfig needs them only in
// makeApiClient(), which the scripts never call.
const standIns = [
  { packages: ['./gen/index.js', './middleware.js'], stub: 'client-node-gen-stub.mjs', from: clientNode('config') },
  { packages: ['hpagent', 'socks-proxy-agent', 'socks'], stub: 'proxy-agents-lazy.mjs' },
  { packages: ['jsonpath-plus'], stub: 'jsonpath-lazy.mjs', from: clientNode('(azure|gcp)_auth') },
  { packages: ['openid-client'], stub: 'openid-client-lazy.mjs', from: clientNode('oidc_auth') },
  { packages: ['js-yaml'], stub: 'js-yaml-lazy.mjs', scripts: ['check'] },
  { packages: ['child_process', 'node:child_process'], stub: 'child-process-lazy.mjs' },
  { packages: ['readline', 'node:readline'], stub: 'readline-lazy.mjs' },
];
const leanBundle = (script) => ({
  name: 'lean-bundle',
  setup(b) {
    for (const standIn of standIns) {
      if (standIn.scripts && !standIn.scripts.includes(script)) continue;
      const path = stub(standIn.stub);
      const filter = new RegExp(
        `^(${standIn.packages.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`,
      );
      b.onResolve({ filter }, (args) => {
        if (args.importer === path) return undefined; // the shim's own require of the real module
        return !standIn.from || standIn.from(args.importer) ? { path } : undefined;
      });
    }
  },
});

await rm('assets/lib', { recursive: true, force: true });
await mkdir('assets/lib', { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  // CommonJS output (.cjs: whatever a package.json above says).
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};
const [results, sideResults] = await Promise.all([
  Promise.all(
    entrypoints.map((name) =>
      build({
        ...common,
        entryPoints: [`src/entrypoints/${name}.ts`],
        outfile: `assets/lib/${name}.cjs`,
        // The client library's fetch stack is not used (src/cluster/transport.ts): keep it out of the bundles.
        alias: { undici: './scripts/bundle/undici-stub.mjs' },
        plugins: [leanBundle(name)],
      }),
    ),
  ),
  Promise.all(
    sideModules.map((name) =>
      build({ ...common, entryPoints: [`scripts/bundle/side/${name}.mjs`], outfile: `assets/lib/${name}.cjs` }),
    ),
  ),
]);

await Promise.all(
  entrypoints.map(async (name) => {
    await copyFile('scripts/bundle/launcher.cjs', `assets/${name}`);
    await chmod(`assets/${name}`, 0o755);
  }),
);
// The repo's package.json says "type": "module", which would make Node read the extensionless launchers as ESM.
await writeFile('assets/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
await writeFile(
  'assets/meta.json',
  JSON.stringify({
    ...Object.fromEntries(entrypoints.map((n, i) => [n, results[i].metafile])),
    ...Object.fromEntries(sideModules.map((n, i) => [`lib/${n}`, sideResults[i].metafile])),
  }),
);

const problems = entrypoints.flatMap((name, i) => bundleProblems(name, results[i].metafile));
if (problems.length > 0) {
  for (const problem of problems) console.error(`build: ${problem}`);
  process.exitCode = 1;
}
