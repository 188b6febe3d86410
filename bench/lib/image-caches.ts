// The code caches the image ships, made as the Dockerfile makes them: a copy of the scripts (launchers and lib/)
// whose V8 code caches scripts/bundle/fill-code-cache.mjs wrote, and Node's compile cache (NODE_COMPILE_CACHE) filled
// by that same run. Run a script as `run(caches.script('check'), …, { env: scriptEnv(caches.env) })`.
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../test/support/cluster.js';
import { nodeBin, run, scriptEnv } from './proc.js';
import type { ScriptName } from './results.js';

export interface ImageCaches {
  script(name: ScriptName): string;
  env: Record<string, string>;
}

/** Fills the caches for a copy of `assetsDir` (launchers, lib/, package.json) made under `work`. */
export async function imageCaches(assetsDir: string, work: string): Promise<ImageCaches> {
  const dir = mkdtempSync(join(work, 'image-scripts-'));
  for (const entry of readdirSync(assetsDir)) {
    if (entry !== 'meta.json') cpSync(join(assetsDir, entry), join(dir, entry), { recursive: true });
  }
  const env = { NODE_COMPILE_CACHE: mkdtempSync(join(work, 'image-compile-cache-')) };
  const fill = await run(nodeBin, [join(repoRoot, 'scripts', 'bundle', 'fill-code-cache.mjs'), dir], {
    env: scriptEnv(env),
  });
  if (fill.code !== 0) throw new Error(`filling the image's caches: exit ${fill.code}\n${fill.stderr}`);
  return { script: (name) => join(dir, name), env };
}
