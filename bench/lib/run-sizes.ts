// npm run bench (bench/run.ts), section 5: sizes: bundles, metafile, image.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { sideModules as sideModuleNames } from '../../scripts/bundle/check-bundle.mjs';
import type { KubeObject } from './cluster.js';
import type { ScriptName, Sizes } from './results.js';

export function sizes(assets: (name: string) => string): Sizes {
  const bundles = {
    check: statSync(assets('lib/check.cjs')).size,
    in: statSync(assets('lib/in.cjs')).size,
    out: statSync(assets('lib/out.cjs')).size,
  };
  const sideModules = Object.fromEntries(sideModuleNames.map((n) => [n, statSync(assets(`lib/${n}.cjs`)).size]));
  const meta = JSON.parse(readFileSync(assets('meta.json'), 'utf8')) as Record<
    string,
    { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> }
  >;
  const inputsOf = (name: ScriptName) => {
    const output = Object.values(meta[name]?.outputs ?? {})[0];
    return Object.entries(output?.inputs ?? {}).map(([path, v]) => ({ path, bytes: v.bytesInOutput }));
  };
  const checkInputs = inputsOf('check').sort((a, b) => b.bytes - a.bytes);
  const packageOf = (path: string) => {
    const m = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
    return m ? m.at(-1)!.replace('node_modules/', '') : path.startsWith('src/') ? '(our src/)' : '(other)';
  };
  const byPackage: Record<string, number> = {};
  for (const input of checkInputs)
    byPackage[packageOf(input.path)] = (byPackage[packageOf(input.path)] ?? 0) + input.bytes;
  let image: Sizes['image'];
  const tools: [string, string[]][] = [
    ['podman', []],
    ['buildah', ['--storage-driver', 'overlay']],
  ];
  for (const [tool, toolArgs] of tools) {
    try {
      const inspect = (ref: string) =>
        JSON.parse(
          execFileSync(tool, [...toolArgs, 'image', 'inspect', ref], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
            timeout: 20_000,
          }),
        )[0] as KubeObject;
      const img = inspect('localhost/kubernetes-deploy-resource:dev');
      const labels = img.Labels ?? img.Config?.Labels ?? img.OCIv1?.config?.Labels ?? {};
      let baseName: string | undefined = labels['org.opencontainers.image.base.name'];
      let base: KubeObject | undefined;
      for (const candidate of [
        baseName,
        'localhost/kdr-base/node:24.21.0-bookworm-slim',
        'docker.io/library/node:24.21.0-bookworm-slim',
      ].filter((name): name is string => Boolean(name))) {
        try {
          base = inspect(candidate);
          baseName = candidate;
          break;
        } catch {
          // not here
        }
      }
      const size = (i: KubeObject | undefined): number | undefined => i?.Size ?? i?.VirtualSize;
      image = {
        tool,
        name: 'localhost/kubernetes-deploy-resource:dev',
        bytes: size(img),
        created: img.Created,
        baseName,
        baseBytes: size(base),
      };
      break;
    } catch {
      // try the next tool
    }
  }
  return {
    bundles,
    sideModules,
    checkTop: checkInputs.slice(0, 10),
    byPackage: Object.entries(byPackage).sort((a, b) => b[1] - a[1]),
    image,
  };
}
