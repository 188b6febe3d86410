// The GitHub Actions workflows, checked here because nothing runs them before they reach GitHub: against the workflow
// schema with action-validator (any finding fails), and for what the project relies on them to do.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { load } from 'js-yaml';
import { describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const workflowDir = join(root, '.github', 'workflows');
const workflowFiles = readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const ci = load(readFileSync(join(workflowDir, 'ci.yml'), 'utf8')) as any;
const runs = (job: string): string => ci.jobs[job].steps.map((s: { run?: string }) => s.run ?? '').join('\n');
const step = (job: string, uses: string) => ci.jobs[job].steps.find((s: { uses?: string }) => s.uses?.startsWith(uses));

describe('workflow files', () => {
  test('there is at least ci.yml', () => {
    expect(workflowFiles).toContain('ci.yml');
  });

  test.each(workflowFiles)('%s has no action-validator findings', (file) => {
    const result = validateWorkflow(readFileSync(join(workflowDir, file), 'utf8'));
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toEqual([]);
  });

  test('the validator does find a broken workflow (a misspelt key, a job without runs-on)', () => {
    const broken =
      'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: ' +
      'echo\n  b:\n    steps:\n      - run: echo\n';
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });
});

describe('ci.yml', () => {
  test("job test runs the README's test line", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const line = /^(npm ci && npm test)\b/m.exec(readme)?.[1];
    expect(line).toBe('npm ci && npm test');
    expect(runs('test').split('\n')).toContain(line);
  });

  test('job kind covers Kubernetes 1.33 to 1.37, each node image pinned by digest and matching its version', () => {
    const include = ci.jobs.kind.strategy.matrix.include as {
      kubernetes: string;
      kind: string;
      'node-image': string;
    }[];
    expect(include.map((e) => e.kubernetes)).toEqual(['1.33', '1.34', '1.35', '1.36', '1.37']);
    for (const entry of include) {
      expect(entry['node-image']).toMatch(
        new RegExp(`^kindest/node:v${entry.kubernetes.replace('.', '\\.')}\\.\\d+@sha256:[0-9a-f]{64}$`),
      );
      expect(entry.kind).toMatch(/^v\d+\.\d+\.\d+$/);
    }
    expect(new Set(include.map((e) => e['node-image'].split('@')[1])).size).toBe(include.length);
  });

  test(
    'job kind builds the image, brings up kind and runs the contract and integration suites ' +
      'in it and on the host, real kubelets',
    () => {
      const script = runs('kind');
      expect(script).toContain('npm run image:build');
      expect(script).toContain('scripts/kind/up.sh');
      expect(script).toMatch(
        new RegExp(
          String.raw`source \.kind/env\n\s*RESOURCE_RUNNER=image ` +
            String.raw`node_modules/\.bin/vitest run test/contract/protocol\.test\.ts test/integration\n`,
        ),
      );
      expect(script).toMatch(
        /source \.kind\/env\n\s*node_modules\/\.bin\/vitest run test\/contract test\/integration\n/,
      );
      const env = readFileSync(join(root, 'scripts', 'kind', 'up.sh'), 'utf8');
      for (const name of ['KDR_TEST_KUBECONFIG', 'KDR_TEST_SOURCE', 'KDR_TEST_IMAGES', 'KDR_TEST_RBAC_TOKEN'])
        expect(env).toContain(`export ${name}=`);
      expect(env).toContain('export KDR_TEST_KUBELET=real');
    },
  );

  test('job image builds amd64 and arm64 with SBOM and provenance, and pushes only for a tag', () => {
    const build = step('image', 'docker/build-push-action@');
    expect(build.with.platforms).toBe('linux/amd64,linux/arm64');
    expect(build.with.sbom).toBe(true);
    expect(build.with.provenance).toBe('mode=max');
    expect(build.with.push).toBe("${{ startsWith(github.ref, 'refs/tags/v') }}");
    const meta = step('image', 'docker/metadata-action@');
    expect(meta.with.tags.trim().split('\n')).toEqual([
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=semver,pattern={{major}}',
    ]);
    expect(meta.with.flavor.trim()).toBe('latest=auto');
  });
});
