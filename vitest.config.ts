import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run alone by vitest.disruptive.config.ts (npm run test:disruptive): they take the cluster away from everyone.
    exclude: ['test/disruptive/**', 'node_modules/**'],
    // Brings the real test cluster up once per run (or uses the one that is up); integration tests fail, never skip,
    // when it cannot start. The secret scan checks everything the scripts printed or wrote, across the whole run.
    globalSetup: ['test/support/global-setup.ts', 'test/support/secret-scan.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    // Two cores: integration files share one cluster; keep parallelism modest so rollouts are not starved.
    maxWorkers: 2,
  },
});
