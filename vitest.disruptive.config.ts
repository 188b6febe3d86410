import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Tests that take the cluster away (kill kube-apiserver): alone, one file at a time, after the other suites.
export default defineConfig({
  test: { ...base.test, include: ['test/disruptive/**/*.test.ts'], exclude: ['node_modules/**'], fileParallelism: false },
});
