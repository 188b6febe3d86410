// Bundles the three entrypoints into assets/lib/{check,in,out}.cjs (no node_modules needed beside them), each one
// started by a copy of the launcher scripts/bundle/launcher.cjs at assets/{check,in,out} (which uses the V8 code cache
// the image fills, see there); and the packages only a rare path runs into side modules under assets/lib/, which a
// script requires on first use.
// Each bundle holds only what its script runs; scripts/bundle/check-bundle.mjs fails the build when the client
// library's unused parts or a side module's packages come back (see bench/RESULTS.md for what they cost at start-up).
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleProblems } from './bundle/check-bundle.mjs';
import { sideModules, standIns } from './bundle/side-modules.mjs';

const entrypoints = ['check', 'in', 'out'];
const stub = (file) => fileURLToPath(new URL(`./bundle/${file}`, import.meta.url));

// Each stand-in (scripts/bundle/side-modules.mjs: the side modules' and the other shims') replaces its packages where
// the bundled code imports them, for the importers (all when absent) and scripts (all when absent) its row names: the
// package's code is then neither parsed nor run at a start that does not use it.
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
        const importer = args.importer.replaceAll('\\', '/');
        return !standIn.importers || standIn.importers.test(importer) ? { path } : undefined;
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
