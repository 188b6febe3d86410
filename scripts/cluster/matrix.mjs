// `npm run test:matrix`: the contract and integration suites against each pinned Kubernetes version of the local test
// cluster in turn (KDR_KUBE_VERSION=1.35, 1.36, 1.37; scripts/cluster/lib.sh), then a summary table. Each version's
// binaries are built on first use and cached. The cluster is restarted for each version (up.sh restarts a cluster
// started for another version) and left on the last one, the default. Exit code: non-zero when any version failed.
//   usage: node scripts/cluster/matrix.mjs [1.35 1.36 1.37]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

const versions = process.argv.slice(2).length ? process.argv.slice(2) : ['1.35', '1.36', '1.37'];
const scratch = mkdtempSync(join(tmpdir(), 'kdr-matrix-'));
const rows = [];

// Node 24 from the devDependency first on PATH (vitest's `#!/usr/bin/env node`, the stand-in), as npm run does.
const bin = resolve('node_modules/.bin');
for (const version of versions) {
  const env = { ...process.env, KDR_KUBE_VERSION: version, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  const started = Date.now();
  process.stderr.write(`\n[matrix] Kubernetes ${version}: cluster:up, then the contract and integration suites\n`);
  const up = spawnSync('bash', ['scripts/cluster/up.sh'], { stdio: 'inherit', env });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let server = '(did not start)';
  if (up.status === 0) {
    server = /^KUBE_VERSION=(.*)$/m.exec(readFileSync('.cluster/env', 'utf8'))?.[1] ?? '?';
    const report = join(scratch, `${version}.json`);
    spawnSync(
      'node_modules/.bin/vitest',
      [
        'run',
        '--project',
        'contract',
        '--project',
        'integration',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
      ],
      { stdio: 'inherit', env },
    );
    try {
      const json = JSON.parse(readFileSync(report, 'utf8'));
      passed = json.numPassedTests;
      // A file that failed to load fails no test but fails the run: count it.
      failed = json.numFailedTests + (!json.success && json.numFailedTests === 0 ? 1 : 0);
      skipped = json.numPendingTests + json.numTodoTests;
    } catch {
      failed = 1; // no report: the run itself broke
    }
  } else {
    failed = 1;
  }
  rows.push({ version, server, passed, failed, skipped, seconds: Math.round((Date.now() - started) / 1000) });
}
rmSync(scratch, { recursive: true, force: true });

const table = [
  '| Kubernetes | server | passed | failed | skipped | time |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.version} | ${r.server} | ${r.passed} | ${r.failed} | ${r.skipped} | ${r.seconds} s |`),
].join('\n');
process.stdout.write(`\n[matrix] contract + integration, ${new Date().toISOString().slice(0, 10)}\n${table}\n`);
process.exit(rows.every((r) => r.failed === 0 && r.passed > 0) ? 0 : 1);
