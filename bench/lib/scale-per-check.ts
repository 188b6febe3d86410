// npm run bench:scale (bench/scale.ts), part 1: one check at a time, as Concourse runs it (a process each), of the
// big app and the tiny one, today's and before issue 28 and kubectl beside them: bytes on the wire, requests, time.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { auditLogPath, repoRoot as root } from '../../test/support/cluster.js';
import { auditOffset, readBenchEvents, describe as describeEvent } from './audit.js';
import { ByteCounter } from './byte-counter.js';
import type { Identity } from './cluster.js';
import { KUBECTL } from './machine.js';
import { median, nodeBin, run, scriptEnv, stats, type ProcessResult } from './proc.js';
import { fail, recordKey, ROUNDS, type ScaleBench } from './scale-context.js';
import { scaleLabels } from './scale-report.js';

/** Today's check and the one before issue 28, bundled alike (no launcher, no code cache: only the list differs). */
export async function buildChecks(bench: ScaleBench): Promise<{ today: string; before: string; load: string }> {
  const { work } = bench;
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node24',
    format: 'cjs' as const,
    minify: true,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
    alias: { undici: join(root, 'scripts', 'bundle', 'undici-stub.mjs') },
  };
  const today = join(work, 'check-today.cjs');
  const before = join(work, 'check-before.cjs');
  await build({ ...common, entryPoints: [join(root, 'src', 'entrypoints', 'check.ts')], outfile: today });
  await build({ ...common, entryPoints: [join(root, 'bench', 'lib', 'full-list-check.ts')], outfile: before });
  const load = join(work, 'scale-checks.cjs');
  await build({ ...common, entryPoints: [join(root, 'bench', 'lib', 'scale-checks.ts')], outfile: load });
  return { today, before, load };
}

