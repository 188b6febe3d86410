// vitest globalSetup: makes sure a Kubernetes cluster is there for the integration tests.
//
// By default it runs scripts/cluster/up.sh once per test run: idempotent, so it returns in seconds
// when the local test cluster is already up, and builds/starts it otherwise (see docs/cluster.md).
// To test against another cluster instead, set both KDR_TEST_KUBECONFIG and KDR_TEST_SOURCE.
// If the cluster cannot be brought up this THROWS: integration tests fail loudly, they never skip.
// The cluster is left running at the end (CI and developers take it down with `npm run cluster:down`).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { kubeconfigPath, repoRoot, sourcePath, usingExternalCluster } from './cluster.ts';

export async function setup(): Promise<void> {
  if (usingExternalCluster()) {
    for (const file of [kubeconfigPath, sourcePath]) {
      if (!existsSync(file)) throw new Error(`KDR_TEST_KUBECONFIG/KDR_TEST_SOURCE: ${file} does not exist`);
    }
    process.stderr.write(`[cluster] using the cluster from ${kubeconfigPath} and ${sourcePath}\n`);
    return;
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'scripts/cluster/up.sh')], {
      cwd: repoRoot,
      // Progress lines (a first run builds Kubernetes for a few minutes) go straight to the terminal.
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, PATH: `${join(repoRoot, 'node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}` },
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(
      `the test cluster did not come up (scripts/cluster/up.sh exited ${code}); see .cluster/logs/ ` +
        'or set KDR_TEST_KUBECONFIG and KDR_TEST_SOURCE to use another cluster',
    );
  }
  for (const file of [kubeconfigPath, sourcePath]) {
    if (!existsSync(file)) throw new Error(`scripts/cluster/up.sh succeeded but wrote no ${file}`);
  }
}

export async function teardown(): Promise<void> {
  // Deliberately nothing: the cluster stays up for the next run (CI runs `npm run cluster:down`).
}
