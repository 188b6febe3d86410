// npm run bench:scale (bench/scale.ts), part 2: load: N concurrent checks of the big app in this process (each on a
// connection of its own), with kube-apiserver's CPU time, beside the list request kubectl makes under the same load.
//
// Importing this file wraps https.Agent.prototype.createConnection (see socketsOfCheck): only bench/scale.ts does.
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { apiserverPidFile } from '../../test/support/apiserver.js';
import type { Identity } from './cluster.js';
import { KUBECTL } from './machine.js';
import { FULL_LOADS, LOADS, recordKey, type ScaleBench } from './scale-context.js';
import type { ScaleChecks } from './scale-checks.js';
import { scaleLabels, type LoadRun } from './scale-report.js';

/** kube-apiserver's CPU time so far (user + system, all threads), in seconds. */
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function apiserverCpuSeconds(): number {
  const pid = readFileSync(apiserverPidFile, 'utf8').trim();
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const after = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
  return (Number(after[11]) + Number(after[12])) / ticks;
}

// Each in-process check connects afresh (a new TLS connection, as a new process does) and its sockets are closed
// when it ends (a process's are at exit): the agents' sockets made under a check are collected here.
const socketsOfCheck = new AsyncLocalStorage<Set<Socket>>();
const createConnection = https.Agent.prototype.createConnection;
https.Agent.prototype.createConnection = function (this: https.Agent, ...args: unknown[]) {
  const socket = (createConnection as (...a: unknown[]) => Socket).apply(this, args);
  socketsOfCheck.getStore()?.add(socket);
  return socket;
} as typeof createConnection;

async function once(work: () => Promise<unknown>): Promise<void> {
  const sockets = new Set<Socket>();
  try {
    await socketsOfCheck.run(sockets, work);
  } finally {
    for (const s of sockets) s.destroy();
  }
}

async function load(bench: ScaleBench, label: string, concurrency: number, total: number, one: () => Promise<unknown>) {
  const { monitor, say } = bench;
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  let firstError = '';
  const cpuBefore = apiserverCpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total) {
        issued++;
        const s = performance.now();
        try {
          await once(one);
          latencies.push(performance.now() - s);
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message.split('\n')[0] ?? '';
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = apiserverCpuSeconds() - cpuBefore;
  const disrupted = monitor.overlaps(t0, t0 + wallMs);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  const result: LoadRun = {
    label,
    concurrency,
    checks: latencies.length,
    errors,
    firstError,
    wallMs,
    perSecond: latencies.length / (wallMs / 1000),
    p50: pct(50),
    p99: pct(99),
    min: sorted[0] ?? NaN,
    max: sorted.at(-1) ?? NaN,
    apiserverCpuS: cpu,
    disrupted,
  };
  say(
    `load ${label} N=${concurrency}: ${result.checks} in ${(wallMs / 1000).toFixed(1)} s, ` +
      `${result.perSecond.toFixed(1)}/s, p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, ` +
      `apiserver ${cpu.toFixed(2)} CPU-s${errors ? `, ${errors} errors (${firstError})` : ''}`,
  );
  return result;
}

/** The one list request kubectl's `get secrets -l … -o name` makes (URL and Accept header), read from its -v=8 log. */
function kubectlRequest(bench: ScaleBench): { path: string; accept: string; userAgent: string } {
  const { ids, work, namespace } = bench;
  const id = ids.get('kubectl-probe');
  const cacheDir = mkdtempSync(join(work, 'kubectl-probe-'));
  const args = ['--kubeconfig', id.kubeconfig, '--cache-dir', cacheDir, 'get', 'secrets', '-n', namespace];
  let text: string;
  try {
    // -v=8 logs each request with its headers on stderr.
    const r = spawnSync(KUBECTL, [...args, '-l', `${recordKey}=big`, '-o', 'name', '-v=8'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kubectl -v=8: exit ${r.status}: ${r.stderr.slice(-2000)}`);
    text = r.stderr;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const url = /https:\/\/[^\s"'>]+\/secrets\?[^\s"'>]+/.exec(text)?.[0];
  if (!url) throw new Error(`kubectl -v=8 showed no list of secrets:\n${text.slice(-2000)}`);
  const afterUrl = text.slice(text.indexOf(url));
  const accept = /Accept:\s*([^\n>"]+)/.exec(afterUrl)?.[1]?.trim() ?? 'application/json';
  const userAgent = /User-Agent:\s*([^\n>"]+)/.exec(afterUrl)?.[1]?.trim() ?? 'kubectl';
  const parsed = new URL(url);
  return { path: parsed.pathname + parsed.search, accept, userAgent };
}

/** The same request as kubectl, on a fresh TLS connection (agent without keep-alive). */
function replay(source: Identity['source'], request: { path: string; accept: string; userAgent: string }) {
  const base = new URL(source.cluster_url);
  const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const tls = { ca: pem(source.cluster_ca), cert: pem(source.admin_cert), key: pem(source.admin_key) };
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = https.request(
        {
          host: base.hostname,
          port: base.port,
          path: request.path,
          method: 'GET',
          agent: new https.Agent({ ...tls, keepAlive: false }),
          ...tls,
          // Go's transport asks for gzip on its own (kubectl's log does not show it); the answer is drained as is.
          headers: { Accept: request.accept, 'Accept-Encoding': 'gzip', 'User-Agent': request.userAgent },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end();
    });
}

export async function loads(
  bench: ScaleBench,
  module: string,
): Promise<{ runs: LoadRun[]; idleCpuPerS: number; kubectl: { path: string; accept: string } }> {
  const { ids, namespace } = bench;
  const source = ids.get('load').source;
  const { scaleChecks } = createRequire(import.meta.url)(module) as {
    scaleChecks: (request: { source: Record<string, unknown> }) => ScaleChecks;
  };
  const { today, before } = scaleChecks({ source: { ...source, namespace, app: 'big' } });
  const tiny = scaleChecks({ source: { ...source, namespace, app: 'tiny' } }).today;
  const kubectl = kubectlRequest(bench);
  const kubectlOnce = replay(source, kubectl);
  // Sanity: each answers as expected before it is loaded.
  const [a, b] = [await today(), await before()];
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the two checks disagree: ${JSON.stringify([a, b])}`);
  await kubectlOnce();
  // What the API server burns idle (controllers, the kubelet stand-in, other tests' watches), to take off.
  const idleFrom = apiserverCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const idleCpuPerS = (apiserverCpuSeconds() - idleFrom) / 5;
  const runs: LoadRun[] = [];
  for (const n of LOADS) {
    runs.push(await load(bench, scaleLabels.metadataLoad, n, 4 * n, today));
    // The floor: a check whose list is all but empty (what a new connection and one request cost).
    runs.push(await load(bench, scaleLabels.tinyLoad, n, 4 * n, tiny));
    if (FULL_LOADS.has(n)) runs.push(await load(bench, scaleLabels.fullLoad, n, 2 * n, before));
    runs.push(await load(bench, scaleLabels.kubectlLoad, n, 2 * n, kubectlOnce));
  }
  return { runs, idleCpuPerS, kubectl: { path: kubectl.path, accept: kubectl.accept } };
}
