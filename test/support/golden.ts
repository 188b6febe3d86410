// Golden YAML (test/golden) and the release spec the manifest tests start from.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ReleaseSpec } from '../../src/manifests/render.js';

const goldenDir = join(import.meta.dirname, '..', 'golden');

/** Compares with test/golden/NAME; UPDATE_GOLDEN=1 rewrites it. A missing file fails. */
export function expectGolden(name: string, actual: string): void {
  const file = join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  expect(existsSync(file), `${file} is missing (run with UPDATE_GOLDEN=1 once and review it)`).toBe(true);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** app web, one replica, the params' defaults, no extras: what a test changes is spelled out beside it. */
export function releaseSpec(overrides: Partial<ReleaseSpec> = {}): ReleaseSpec {
  return {
    app: 'web',
    namespace: 'staging',
    image: { repository: 'registry.local/team/web', tag: '1.4.2', digest: 'sha256:' + 'ab12'.repeat(16) },
    replicas: 1,
    port: 8080,
    servicePort: 80,
    env: {},
    labels: {},
    annotations: {},
    path: '/',
    ingressAnnotations: {},
    extraObjects: [],
    buildAnnotations: {},
    ...overrides,
  };
}
