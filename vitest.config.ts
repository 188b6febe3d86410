import { defineConfig } from 'vitest/config';

// Five projects, one per test layer (README, "Development"):
//   unit         TS sources only, in memory: no cluster, no build (npm run test:unit)
//   contract     the compiled scripts, built first; no cluster (npm run test:contract)
//   integration  commands and scripts against the real test cluster, brought up first (npm run test:integration)
//   disruptive   takes the cluster away (kills kube-apiserver): alone, one file at a time (npm run test:disruptive)
//   image        the contract and deploy suites inside the built image (npm run test:image)
// A plain `vitest run` runs the first three; disruptive and image run only when named with --project, as npm test
// and their own scripts do, so that neither can run beside the others by accident.
const named = new Set(
  process.argv.flatMap((arg, i, all) =>
    arg === '--project' ? [all[i + 1]] : arg.startsWith('--project=') ? [arg.slice('--project='.length)] : [],
  ),
);
const cluster = 'test/support/global-setup.ts';
const assets = 'test/support/build-assets.ts';

export default defineConfig({
  test: {
    // The suite-wide secret scan: the root's globalSetup runs once per vitest run, around every project in it, and
    // checks everything the scripts printed or wrote (test/support/run-script.ts appends each run to its capture).
    globalSetup: ['test/support/secret-scan.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    // Two cores: integration files share one cluster; keep parallelism modest so rollouts are not starved.
    maxWorkers: 2,
    projects: [
      // Unit files share their workers (no isolation: half the time on two busy cores), so none may leave global
      // state behind (vi.mock, stubbed env or timers): everything a unit test needs is passed in.
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000, isolate: false },
      },
      { extends: true, test: { name: 'contract', include: ['test/contract/**/*.test.ts'], globalSetup: [assets] } },
      // Integration tests fail, never skip, when the cluster cannot start (global-setup.ts throws).
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: [assets, cluster] },
      },
      ...(named.has('disruptive')
        ? [
            {
              extends: true,
              test: {
                name: 'disruptive',
                include: ['test/disruptive/**/*.test.ts'],
                globalSetup: [assets, cluster],
                fileParallelism: false,
              },
            },
          ]
        : []),
      // The image is built by npm run test:image (image:build) before; RESOURCE_RUNNER=image makes run-script.ts
      // start the scripts inside it.
      ...(named.has('image')
        ? [
            {
              extends: true,
              test: {
                name: 'image',
                include: [
                  'test/contract/protocol.test.ts',
                  'test/contract/side-modules.test.ts',
                  'test/image/code-cache.test.ts',
                  'test/integration/deploy.test.ts',
                ],
                globalSetup: [cluster],
                env: { RESOURCE_RUNNER: 'image' },
              },
            },
          ]
        : []),
    ],
  },
});
