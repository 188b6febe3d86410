// The build's guard (scripts/build.mjs fails on these problems): what must not come back into the bundles.
import { describe, expect, test } from 'vitest';
import type { Metafile } from 'esbuild';
import { bundleProblems } from '../../scripts/bundle/check-bundle.mjs';

type Imports = { path: string; original?: string; external?: boolean }[];
/** A metafile of one output holding `files` (path → bytes in the output, and what the file imports). */
function metafile(files: Record<string, { bytes?: number; imports?: Imports }>): Pick<Metafile, 'inputs' | 'outputs'> {
  const entries = Object.entries(files);
  return {
    inputs: Object.fromEntries(
      entries.map(([p, f]) => [
        p,
        { bytes: 1, imports: (f.imports ?? []).map((i) => ({ ...i, kind: 'import-statement' as const })) },
      ]),
    ),
    outputs: {
      'assets/x': {
        bytes: 1,
        imports: [],
        exports: [],
        inputs: Object.fromEntries(entries.map(([p, f]) => [p, { bytesInOutput: f.bytes ?? 100 }])),
      },
    },
  };
}
const lean = {
  'src/entrypoints/check.ts': { imports: [{ path: 'src/cluster/client.ts', original: '../cluster/client.js' }] },
  'src/cluster/client.ts': {
    imports: [
      {
        path: 'node_modules/@kubernetes/client-node/dist/config.js',
        original: '@kubernetes/client-node/dist/config.js',
      },
    ],
  },
  'node_modules/@kubernetes/client-node/dist/config.js': {},
  'scripts/bundle/client-node-gen-stub.mjs': {},
  'node_modules/zod/v4/mini/schemas.js': {},
};

describe('bundle check', () => {
  test('a bundle with KubeConfig alone and zod/mini passes', () => {
    expect(bundleProblems('check', metafile(lean))).toEqual([]);
  });

  test.each([
    ['node_modules/@kubernetes/client-node/dist/gen/apis/CoreV1Api.js', 'generated API/model classes'],
    ['node_modules/@kubernetes/client-node/dist/gen/models/V1Pod.js', 'generated API/model classes'],
    ['node_modules/ws/lib/websocket.js', 'WebSocket stack'],
    ['node_modules/undici/index.js', 'undici'],
    ['node_modules/zod/v4/classic/schemas.js', 'full zod'],
    ['node_modules/zod/v4/locales/de.js', 'locale other than English'],
    ['src/request/out-schema.ts', "out's request schema"],
    ['node_modules/hpagent/index.mjs', 'a proxy package (side module lib/proxy-agents.cjs)'],
    ['node_modules/socks/build/index.js', 'a proxy package'],
    ['node_modules/ip-address/dist/ipv6.js', 'a proxy package'],
    ['node_modules/jsonpath-plus/dist/index-node-esm.js', 'jsonpath-plus (side module'],
    ['node_modules/openid-client/build/index.js', 'openid-client (side module'],
    ['node_modules/oauth4webapi/build/index.js', 'openid-client (side module'],
    ['node_modules/js-yaml/dist/js-yaml.mjs', 'js-yaml (side module lib/js-yaml.cjs)'],
  ])('fails when %s enters again', (path, why) => {
    const problems = bundleProblems('check', metafile({ ...lean, [path]: {} }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(why);
    expect(problems[0]).toContain(path);
  });

  test("in's and out's bundles hold js-yaml (they write YAML at every run); check's takes it from lib/", () => {
    const files = { ...lean, 'node_modules/js-yaml/dist/js-yaml.mjs': {} };
    expect(bundleProblems('in', metafile(files))).toEqual([]);
    expect(bundleProblems('out', metafile(files))).toEqual([]);
    expect(bundleProblems('check', metafile(files))).toHaveLength(1);
  });

  test('an input tree-shaken to nothing is not in the bundle', () => {
    expect(bundleProblems('check', metafile({ ...lean, 'node_modules/zod/v4/locales/de.js': { bytes: 0 } }))).toEqual(
      [],
    );
  });

  test("out's bundle may hold out's schema and zod's English locale; in's may not hold out's schema", () => {
    const files = { ...lean, 'src/request/out-schema.ts': {}, 'node_modules/zod/v4/locales/en.js': {} };
    expect(bundleProblems('out', metafile(files))).toEqual([]);
    expect(bundleProblems('in', metafile(files))).toEqual([
      "in: out's request schema entered the bundle: src/request/out-schema.ts",
    ]);
  });

  test('fails when code outside src/cluster/ imports the client library', () => {
    const files = {
      ...lean,
      'src/commands/check.ts': {
        imports: [{ path: 'node_modules/@kubernetes/client-node/dist/index.js', original: '@kubernetes/client-node' }],
      },
    };
    expect(bundleProblems('check', metafile(files))).toEqual([
      'check: src/commands/check.ts imports @kubernetes/client-node; only src/cluster/ may',
    ]);
  });

  test('fails when node:child_process is loaded at start-up rather than through the lazy shim', () => {
    const childProcess = { path: 'node:child_process', external: true };
    const shimmed = {
      ...lean,
      'src/cluster/exec-credential.ts': {
        imports: [{ path: 'scripts/bundle/child-process-lazy.mjs', original: 'node:child_process' }],
      },
      'scripts/bundle/child-process-lazy.mjs': { imports: [childProcess] },
    };
    expect(bundleProblems('out', metafile(shimmed))).toEqual([]);
    const direct = { ...lean, 'src/cluster/exec-credential.ts': { imports: [childProcess] } };
    expect(bundleProblems('out', metafile(direct))).toEqual([
      'out: src/cluster/exec-credential.ts loads node:child_process at start-up; only child-process-lazy.mjs may',
    ]);
  });

  test('fails when node:readline is loaded at start-up rather than through the lazy shim', () => {
    const readline = { path: 'node:readline', external: true };
    const shimmed = { ...lean, 'scripts/bundle/readline-lazy.mjs': { imports: [readline] } };
    expect(bundleProblems('check', metafile(shimmed))).toEqual([]);
    const direct = { ...lean, 'src/cluster/transport.ts': { imports: [readline] } };
    expect(bundleProblems('check', metafile(direct))).toEqual([
      'check: src/cluster/transport.ts loads node:readline at start-up; only readline-lazy.mjs may',
    ]);
  });
});
