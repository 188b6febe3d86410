// npm run bench (bench/run.ts), section 1: check cold start, interleaved with its baselines and the load-time probes.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot as root } from '../../test/support/cluster.js';
import type { Identity } from './cluster.js';
import { nodeBin, run, scriptEnv, stats, type ProcessResult } from './proc.js';
import type { CheckResults } from './results.js';
import { fail, ROUNDS, type BenchRun } from './run-context.js';

async function buildProbes(bench: BenchRun): Promise<Record<string, { file: string; bytes: number }>> {
  const { work, runId, say } = bench;
  // Bundles of single dependencies, built like scripts/build.mjs builds the assets: what each costs to load alone.
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(work, 'probes-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}');
  const probes = {
    'client-node': "import * as k from '@kubernetes/client-node'; globalThis.__p = k;",
    zod: "import * as z from 'zod'; globalThis.__p = z;",
    'js-yaml': "import * as y from 'js-yaml'; globalThis.__p = y;",
    'zod/mini': "import * as z from 'zod/mini'; globalThis.__p = z;",
    undici: "import * as u from 'undici'; globalThis.__p = u;",
  };
  const out: Record<string, { file: string; bytes: number }> = {};
  for (const [name, code] of Object.entries(probes)) {
    const entry = join(root, 'bench', `.probe-${runId}-${name.replace(/\W/g, '_')}.mjs`);
    writeFileSync(entry, code);
    try {
      await build({
        entryPoints: [entry],
        outfile: join(dir, name.replace(/\W/g, '_')),
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        minify: true,
        legalComments: 'none',
        logLevel: 'silent',
      });
      out[name] = {
        file: join(dir, name.replace(/\W/g, '_')),
        bytes: statSync(join(dir, name.replace(/\W/g, '_'))).size,
      };
    } catch {
      say(`probe ${name}: does not bundle, left out`);
    } finally {
      rmSync(entry, { force: true });
    }
  }
  return out;
}

export async function benchCheck(bench: BenchRun, namespace: string): Promise<CheckResults> {
  const { api, ids, work, assets, kubectl, disrupted } = bench;
  const checkId = ids.get('check');
  const ccId = ids.get('check-cc');
  const getId = ids.get('kubectl-get');
  const ccDir = mkdtempSync(join(work, 'compile-cache-'));
  const loaderCcDir = mkdtempSync(join(work, 'compile-cache-loader-'));
  const checkReq = (id: Identity) => JSON.stringify({ source: { ...id.source, namespace, app: 'web' } });
  const probes = await buildProbes(bench);
  const variants: Record<string, () => Promise<ProcessResult>> = {
    'node -e 0': () => run(nodeBin, ['-e', '0']),
    check: () => run(assets('check'), [], { input: checkReq(checkId) }),
    'kubectl get deployment': () => kubectl(getId, ['get', 'deployment', 'web', '-n', namespace, '-o', 'json']),
    'check, validation error (load only)': () => run(assets('check'), [], { input: '{}' }),
    'check + NODE_COMPILE_CACHE': () =>
      run(assets('check'), [], { input: checkReq(ccId), env: scriptEnv({ NODE_COMPILE_CACHE: ccDir }) }),
    'validation error + NODE_COMPILE_CACHE': () =>
      run(assets('check'), [], { input: '{}', env: scriptEnv({ NODE_COMPILE_CACHE: ccDir }) }),
    'check + NODE_COMPILE_CACHE, empty cache (first run writes it)': () => {
      const fresh = mkdtempSync(join(work, 'compile-cache-fresh-'));
      return run(assets('check'), [], {
        input: checkReq(ids.get('check-cc-cold')),
        env: scriptEnv({ NODE_COMPILE_CACHE: fresh }),
      }).finally(() => rmSync(fresh, { recursive: true, force: true }));
    },
    'check via a loader calling module.enableCompileCache()': () =>
      run(nodeBin, [join(root, 'bench', 'lib', 'compile-cache-loader.mjs')], {
        input: checkReq(ids.get('check-loader')),
        env: scriptEnv({ BENCH_CC_DIR: loaderCcDir, BENCH_BUNDLE: assets('check') }),
      }),
    ...Object.fromEntries(
      Object.entries(probes).map(([name, p]) => [`load ${name} alone`, () => run(nodeBin, [p.file])]),
    ),
    'lean check probe (node:https, one list)': () =>
      run(nodeBin, [join(root, 'bench', 'lib', 'lean-check.mjs')], { input: checkReq(ids.get('lean-check')) }),
    'one request, cold TLS (in the bench process)': async () => {
      const startedAt = performance.now();
      const ms = await api.coldRequest(
        `/api/v1/namespaces/${namespace}/secrets?labelSelector=kubernetes-deploy-resource.io%2Frelease%3Dweb`,
      );
      // not a process: a result of the same shape, so that it is timed and checked as the others are
      return { code: 0, signal: null, stdout: '', stderr: '', ms, startedAt, endedAt: performance.now() };
    },
  };
  // warm the file cache and prime the compile cache (not measured)
  for (const f of Object.values(variants)) await f();
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  let excluded = 0;
  let checkOut = '';
  for (let i = 0; i < ROUNDS; i++) {
    // a fresh random order each round: no variant always runs right after the same neighbour
    const order = Object.entries(variants).sort(() => Math.random() - 0.5);
    for (const [name, f] of order) {
      const r = await f();
      if (disrupted(r.startedAt, r.endedAt)) {
        excluded++;
        continue; // an apiserver restart by someone else's test: not this variant's cost
      }
      const expected = name.includes('validation error') ? 2 : 0;
      if (r.code !== expected) fail(name, r);
      if (name === 'check') checkOut = r.stdout;
      times[name]!.push(r.ms);
    }
  }
  const rss: (number | undefined)[] = [];
  for (let i = 0; i < 3; i++)
    rss.push((await run(assets('check'), [], { input: checkReq(ids.get('check-rss')), rss: true })).peakRssKb);
  return {
    rounds: ROUNDS,
    excluded,
    stats: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)])),
    raw: times,
    probes: Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.bytes])),
    checkOutput: JSON.parse(checkOut),
    peakRssKb: Math.max(...rss.map((kb) => kb ?? 0)),
    users: { check: checkId.user, kubectlGet: getId.user, checkCc: ccId.user, lean: ids.get('lean-check').user },
  };
}