/** One put of app `app` (image tag `tag`), with a ConfigMap of `bytes` random characters when bytes > 0. */
export async function put(bench: ScaleBench, app: string, tag: number, bytes: number): Promise<void> {
  const { ids, work, namespace } = bench;
  const sources = mkdtempSync(join(work, 'src-'));
  const manifests: string[] = [];
  if (bytes > 0) {
    // Base64 of random bytes: it hardly compresses, so each recorded revision is about this big.
    const blob = randomBytes(Math.ceil((bytes * 3) / 4))
      .toString('base64')
      .slice(0, bytes);
    writeFileSync(
      join(sources, 'data.yml'),
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${app}-data` }, data: { blob } }),
    );
    manifests.push('data.yml');
  }
  const r = await run(join(root, 'assets', 'out'), [sources], {
    input: JSON.stringify({
      source: { ...ids.get('put').source, namespace, app },
      params: { image_ref: `registry.example.com/bench/${app}:${tag}`, manifests, wait: false },
    }),
    env: scriptEnv({ BUILD_NAME: String(tag), BUILD_JOB_NAME: 'bench', BUILD_PIPELINE_NAME: 'bench' }),
  });
  if (r.code !== 0) fail(`put ${app} ${tag}`, r);
  rmSync(sources, { recursive: true, force: true });
}

/** A source (and kubeconfig) of identity `name` whose traffic goes through a byte counter of its own. */
async function counted(
  bench: ScaleBench,
  name: string,
): Promise<{ id: Identity; counter: ByteCounter; source: Identity['source'] }> {
  const { admin, ids, counters } = bench;
  const id = ids.get(name);
  const counter = new ByteCounter(new URL(admin.cluster_url));
  counters.push(counter);
  const url = await counter.url();
  const kubeconfig = JSON.parse(readFileSync(id.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  kubeconfig.clusters[0]!.cluster.server = url;
  writeFileSync(id.kubeconfig, JSON.stringify(kubeconfig), { mode: 0o600 });
  return { id, counter, source: { ...id.source, cluster_url: url } };
}

interface Variant {
  label: string;
  app: string;
  kind: 'ours' | 'before' | 'baseline';
  counter: ByteCounter;
  user: string;
  run: () => Promise<ProcessResult>;
}

/** The checks measured one at a time: ours (the shipped script, the bench's build, before issue 28) and kubectl's. */
async function variantsOf(bench: ScaleBench, bundles: { today: string; before: string }): Promise<Variant[]> {
  const { work, namespace } = bench;
  const checkOf = async (label: string, name: string, app: string, file: string | undefined, kind: Variant['kind']) => {
    const { id, counter, source } = await counted(bench, name);
    const input = JSON.stringify({ source: { ...source, namespace, app } });
    const runIt = () =>
      file ? run(nodeBin, [file], { input, rss: true }) : run(join(root, 'assets', 'check'), [], { input, rss: true });
    return { label, app, kind, counter, user: id.user, run: runIt } satisfies Variant;
  };
  const kubectlVariant = async (): Promise<Variant> => {
    const { id, counter } = await counted(bench, 'kubectl');
    const runIt = () => {
      const cacheDir = mkdtempSync(join(work, 'kubectl-cache-'));
      const args = ['--kubeconfig', id.kubeconfig, '--cache-dir', cacheDir, 'get', 'secrets', '-n', namespace];
      return run(KUBECTL, [...args, '-l', `${recordKey}=big`, '-o', 'name'], { rss: true }).finally(() =>
        rmSync(cacheDir, { recursive: true, force: true }),
      );
    };
    return {
      label: 'kubectl get secrets -l … -o name (cold cache)',
      app: 'big',
      kind: 'baseline',
      counter,
      user: id.user,
      run: runIt,
    };
  };
  return [
    await checkOf(scaleLabels.big, 'check-big', 'big', undefined, 'ours'),
    await checkOf(scaleLabels.tiny, 'check-tiny', 'tiny', undefined, 'ours'),
    await checkOf(scaleLabels.todayBig, 'today-big', 'big', bundles.today, 'ours'),
    await checkOf(scaleLabels.beforeBig, 'before-big', 'big', bundles.before, 'before'),
    await checkOf('check before issue 28 (full list), 1 tiny', 'before-tiny', 'tiny', bundles.before, 'before'),
    await kubectlVariant(),
  ];
}

export async function perCheck(bench: ScaleBench, bundles: { today: string; before: string }) {
  const { monitor, say } = bench;
  const variants = await variantsOf(bench, bundles);
  say('per-check: warm-up round');
  const outputs: Record<string, string> = {};
  for (const v of variants) {
    const r = await v.run();
    if (r.code !== 0) fail(v.label, r);
    outputs[v.label] = r.stdout.trim();
  }
  for (const v of variants) {
    v.counter.received = 0;
    v.counter.sent = 0;
    v.counter.connections = 0;
  }
  // Requests are counted from the audit log when the cluster writes one (the local test cluster does).
  const audit = existsSync(auditLogPath) ? auditOffset() : undefined;
  const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.label, []]));
  const rss: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.label, []]));
  const runs: Record<string, number> = Object.fromEntries(variants.map((v) => [v.label, 0]));
  const rounds: Record<string, number>[] = [];
  let excluded = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const round: Record<string, number> = {};
    rounds.push(round);
    for (const v of [...variants].sort(() => Math.random() - 0.5)) {
      const r = await v.run();
      runs[v.label]!++;
      if (r.code !== 0) fail(v.label, r);
      if (monitor.overlaps(r.startedAt, r.endedAt)) {
        excluded++;
        continue;
      }
      times[v.label]!.push(r.ms);
      if (r.peakRssKb) rss[v.label]!.push(r.peakRssKb);
      round[v.label] = r.ms;
    }
    if ((i + 1) % 5 === 0) say(`per-check: round ${i + 1}/${ROUNDS}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 3000)); // the audit log is written asynchronously
  const events = audit ? readBenchEvents(audit) : new Map<string, never[]>();
  const perVariant = variants.map((v) => {
    const evs = events.get(v.user) ?? [];
    const kinds = [...new Set(evs.map((e) => describeEvent(e)))];
    return {
      label: v.label,
      app: v.app,
      kind: v.kind,
      runs: runs[v.label]!,
      stats: stats(times[v.label]!),
      bytesReceived: v.counter.received / runs[v.label]!,
      bytesSent: v.counter.sent / runs[v.label]!,
      connections: v.counter.connections / runs[v.label]!,
      requests: audit ? evs.length / runs[v.label]! : NaN,
      requestKinds: kinds.slice(0, 6),
      peakRssKb: median(rss[v.label]!),
      output: outputs[v.label] ?? '',
    };
  });
  return { variants: perVariant, rounds, excluded };
}
