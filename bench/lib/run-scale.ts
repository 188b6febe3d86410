// npm run bench (bench/run.ts), section 4: scale: N releases deployed, then torn down, in one namespace; sequential
// and bounded-concurrent puts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pool, run, stats } from './proc.js';
import type { ScalePhase, ScaleRow } from './results.js';
import { scaleRan } from './results.js';
import { BUDGET_MS, CONCURRENCY, concourseEnv, fail, request, SCALE, type BenchRun } from './run-context.js';

export async function benchScale(bench: BenchRun): Promise<ScaleRow[]> {
  const { started: benchStarted, ids, runId, work, assets, newNamespace, api, disrupted, say } = bench;
  const rows: ScaleRow[] = [];
  const modes: [string, number][] = [
    ['sequential', 1],
    [`${CONCURRENCY} at once`, CONCURRENCY],
  ];
  for (const [mode, limit] of modes) {
    for (const n of SCALE) {
      const elapsed = performance.now() - benchStarted;
      // a conservative guess of this step's cost from the fastest per-release time seen so far
      const perRelease = rows
        .filter(scaleRan)
        .filter((r) => r.limit === limit)
        .map((r) => (r.deploy.wallMs + r.teardown.wallMs) / r.n);
      const guess = (perRelease.length ? Math.min(...perRelease) : 3000) * n;
      if (elapsed + guess > BUDGET_MS) {
        rows.push({
          mode,
          limit,
          n,
          skipped:
            `skipped: would end after the ${BUDGET_MS / 1000} s budget ` +
            `(${Math.round(elapsed / 1000)} s used, ~${Math.round(guess / 1000)} s needed)`,
        });
        say(`scale ${mode} N=${n}: skipped (budget)`);
        continue;
      }
      const ns = await newNamespace(`s${limit}n${n}`);
      const apps = Array.from({ length: n }, (_, i) => `r${i + 1}`);
      const phase = async (
        what: string,
        params: (app: string, i: number) => Record<string, unknown>,
      ): Promise<ScalePhase> => {
        // one identity per put, so the audit log gives each release's requests exactly
        const prefix = `scale-c${limit}-n${n}-${what}`;
        const idOf = apps.map((app) => ids.get(`${prefix}-${app}`));
        const t0 = performance.now();
        const runs = await pool(apps, limit, async (app, i) => {
          const sources = mkdtempSync(join(work, 'sources-'));
          const r = await run(assets('out'), [sources], {
            input: request(idOf[i]!, ns, app, params(app, i)),
            env: concourseEnv({ BUILD_NAME: String(i + 1) }),
            rss: true,
            timeoutMs: 240_000,
          });
          rmSync(sources, { recursive: true, force: true });
          if (r.code !== 0) fail(`scale ${what} ${app}`, r);
          return r;
        });
        const wallMs = performance.now() - t0;
        const per = runs.map((r) => r.ms);
        return {
          userPrefix: `kdr-bench-${runId}-${prefix}-`,
          wallMs,
          perReleaseMs: wallMs / n,
          putMs: stats(per),
          peakRssKb: Math.max(...runs.map((r) => r.peakRssKb ?? 0)) || undefined,
          disruptedPuts: runs.filter((r) => disrupted(r.startedAt, r.endedAt)).length,
          load1: os.loadavg()[0] ?? Number.NaN,
        };
      };
      const deploy = await phase('deploy', (app, i) => ({
        image_ref: `registry.example.com/bench/app-${i + 1}:1.0`,
        replicas: 1,
        host: `${app}.bench.local`,
      }));
      const teardown = await phase('teardown', () => ({ delete: true }));
      await api.deleteNamespaces([ns]);
      rows.push({ mode, limit, n, ns, deploy, teardown });
      say(
        `scale ${mode} N=${n}: deploy ${Math.round(deploy.perReleaseMs)} ms/release, ` +
          `teardown ${Math.round(teardown.perReleaseMs)} ms/release`,
      );
    }
  }
  return rows;
}
