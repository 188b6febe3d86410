// What must never come back into the bundles (checked on esbuild's metafile by scripts/build.mjs; the build fails):
// client-node's generated API/model classes and its WebSocket stack (exec/attach/port-forward), which the scripts
// never run; and imports of the client library from outside src/cluster/ (the one boundary to it).
const forbidden = [
  { pattern: /node_modules\/@kubernetes\/client-node\/dist\/gen\//, why: "client-node's generated API/model classes" },
  { pattern: /node_modules\/(ws|isomorphic-ws)\//, why: 'the WebSocket stack (ws)' },
  { pattern: /node_modules\/undici\//, why: 'undici (client-node fetch stack)' },
];

/** Problems found in one esbuild metafile, as messages (empty: the bundle is as it should be). */
export function bundleProblems(name, metafile) {
  const problems = [];
  for (const [input, info] of Object.entries(metafile.inputs)) {
    for (const { pattern, why } of forbidden) {
      if (pattern.test(input)) problems.push(`${name}: ${why} entered the bundle: ${input}`);
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
