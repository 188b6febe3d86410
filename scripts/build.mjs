// Bundles the three entrypoints into single-file executables under assets/ (no node_modules needed beside them).
import { build } from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';

const entrypoints = ['check', 'in', 'out'];
await mkdir('assets', { recursive: true });

const results = await Promise.all(
  entrypoints.map((name) =>
    build({
      entryPoints: [`src/entrypoints/${name}.ts`],
      outfile: `assets/${name}`,
      bundle: true,
      platform: 'node',
      target: 'node24',
      // CommonJS output: the assets have no .js/.mjs extension and no package.json beside them, so Node loads them as CJS.
      format: 'cjs',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      banner: { js: '#!/usr/bin/env node' },
      metafile: true,
      // The client library's fetch stack is not used (src/cluster/transport.ts): keep it out of the bundles.
      alias: { undici: './scripts/undici-stub.mjs' },
      logLevel: 'warning',
    }),
  ),
);

await Promise.all(entrypoints.map((name) => chmod(`assets/${name}`, 0o755)));
// The repo's package.json says "type": "module", which would make Node read these extensionless files as ESM.
await writeFile('assets/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
await writeFile('assets/meta.json', JSON.stringify(Object.fromEntries(entrypoints.map((n, i) => [n, results[i].metafile]))));
