// npm run bench (bench/run.ts), section 6: release lifecycle (issues 10, 11, 15): prune, rollback, a release with a
// StatefulSet and a Job, sweep; each beside the kubectl way in the same run. Small on purpose: one or a few reps each
// (LIFECYCLE_REPS). This file holds what they share; each has a file of its own (run-prune.ts, run-rollback.ts,
// run-workloads.ts, run-sweep.ts).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import type { KubeObject } from './cluster.js';
import { run } from './proc.js';
import { concourseEnv, fail, type BenchRun } from './run-context.js';

export const LIFECYCLE_REPS = Number(process.env.BENCH_LIFECYCLE_REPS ?? 2);
export const GOOD = 'registry.example.com/bench/web:1.0';
export const UNPULLABLE = 'registry.example.com/bench/unpullable-app:2.0';

/** The YAML documents of a file as objects, one JSON file each in a fresh dir (what `kubectl apply -f DIR` reads). */
export function objectsDir(bench: BenchRun, yamlText: string, edit = (o: KubeObject) => o): string {
  const { work } = bench;
  const dir = mkdtempSync(join(work, 'kubectl-dir-'));
  (yaml.loadAll(yamlText) as (KubeObject | null)[])
    .filter((o): o is KubeObject => Boolean(o))
    .map(edit)
    .forEach((o, i) =>
      writeFileSync(
        join(dir, `${String(i).padStart(2, '0')}-${o.kind}-${o.metadata.name}.json`.toLowerCase()),
        JSON.stringify(o),
      ),
    );
  return dir;
}

/** `in` of one version of a release: its manifests.yml (not measured). */
export async function manifestsOf(bench: BenchRun, ns: string, app: string, version: unknown): Promise<string> {
  const { ids, work, assets } = bench;
  const dest = mkdtempSync(join(work, 'dest-'));
  const got = await run(assets('in'), [dest], {
    input: JSON.stringify({ source: { ...ids.get('lifecycle-in').source, namespace: ns, app }, version, params: {} }),
    env: concourseEnv(),
  });
  if (got.code !== 0) fail('in', got);
  return readFileSync(join(dest, 'manifests.yml'), 'utf8');
}

export const configMap = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  key: ${name}\n`;
