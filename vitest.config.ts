import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Brings the real test cluster up once per run (or uses the one that is up); integration tests fail, never skip,
    // when it cannot start.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    // Two cores: integration files share one cluster; keep parallelism modest so rollouts are not starved.
    maxWorkers: 2,
  },
});
