// vitest globalSetup of the projects that spawn the compiled scripts (contract, integration): bundles assets/ from
// the current sources first, so a test never runs yesterday's build. Once per vitest run, however many projects ask.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '..', '..');
// Each project loads this file anew; the process (vitest's main one) is the same.
const built = Symbol.for('kubernetes-deploy-resource.assets-built');

export async function setup(): Promise<void> {
  if ((globalThis as Record<symbol, unknown>)[built]) return;
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts/build.mjs')], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`building assets/ failed (scripts/build.mjs exited ${code})`);
  (globalThis as Record<symbol, unknown>)[built] = true;
}
