// The build's guard (scripts/build.mjs fails on these problems): what must not come back into the bundles.
import { describe, expect, test } from 'vitest';
import type { Metafile } from 'esbuild';
import { bundleProblems } from '../../scripts/bundle/check-bundle.mjs';

type Inputs = Metafile['inputs'];
const input = (imports: { path: string; original?: string }[] = []) => ({ bytes: 1, imports: imports.map((i) => ({ ...i, kind: 'import-statement' as const })) });
const lean: Inputs = {
  'src/entrypoints/check.ts': input([{ path: 'src/cluster/client.ts', original: '../cluster/client.js' }]),
  'src/cluster/client.ts': input([{ path: 'node_modules/@kubernetes/client-node/dist/config.js', original: '@kubernetes/client-node/dist/config.js' }]),
  'node_modules/@kubernetes/client-node/dist/config.js': input(),
  'scripts/bundle/client-node-gen-stub.mjs': input(),
};

describe('bundle check', () => {
  test('a bundle with KubeConfig alone passes', () => {
    expect(bundleProblems('check', { inputs: lean })).toEqual([]);
  });

  test.each([
    ['node_modules/@kubernetes/client-node/dist/gen/apis/CoreV1Api.js', 'generated API/model classes'],
    ['node_modules/@kubernetes/client-node/dist/gen/models/V1Pod.js', 'generated API/model classes'],
    ['node_modules/ws/lib/websocket.js', 'WebSocket stack'],
    ['node_modules/undici/index.js', 'undici'],
  ])('fails when %s enters again', (path, why) => {
    const problems = bundleProblems('check', { inputs: { ...lean, [path]: input() } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(why);
    expect(problems[0]).toContain(path);
  });

  test('fails when code outside src/cluster/ imports the client library', () => {
    const inputs = { ...lean, 'src/commands/check.ts': input([{ path: 'node_modules/@kubernetes/client-node/dist/index.js', original: '@kubernetes/client-node' }]) };
    expect(bundleProblems('check', { inputs })).toEqual(['check: src/commands/check.ts imports @kubernetes/client-node; only src/cluster/ may']);
  });
});
