// What the parts of `npm run bench:scale` (bench/scale.ts, scale-per-check.ts, scale-load.ts) share: the settings
// read from the environment, and one run's state (startScaleBench: the cluster client and identities, the namespace
// the two apps live in, the byte counters to close).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ByteCounter } from './byte-counter.js';
import { Api, Identities, readAdminSource, type AdminSource } from './cluster.js';
import { DisruptionMonitor } from './disruptions.js';

export const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 20);
export const LOADS = (process.env.BENCH_SCALE_LOAD ?? '50,200').split(',').map(Number);
export const FULL_LOADS = new Set((process.env.BENCH_SCALE_FULL_LOAD ?? '50').split(',').map(Number));
export const REVISIONS = 10;
export const CONFIGMAP_BYTES = 900 * 1024;
export const recordKey = 'kubernetes-deploy-resource.io/release';

/** One run of `npm run bench:scale`. */
export interface ScaleBench {
  say(message: string): void;
  admin: AdminSource;
  api: Api;
  runId: string;
  ids: Identities;
  /** A temporary directory, removed at the end. */
  work: string;
  monitor: DisruptionMonitor;
  /** The namespace of both apps (big and tiny). */
  namespace: string;
  /** The byte counters made so far, closed at the end. */
  counters: ByteCounter[];
}

export function startScaleBench(): ScaleBench {
  const started = performance.now();
  const say = (m: string) =>
    process.stderr.write(`[bench:scale ${((performance.now() - started) / 1000).toFixed(1)}s] ${m}\n`);

  const admin = readAdminSource();
  const api = new Api(admin);
  const runId = Date.now().toString(36).slice(-6);
  const ids = new Identities(admin, runId);
  const work = mkdtempSync(join(tmpdir(), 'kdr-bench-scale-'));
  const monitor = new DisruptionMonitor();
  const namespace = `kdr-bench-${runId}-scale`;
  const counters: ByteCounter[] = [];
  return { say, admin, api, runId, ids, work, monitor, namespace, counters };
}

export { fail } from './proc.js';
