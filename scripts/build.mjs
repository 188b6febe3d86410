// Bundles the three entrypoints into single-file executables under assets/ (no node_modules needed beside them).
// Each bundle holds only what its script runs; scripts/bundle/check-bundle.mjs fails the build when the client
// library's unused parts come back (see bench/RESULTS.md for what they cost at start-up).
import { build } from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleProblems } from './bundle/check-bundle.mjs';

const entrypoints = ['check', 'in', 'out'];
const stub = (file) => fileURLToPath(new URL(`./bundle/${file}`, import.meta.url));
const clientNodeConfig = /node_modules\/@kubernetes\/client-node\/dist\/config\.js$/;

// client-node's config.js (KubeConfig) imports the generated API classes and the proxy packages at its top level:
// the former are never used here, the latter only with a kubeconfig's proxy-url. Swapped where config.js imports them.
// jsonpath-plus, used only by two auth providers' token helpers, is swapped for a shim that require()s it on first use,
// and so is node:child_process (only exec credential plugins start a process).
// (Not js-yaml: check reads YAML for a source.kubeconfig, and a require()d ES module is not tree-shaken: +15 KiB.)
const clientNodeAuth = /node_modules\/@kubernetes\/client-node\/dist\/(azure|gcp)_auth\.js$/;
const leanKubeConfig = {
  name: 'lean-kubeconfig',
  setup(b) {
    const fromConfig = {
      './gen/index.js': stub('client-node-gen-stub.mjs'),
      './middleware.js': stub('client-node-gen-stub.mjs'),
      hpagent: stub('proxy-agents-lazy.mjs'),
      'socks-proxy-agent': stub('proxy-agents-lazy.mjs'),
      socks: stub('proxy-agents-lazy.mjs'),
    };
    b.onResolve({ filter: /^(\.\/gen\/index\.js|\.\/middleware\.js|hpagent|socks-proxy-agent|socks)$/ }, (args) =>
      clientNodeConfig.test(args.importer.replaceAll('\\', '/')) ? { path: fromConfig[args.path] } : undefined,
    );
    // The shim's require() reaches the real package's ES module build (smaller than its CommonJS build).
    const esmBuild = async (pkg, resolveDir) => {
      const real = await b.resolve(pkg, { kind: 'import-statement', resolveDir, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path };
    };
    // node:child_process, wherever it is imported, through a shim that requires it on first use.
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer === stub('child-process-lazy.mjs') ? undefined : { path: stub('child-process-lazy.mjs') },
    );
    b.onResolve({ filter: /^jsonpath-plus$/ }, (args) => {
      if (args.pluginData?.real) return undefined;
      if (args.importer === stub('jsonpath-lazy.mjs')) return esmBuild('jsonpath-plus', args.resolveDir);
      return clientNodeAuth.test(args.importer.replaceAll('\\', '/')) ? { path: stub('jsonpath-lazy.mjs') } : undefined;
    });
  },
};

await mkdir('assets', { recursive: true });

const results = await Promise.all(
  entrypoints.map((name) =>
    build({
      entryPoints: [`src/entrypoints/${name}.ts`],
      outfile: `assets/${name}`,
      bundle: true,
      platform: 'node',
      target: 'node24',
      // CommonJS output: the assets have no .js/.mjs extension and no package.json beside them,
      // so Node loads them as CJS.
      format: 'cjs',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      banner: { js: '#!/usr/bin/env node' },
      metafile: true,
      // The client library's fetch stack is not used (src/cluster/transport.ts): keep it out of the bundles.
      alias: { undici: './scripts/bundle/undici-stub.mjs' },
      plugins: [leanKubeConfig],
      logLevel: 'warning',
    }),
  ),
);

await Promise.all(entrypoints.map((name) => chmod(`assets/${name}`, 0o755)));
// The repo's package.json says "type": "module", which would make Node read these extensionless files as ESM.
await writeFile('assets/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
await writeFile(
  'assets/meta.json',
  JSON.stringify(Object.fromEntries(entrypoints.map((n, i) => [n, results[i].metafile]))),
);

const problems = entrypoints.flatMap((name, i) => bundleProblems(name, results[i].metafile));
if (problems.length > 0) {
  for (const problem of problems) console.error(`build: ${problem}`);
  process.exitCode = 1;
}
