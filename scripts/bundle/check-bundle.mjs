// What must never come back into the bundles (checked on esbuild's metafile by scripts/build.mjs; the build fails):
// client-node's generated API/model classes and its WebSocket stack (exec/attach/port-forward), which the scripts
// never run; full zod (the schemas are on zod/mini) and zod's other locales; the put's params schema in check's and
// in's bundles; imports of the client library from outside src/cluster/ (the one boundary to it); node:child_process
// or node:readline loaded at start-up (only their shims in scripts/bundle/ may load them, on first use); and the
// packages of the side modules (assets/lib/, scripts/bundle/side-modules.mjs), which a script requires on first use
// only.

import { otherStandIns, sideModuleTable } from './side-modules.mjs';

/** The side modules' names (scripts/bundle/side-modules.mjs). */
export { sideModules } from './side-modules.mjs';

const sidePackages = (names) => new RegExp(`node_modules/(${names.join('|')})/`);
const forbidden = [
  ...sideModuleTable.map(({ name, bundled, why, scripts }) => ({
    pattern: sidePackages(bundled),
    why: `${why} (side module lib/${name}.cjs)`,
    only: scripts,
  })),
  { pattern: /node_modules\/@kubernetes\/client-node\/dist\/gen\//, why: "client-node's generated API/model classes" },
  { pattern: /node_modules\/(ws|isomorphic-ws)\//, why: 'the WebSocket stack (ws)' },
  { pattern: /node_modules\/undici\//, why: 'undici (client-node fetch stack)' },
  { pattern: /node_modules\/zod\/v4\/classic\//, why: 'full zod (the schemas use zod/mini)' },
  { pattern: /node_modules\/zod\/v4\/locales\/(?!en\.js$)/, why: 'a zod locale other than English' },
  { pattern: /^src\/request\/out-schema\.ts$/, why: "out's request schema", only: ['check', 'in'] },
];

/** Built-in modules a script loads on first use only, through their shims. */
const lazyBuiltins = otherStandIns
  .filter((standIn) => standIn.lazyBuiltin)
  .map(({ packages, stub }) => ({ names: new Set(packages), shim: stub }));

/** Problems found in one script's esbuild metafile, as messages (empty: the bundle is as it should be). */
export function bundleProblems(name, metafile) {
  const problems = [];
  // What the output holds: an input read but tree-shaken away entirely (0 bytes, e.g. zod's re-exported locales)
  // is not.
  const bundled = new Set(
    Object.values(metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([path]) => path),
    ),
  );
  for (const input of bundled) {
    for (const { pattern, why, only } of forbidden) {
      if (only && !only.includes(name)) continue;
      if (pattern.test(input)) problems.push(`${name}: ${why} entered the bundle: ${input}`);
    }
  }
  for (const [input, info] of Object.entries(metafile.inputs)) {
    if (bundled.has(input)) {
      for (const imported of info.imports ?? []) {
        const lazy = lazyBuiltins.find((b) => imported.external && b.names.has(imported.path));
        if (lazy && input !== `scripts/bundle/${lazy.shim}`) {
          problems.push(`${name}: ${input} loads ${imported.path} at start-up; only ${lazy.shim} may`);
        }
      }
    }
    if (input.startsWith('src/') && !input.startsWith('src/cluster/')) {
      for (const imported of info.imports ?? []) {
        if (/@kubernetes\/client-node/.test(imported.original ?? imported.path)) {
          problems.push(`${name}: ${input} imports ${imported.original ?? imported.path}; only src/cluster/ may`);
        }
      }
    }
  }
  return problems;
}
