// Renders bench/RESULTS.md (and bench/results.json) from the figures bench/run.ts gathered: one function per section,
// each returning its markdown lines; renderReport() puts them together (a pure function, unit-tested), writeReport()
// writes the files.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../test/support/cluster.js';
import { agentName, describe, isDiscovery, summarize, usec, type RequestSummary } from './audit.js';
import { cell, disruptedMark, kib, mb, ms, ratio, status, table } from './format.js';
import { median } from './proc.js';
import { putFigures } from './put-figures.js';
import type { AuditRecord, BenchResults, FullBenchResults, PutRep, ScaleRun } from './results.js';
import { scaleRan } from './results.js';

type Lines = string[];

/** The audit events of one identity (none when it made no request or there is no such user). */
const eventsOf = (r: BenchResults, user: string | undefined): AuditRecord[] => (user ? (r.audit[user] ?? []) : []);
const requestCount = (r: BenchResults, user: string) => eventsOf(r, user).length;
const requestsOfAll = (r: BenchResults, users: Record<string, string>) =>
  Object.values(users).reduce((total, user) => total + requestCount(r, user), 0);
const byAgent = (summary: RequestSummary) =>
  Object.entries(summary.byAgent)
    .map(([agent, n]) => `${agent} ${n}`)
    .join(', ') || '–';
const medianOrUndefined = (xs: number[]) => (xs.length ? median(xs) : undefined);
const maxOrUndefined = (xs: (number | undefined)[]) => Math.max(0, ...xs.map((x) => x ?? 0)) || undefined;

// ---- request lists

/** Every request of one process, in order, with start and server time relative to the first. */
export function requestList(events: readonly AuditRecord[]): string {
  if (!events.length) return '(no audit events)';
  const first = usec(events[0]!.requestReceivedTimestamp);
  return table(
    ['#', 'start (ms)', 'server time (ms)', 'request', 'code', 'user agent'],
    events.map((event, i) => {
      const start = (usec(event.requestReceivedTimestamp) - first) / 1000;
      const serverTime = (usec(event.stageTimestamp) - usec(event.requestReceivedTimestamp)) / 1000;
      return [
        i + 1,
        start.toFixed(1),
        event.verb === 'watch' ? `${serverTime.toFixed(0)} (open)` : serverTime.toFixed(1),
        `\`${describe(event)}\``,
        event.code ?? '',
        agentName(event.userAgent),
      ];
    }),
  );
}

/** Requests grouped by description, as counts per run (app and namespace names generalised to APP and NS). */
export function groupedRequests(events: readonly AuditRecord[] | undefined, runs: number): string {
  const counts = new Map<string, number>();
  const discoveryRoots = new Map<string, number>();
  let groupVersions = 0;
  for (const event of events ?? []) {
    if (isDiscovery(event)) {
      const path = event.requestURI.split('?')[0] ?? '';
      if (/^\/apis?\/[^/]+/.test(path) && !path.startsWith('/openapi')) groupVersions++;
      else discoveryRoots.set(path, (discoveryRoots.get(path) ?? 0) + 1);
      continue;
    }
    const key = describe(event).replace(
      /\(([^)]*)\)/,
      (_, inner: string) =>
        `(${inner.replace(/\b(r\d+|web)\b/g, 'APP').replace(/kdr-bench-[a-z0-9]+-[a-z0-9]+/g, 'NS')})`,
    );
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const times = (n: number) => (n / runs !== 1 ? ` ×${+(n / runs).toFixed(2)}` : '');
  const discovery = [
    ...[...discoveryRoots].map(([path, n]) => `GET ${path}${times(n)}`),
    ...(groupVersions ? [`GET /api/v1 + /apis/GROUP/VERSION ×${+(groupVersions / runs).toFixed(2)}`] : []),
  ];
  return [
    ...(discovery.length ? [`discovery: ${discovery.join(', ')}`] : []),
    ...[...counts].map(([key, n]) => `\`${key}\`${times(n)}`),
  ].join('; ');
}

/** Requests made more than once in one process (same verb, resource and name or selector). */
function repeatedRequests(events: readonly AuditRecord[]): string {
  const counts = new Map<string, number>();
  for (const event of events)
    if (event.verb !== 'watch') counts.set(describe(event), (counts.get(describe(event)) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1);
  return repeated.length ? repeated.map(([key, n]) => `\`${key}\` ×${n}`).join(', ') : 'none';
}

/** How many of the non-watch requests overlapped another one in time. */
function overlappingRequests(events: readonly AuditRecord[]): { requests: number; overlapped: number } {
  const spans = events
    .filter((event) => event.verb !== 'watch')
    .map((event) => [usec(event.requestReceivedTimestamp), usec(event.stageTimestamp)] as const);
  const overlapped = spans.filter((a, i) => spans.some((b, j) => j !== i && b[0] < a[1] && a[0] < b[1])).length;
  return { requests: spans.length, overlapped };
}

// ---- sections

/** Title, when and where it ran, how to reproduce it, and the method. */
export function machineSection(r: FullBenchResults): Lines {
  const m = r.machine;
  const hashes = Object.entries(r.bundleHashes)
    .map(([script, hash]) => `${script} \`${hash}…\``)
    .join(', ');
  const disruptions = r.disruptions.map(([from, to]) => `${from.toFixed(0)}–${to.toFixed(0)} s`).join(', ');
  return [
    '# Benchmarks (issue 7)',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${r.started.slice(0, 10)} at ${r.started.slice(11, 19)} UTC, ` +
      `run \`${r.runId}\`, in ${ms(r.totalMs)} (measurements ${ms(r.benchMs)}, then namespace clean-up).`,
    'Every figure has its baseline from the same run beside it. These machines are shared: the load average shows ' +
      'how much else ran.',
    r.disruptions.length
      ? `**kube-apiserver was restarted ${r.disruptions.length}× during this run** (another session's disruptive ` +
        `tests kill and restart it), at ${disruptions} into the run. Check runs that overlapped a restart are left ` +
        `out of the statistics (${r.check.excluded} left out); every other figure that overlapped one is marked ⚠ — ` +
        're-run `npm run bench` for clean figures.'
      : "No kube-apiserver restart was seen during this run (the bench watches for them: other sessions' disruptive " +
        'tests kill and restart it).',
    '',
    table(
      ['machine', ''],
      [
        ['nproc', m.nproc],
        ['CPU', m.cpu],
        ['memory', `${m.memGb} GiB`],
        ['node', `${m.node} (the bundles' runtime; \`node -e 0\` below is this binary)`],
        ['kubectl', `${m.kubectl} (built with the test cluster) against kube-apiserver ${m.server ?? '?'}`],
        ['kernel', m.kernel],
        ['load average (1/5/15 min) at start → end', `${m.loadStart} → ${m.loadEnd ?? '?'}`],
        ['commit', m.git],
        [
          'bundles measured',
          'built by `npm run build` at the start of the run and copied aside (a concurrent rebuild cannot swap ' +
            `them); sha256 ${hashes}`,
        ],
      ],
    ),
    '',
    '**Reproduce:** `npm ci && npm run cluster:up && npm run bench` (builds the bundles first). Knobs: ' +
      '`BENCH_ROUNDS` (check rounds, 15), `BENCH_PUT_REPS` (5), `BENCH_FAIL_REPS` (3), `BENCH_SCALE` (`10,25,50`), ' +
      '`BENCH_CONCURRENCY` (4), `BENCH_BUDGET_S` (540), `BENCH_LIFECYCLE_REPS` (2), `BENCH_SWEEP_N` (20); ' +
      '`BENCH_ONLY=prune,rollback,workloads,sweep` (or put, check, fail, scale) runs only those sections and prints ' +
      'them instead of writing this file. Raw figures and every audit event of the run: `bench/results.json`. The ' +
      "audit log is read across kube-apiserver's rotations (`audit-*.log`).",
    '',
    '**Method.** Wall times are from spawn to exit of each process (`performance.now()` in the bench process). API ' +
      "requests are counted from kube-apiserver's audit log (`ResponseComplete` lines): each measured process gets " +
      "its own client certificate (`CN=kdr-bench-<run>-<step>`, `O=system:masters`, signed by the test cluster's " +
      'CA), so requests are attributed by user name, exactly, even while other tests use the cluster; "user agent" ' +
      'splits them further (ours send `kubernetes-deploy-resource`, kubectl `kubectl/…`). Cluster-side times ' +
      '(Deployment created → Available; Pod shows `ErrImagePull`/`ImagePullBackOff`) come from watches the bench ' +
      'process holds open on the namespace (admin identity, not counted). kubectl runs are cold: a fresh ' +
      '`--cache-dir` per process, as in a fresh container. All traffic goes to 127.0.0.1.',
    '',
  ];
}

/** The scale runs' growth of per-release time from the smallest N to the largest (1.00× is linear). */
function scaleGrowth(rows: readonly ScaleRun[], limit: number | undefined, phase: 'deploy' | 'teardown') {
  const runs = rows.filter((row) => row.limit === limit);
  if (runs.length < 2) return undefined;
  return runs.at(-1)![phase].perReleaseMs / runs[0]![phase].perReleaseMs;
}

/** Peak RSS per script (KiB; undefined where not measured). */
function peakRssRows(r: FullBenchResults): [string, number | undefined][] {
  const reps = r.put.reps;
  const scaleRuns = r.scale.filter(scaleRan);
  return [
    ['check', r.check.peakRssKb],
    ['in', maxOrUndefined(reps.map((rep) => rep.in.peakRssKb))],
    ['out (deploy, 3 objects, 2 replicas)', maxOrUndefined(reps.map((rep) => rep.ours.peakRssKb))],
    ['out (re-put, unchanged)', reps[0]?.again.peakRssKb],
    ['out (failed rollout)', maxOrUndefined(r.failOurs.map((run) => run.peakRssKb))],
    ['out (deploy, scale runs, max)', maxOrUndefined(scaleRuns.map((run) => run.deploy.peakRssKb))],
    ['out (teardown, scale runs, max)', maxOrUndefined(scaleRuns.map((run) => run.teardown.peakRssKb))],
  ];
}

/** The targets of issue 7 and issue 13's put targets, each with its status. */
export function targetsSection(r: FullBenchResults): Lines {
  const checkStats = r.check.stats;
  const nodeStart = checkStats['node -e 0']!.median;
  const kubectlGet = checkStats['kubectl get deployment']!.median;
  const check = checkStats.check!.median;
  const oneRequest = checkStats['one request, cold TLS (in the bench process)']!.median;
  const checkBudget = 1.5 * nodeStart + oneRequest;
  const put = putFigures(r.put);
  const firstRep = r.put.reps[0]!;
  const putRequests = summarize(eventsOf(r, firstRep.ours.user));
  const kubectlRequests = requestCount(r, firstRep.theirs.applyUser) + requestCount(r, firstRep.theirs.rolloutUser);
  const objects = 3;
  const watches = putRequests.watches;
  const detections = r.failOurs.map((run) => run.detectMs).filter((x) => x !== undefined);
  const slowestDetection = Math.max(...r.failOurs.map((run) => run.detectMs ?? Infinity));
  const scaleRuns = r.scale.filter(scaleRan);
  const concurrentLimit = r.scale.find((row) => row.limit > 1)?.limit;
  const growth = (limit: number | undefined, phase: 'deploy' | 'teardown') =>
    scaleGrowth(scaleRuns, limit, phase)?.toFixed(2) ?? '–';
  const sequentialGrowth = [scaleGrowth(scaleRuns, 1, 'deploy'), scaleGrowth(scaleRuns, 1, 'teardown')];
  const rssMax = Math.max(...peakRssRows(r).map(([, kb]) => kb ?? 0));
  const kubectlRss = maxOrUndefined(r.put.reps.map((rep) => rep.theirs.peakRssKb));
  const bundleMax = Math.max(...Object.values(r.sizes.bundles));
  const issue7 = table(
    ['target (issue 7)', 'measured', 'baseline (same run)', 'status'],
    [
      [
        'check ≤ 1.5× `node -e 0` + one request',
        `${ms(check)} median`,
        `1.5 × ${ms(nodeStart)} + ${ms(oneRequest)} (one cold-TLS request) = ${ms(checkBudget)}`,
        status(check <= checkBudget),
      ],
      [
        'check no slower than the kubectl check',
        `${ms(check)}`,
        `\`kubectl get deployment\` ${ms(kubectlGet)} (${ratio(check, kubectlGet)})`,
        status(check <= kubectlGet),
      ],
      [
        "put overhead ≤ 0.5× the kubectl way's",
        `${ms(put.overhead.ours.median)} median (${ratio(put.overhead.ours.median, put.overhead.kubectl.median)})`,
        `kubectl apply + rollout status: ${ms(put.overhead.kubectl.median)}`,
        status(put.overhead.ours.median <= 0.5 * put.overhead.kubectl.median),
      ],
      [
        '≤ one request per object + the watch',
        `${putRequests.total} requests (${watches} watches) for ${objects} objects`,
        `budget ${objects} + ${watches || 1} watch(es) = ${objects + (watches || 1)}; kubectl way ${kubectlRequests}`,
        status(putRequests.total <= objects + Math.max(1, watches)),
      ],
      [
        'failure detected ≤ 3 s after the Pod shows it',
        `${ms(medianOrUndefined(detections))} median, ${ms(slowestDetection)} max`,
        `kubectl: ${ms(r.failKubectl.detectMs)} (fails only at progressDeadlineSeconds)`,
        status(slowestDetection <= 3000),
      ],
      [
        'linear scale',
        scaleRuns.length >= 2
          ? `per-release time at the largest N ÷ at the smallest: deploy ${growth(1, 'deploy')}× / teardown ` +
            `${growth(1, 'teardown')}× (sequential), deploy ${growth(concurrentLimit, 'deploy')}× / teardown ` +
            `${growth(concurrentLimit, 'teardown')}× (concurrent)`
          : '–',
        '1.00× is linear (status: sequential runs, ≤ 1.25× counted as linear)',
        status(
          sequentialGrowth[0] === undefined ? undefined : sequentialGrowth.every((x) => x === undefined || x <= 1.25),
        ),
      ],
      ['peak RSS ≤ 100 MB per script', `${mb(rssMax)} max`, `kubectl ${mb(kubectlRss)}`, status(rssMax <= 100 * 1024)],
      ['each bundle ≤ 5 MB', `${kib(bundleMax)} max`, '5 MB', status(bundleMax <= 5e6)],
    ],
  );
  const putTarget = (label: string, ours: number, kubectl: number, limit: number, what: string) => [
    label,
    `${ms(ours)} median (${ratio(ours, kubectl)})`,
    `${what}: ${ms(kubectl)}`,
    status(ours <= limit * kubectl),
  ];
  const issue13 = table(
    ['target (issue 13): put', 'measured', 'baseline (same run)', 'status'],
    [
      putTarget(
        "put overhead ≤ 0.6× the kubectl way's (host: no compile cache)",
        put.overhead.ours.median,
        put.overhead.kubectl.median,
        0.6,
        'kubectl apply + rollout status, overhead',
      ),
      putTarget(
        "put overhead ≤ 0.6× the kubectl way's (with the compile cache: **what the image ships**)",
        put.overhead.oursCompileCache.median,
        put.overhead.kubectl.median,
        0.6,
        'kubectl apply + rollout status, overhead',
      ),
      putTarget(
        "no-op re-put ≤ 0.5× the kubectl way's (host: no compile cache)",
        put.reput.ours.median,
        put.reput.kubectl.median,
        0.5,
        'kubectl apply of the same file + rollout status, wall',
      ),
      putTarget(
        "no-op re-put ≤ 0.5× the kubectl way's (with the compile cache: **what the image ships**)",
        put.reput.oursCompileCache.median,
        put.reput.kubectl.median,
        0.5,
        'kubectl apply of the same file + rollout status, wall',
      ),
    ],
  );
  return [
    '## Targets',
    '',
    issue7,
    '',
    issue13,
    '',
    'Status is judged on the ratio of the medians over the reps of section 2. "Compile cache": the code caches ' +
      'the image ships, filled at build time (Dockerfile: `scripts/bundle/fill-code-cache.mjs` runs each script ' +
      "once against a stand-in API server, writing a V8 code cache per script, and fills Node's compile cache " +
      '`NODE_COMPILE_CACHE`); the bench makes them the same way. The "host" lines run `assets/out` without them. ' +
      "Issue 13's check targets are in the last section (`npm run bench:check`).",
    '',
    '![put overhead and the no-op re-put: medians with min–max whiskers](put.svg)',
    '',
  ];
}

/** Section 1: check's cold start beside `node -e 0` and kubectl get, and where its time goes. */
export function checkSection(r: FullBenchResults): Lines {
  const stats = r.check.stats;
  const medianOf = (variant: string) => stats[variant]?.median ?? Number.NaN;
  const minOf = (variant: string) => stats[variant]?.min ?? Number.NaN;
  const nodeStart = medianOf('node -e 0');
  const kubectlGet = medianOf('kubectl get deployment');
  const check = medianOf('check');
  const loadOnly = 'check, validation error (load only)';
  const loadOnlyCached = 'validation error + NODE_COMPILE_CACHE';
  const cached = 'check + NODE_COMPILE_CACHE';
  const cachedEmpty = 'check + NODE_COMPILE_CACHE, empty cache (first run writes it)';
  const viaLoader = 'check via a loader calling module.enableCompileCache()';
  const lean = 'lean check probe (node:https, one list)';
  const oneRequest = 'one request, cold TLS (in the bench process)';
  const runs = r.check.rounds + 1; // + the warm-up run
  const checkRequests = summarize(eventsOf(r, r.check.users.check));
  const kubectlRequests = summarize(eventsOf(r, r.check.users.kubectlGet));
  return [
    `## 1. check cold start (${r.check.rounds} rounds, each running every variant once in a random order, after ` +
      'one unmeasured warm-up round)',
    '',
    table(
      ['process', 'median', 'min', 'max', '÷ `node -e 0`', '÷ kubectl get'],
      Object.entries(stats).map(([variant, s]) => [
        variant,
        ms(s.median),
        ms(s.min),
        ms(s.max),
        ratio(s.median, nodeStart),
        ratio(s.median, kubectlGet),
      ]),
    ),
    '',
    `Against a release that exists (\`check\` returned ${JSON.stringify(r.check.checkOutput)}).`,
    `Requests per run (audit log): check ${+(checkRequests.total / runs).toFixed(2)} ` +
      `(${groupedRequests(eventsOf(r, r.check.users.check), runs)}); \`kubectl get deployment -o json\` with a ` +
      `fresh cache dir ${+(kubectlRequests.total / runs).toFixed(2)}, of which discovery ` +
      `${+(kubectlRequests.discovery / runs).toFixed(2)} ` +
      `(${groupedRequests(eventsOf(r, r.check.users.kubectlGet), runs)}).`,
    '',
    "**Where check's time goes** (medians):",
    '',
    table(
      ['part', 'time (medians)', 'time (minima)', 'how'],
      [
        ['Node start', ms(nodeStart), ms(minOf('node -e 0')), '`node -e 0`'],
        [
          'loading the bundle (read, compile, run module top levels)',
          ms(medianOf(loadOnly) - nodeStart),
          ms(minOf(loadOnly) - minOf('node -e 0')),
          '`check` with `{}` on stdin (exit 2 before any network) − `node -e 0`',
        ],
        [
          'the work: TLS + credentials + 1 list + output',
          ms(check - medianOf(loadOnly)),
          ms(minOf('check') - minOf(loadOnly)),
          '`check` − the validation-error run (noisy: a difference of two noisy figures)',
        ],
        [
          '… of which one request on a fresh TLS connection',
          ms(medianOf(oneRequest)),
          ms(minOf(oneRequest)),
          'in the (warm) bench process',
        ],
        [
          'bundle load with NODE_COMPILE_CACHE (warm cache)',
          ms(medianOf(loadOnlyCached) - nodeStart),
          ms(minOf(loadOnlyCached) - minOf('node -e 0')),
          `saves ${ms(medianOf(loadOnly) - medianOf(loadOnlyCached))} per run (medians)`,
        ],
        [
          'whole check with NODE_COMPILE_CACHE (warm cache)',
          ms(medianOf(cached)),
          ms(minOf(cached)),
          `${ratio(medianOf(cached), nodeStart)} \`node -e 0\`, ${ratio(medianOf(cached), kubectlGet)} kubectl get`,
        ],
        [
          'whole check with NODE_COMPILE_CACHE, empty cache (first run writes it)',
          ms(medianOf(cachedEmpty)),
          ms(minOf(cachedEmpty)),
          `${ratio(medianOf(cachedEmpty), check)} plain check: the cost of writing the cache`,
        ],
        [
          'whole check via a loader calling `module.enableCompileCache()` (bench/lib/compile-cache-loader.mjs)',
          ms(medianOf(viaLoader)),
          ms(minOf(viaLoader)),
          `${ratio(medianOf(viaLoader), check)} plain check`,
        ],
        [
          'a lean check: node:https, one list, no client library (bench/lib/lean-check.mjs)',
          ms(medianOf(lean)),
          ms(minOf(lean)),
          `${ratio(medianOf(lean), nodeStart)} \`node -e 0\`, ${ratio(medianOf(lean), kubectlGet)} kubectl get: the ` +
            'floor for check',
        ],
        ...Object.entries(r.check.probes).map(([name, bytes]) => [
          `load ${name} alone (bundled like the assets: ${kib(bytes)})`,
          ms(medianOf(`load ${name} alone`) - nodeStart),
          ms(minOf(`load ${name} alone`) - minOf('node -e 0')),
          '`node <probe bundle>` − `node -e 0`',
        ]),
      ],
    ),
    '',
  ];
}

/** Section 2: a first put, ours beside kubectl apply + rollout status; then the no-op re-put; requests of each. */
export function putSection(r: FullBenchResults): Lines {
  const reps = r.put.reps;
  const put = putFigures(r.put);
  const medianOf = (f: (rep: PutRep) => number) => median(reps.map(f));
  const firstRep = reps[0]!;
  const summaryOf = (user: string | undefined) => summarize(eventsOf(r, user));
  const requestRow = (label: string, s: RequestSummary) => [label, s.total, byAgent(s), s.discovery, s.watches];
  const ours = summaryOf(firstRep.ours.user);
  const apply = summaryOf(firstRep.theirs.applyUser);
  const rollout = summaryOf(firstRep.theirs.rolloutUser);
  const reapply = summaryOf(firstRep.theirsAgain.applyUser);
  const rerollout = summaryOf(firstRep.theirsAgain.rolloutUser);
  const firstPutEvents = eventsOf(r, firstRep.ours.user);
  const overlap = overlappingRequests(firstPutEvents);
  const repLabel = (rep: PutRep, i: number) => `${i + 1}${disruptedMark(rep.ours.disrupted || rep.theirs.disrupted)}`;
  const cacheAndReputLabel = (rep: PutRep, i: number) =>
    `${i + 1}${disruptedMark(
      rep.oursCompileCache.disrupted ||
        rep.again.disrupted ||
        rep.againCompileCache.disrupted ||
        rep.theirsAgain.disrupted,
    )}`;
  return [
    '## 2. put of a 3-object release (Deployment + Service + Ingress, 2 replicas) into a fresh namespace',
    '',
    'Both ways deploy into a namespace the bench created just before (so neither pays for the namespace). Ours: ' +
      "`assets/out` with `image_ref`, `replicas: 2`, `host`, `ingress_class`. The kubectl way: `in`'s " +
      '`manifests.yml` of that release, `kubectl apply -n NS -f manifests.yml` then `kubectl rollout status ' +
      'deployment/web`, two cold processes. "Cluster" = Deployment ADDED → `Available=True` with all replicas ' +
      "available, seen by the bench's watch; overhead = wall − cluster.",
    '',
    table(
      [
        'rep',
        'ours: wall',
        'ours: cluster',
        'ours: overhead',
        'kubectl: apply',
        'kubectl: rollout status',
        'kubectl: wall',
        'kubectl: cluster',
        'kubectl: overhead',
        'overhead ratio',
      ],
      reps.map((rep, i) => [
        repLabel(rep, i),
        ms(rep.ours.ms),
        ms(rep.ours.clusterMs),
        ms(rep.ours.overheadMs),
        ms(rep.theirs.applyMs),
        ms(rep.theirs.rolloutMs),
        ms(rep.theirs.ms),
        ms(rep.theirs.clusterMs),
        ms(rep.theirs.overheadMs),
        ratio(rep.ours.overheadMs, rep.theirs.overheadMs),
      ]),
    ),
    `| **median** | **${ms(medianOf((rep) => rep.ours.ms))}** | ${ms(medianOf((rep) => rep.ours.clusterMs))} | ` +
      `**${ms(put.overhead.ours.median)}** | ${ms(medianOf((rep) => rep.theirs.applyMs))} | ` +
      `${ms(medianOf((rep) => rep.theirs.rolloutMs))} | **${ms(medianOf((rep) => rep.theirs.ms))}** | ` +
      `${ms(medianOf((rep) => rep.theirs.clusterMs))} | **${ms(put.overhead.kubectl.median)}** | ` +
      `**${ratio(put.overhead.ours.median, put.overhead.kubectl.median)}** |`,
    '',
    `Ours, split (rep 1): spawn → Deployment created ${ms(firstRep.ours.startToCreated)}; created → Available ` +
      `${ms(firstRep.ours.clusterMs)}; Available → exit ${ms(firstRep.ours.availableToExit)}.`,
    '',
    table(
      ['API requests (rep 1, audit log)', 'total', 'by user agent', 'discovery', 'watches'],
      [
        requestRow('ours: `out`', ours),
        requestRow('ours: `out` again, same release (no-op re-put)', summaryOf(firstRep.again.user)),
        requestRow('ours: `in` (fetching the YAML)', summaryOf(firstRep.in.user)),
        requestRow('kubectl: `apply -f`', apply),
        requestRow('kubectl: `rollout status`', rollout),
        [
          'kubectl way, total',
          apply.total + rollout.total,
          '',
          apply.discovery + rollout.discovery,
          apply.watches + rollout.watches,
        ],
        requestRow('kubectl: `apply -f` again (no-op)', reapply),
        requestRow('kubectl: `rollout status` again', rerollout),
      ],
    ),
    '',
    `kubectl apply, grouped: ${groupedRequests(eventsOf(r, firstRep.theirs.applyUser), 1)}.`,
    '',
    `kubectl rollout status, grouped: ${groupedRequests(eventsOf(r, firstRep.theirs.rolloutUser), 1)}.`,
    '',
    '### Every request of one put (rep 1), in order',
    '',
    'Start = when the API server received it, relative to the first; server time = received → response complete ' +
      `(for a watch: how long it stayed open). ${overlap.overlapped} of the ${overlap.requests} non-watch requests ` +
      `overlapped another one in time. Repeated in this one put: ${repeatedRequests(firstPutEvents)}.`,
    '',
    requestList(firstPutEvents),
    '',
    '### The no-op re-put (same release again)',
    '',
    requestList(eventsOf(r, firstRep.again.user)),
    '',
    '### The compile cache and the no-op re-put (issue 13)',
    '',
    'Each rep also puts the same release into a third fresh namespace with the code caches the image ships, made ' +
      'as the Dockerfile makes them (`scripts/bundle/fill-code-cache.mjs`: a V8 code cache per script and ' +
      "Node's compile cache): that is how the image runs `out`. Then the no-op re-put: ours is `out` again with " +
      'the same params into its namespace ' +
      '(with and without the cache: it finds nothing to change, confirms the rollout and keeps the revision); the ' +
      'kubectl way is `kubectl apply -f manifests.yml` of the same file again + `kubectl rollout status`, two cold ' +
      'processes. A no-op re-put has no cluster time to subtract: its ratio is of the wall times.',
    '',
    table(
      [
        'rep',
        'put + cache: wall',
        'put + cache: cluster',
        'put + cache: overhead',
        'overhead ratio',
        're-put: ours',
        're-put: ours + cache',
        're-put: kubectl apply',
        're-put: kubectl rollout status',
        're-put: kubectl wall',
        're-put ratio (ours)',
        're-put ratio (+ cache)',
      ],
      reps.map((rep, i) => [
        cacheAndReputLabel(rep, i),
        ms(rep.oursCompileCache.ms),
        ms(rep.oursCompileCache.clusterMs),
        ms(rep.oursCompileCache.overheadMs),
        ratio(rep.oursCompileCache.overheadMs, rep.theirs.overheadMs),
        ms(rep.again.ms),
        ms(rep.againCompileCache.ms),
        ms(rep.theirsAgain.applyMs),
        ms(rep.theirsAgain.rolloutMs),
        ms(rep.theirsAgain.ms),
        ratio(rep.again.ms, rep.theirsAgain.ms),
        ratio(rep.againCompileCache.ms, rep.theirsAgain.ms),
      ]),
    ),
    `| **median** | **${ms(medianOf((rep) => rep.oursCompileCache.ms))}** | ` +
      `${ms(medianOf((rep) => rep.oursCompileCache.clusterMs))} | **${ms(put.overhead.oursCompileCache.median)}** | ` +
      `**${ratio(put.overhead.oursCompileCache.median, put.overhead.kubectl.median)}** | ` +
      `**${ms(put.reput.ours.median)}** | **${ms(put.reput.oursCompileCache.median)}** | ` +
      `${ms(medianOf((rep) => rep.theirsAgain.applyMs))} | ${ms(medianOf((rep) => rep.theirsAgain.rolloutMs))} | ` +
      `**${ms(put.reput.kubectl.median)}** | **${ratio(put.reput.ours.median, put.reput.kubectl.median)}** | ` +
      `**${ratio(put.reput.oursCompileCache.median, put.reput.kubectl.median)}** |`,
    '',
  ];
}

/** Section 3: an unpullable image, ours beside kubectl; then the recovery put. */
export function failureSection(r: FullBenchResults): Lines {
  const ours = r.failOurs;
  const kubectl = r.failKubectl;
  const detection = medianOrUndefined(ours.map((run) => run.detectMs).filter((x) => x !== undefined));
  const lines = [
    '## 3. Failure detection: unpullable image (`registry.example.com/bench/unpullable-app:1.0`, 2 replicas)',
    '',
    "Measured from the moment the bench's Pod watch first sees a container waiting in `ErrImagePull` or " +
      '`ImagePullBackOff` (the stand-in writes `ErrImagePull` first and `ImagePullBackOff` 1 s later; it does not ' +
      'log per-Pod timestamps) to the process exiting.',
    '',
    table(
      ['run', 'exit code', 'first seen', '→ exit', 'from ImagePullBackOff → exit', 'wall', 'message'],
      [
        ...ours.map((run, i) => [
          `ours ${i + 1}${disruptedMark(run.disrupted)}`,
          run.code ?? '',
          run.firstReason ?? '–',
          ms(run.detectMs),
          run.fromBackOffMs === undefined
            ? '–'
            : run.fromBackOffMs < 0
              ? `exited ${ms(-run.fromBackOffMs)} before it`
              : ms(run.fromBackOffMs),
          ms(run.ms),
          `\`${cell(run.error ?? '').slice(0, 220)}\``,
        ]),
        [
          `kubectl apply + rollout status${disruptedMark(kubectl.disrupted)}`,
          kubectl.code ?? '',
          kubectl.firstReason ?? '–',
          ms(kubectl.detectMs),
          '',
          ms(kubectl.ms),
          `\`${cell(kubectl.error ?? '')}\``,
        ],
      ],
    ),
    '',
    `Ours: ${ms(detection)} median from the Pod showing the pull failure to exit code 5. kubectl fails only at ` +
      `progressDeadlineSeconds (30 s set here; 600 s by default): ${ms(kubectl.detectMs)} after the Pod showed it, ` +
      `exit ${kubectl.code}, and without naming the Pod or the reason.`,
    '',
  ];
  const recovery = r.recovery ?? [];
  if (!recovery.length) return lines;
  const completeToExit = recovery.map((run) => run.completeToExitMs).filter((x) => x !== undefined);
  return [
    ...lines,
    '### The recovery put: good → unpullable (exit 5) → good again',
    '',
    "The put that restores the good image after a failed one (issue 10). Measured from the moment the bench's " +
      'Deployment watch sees the rollout complete again (observed generation, all replicas updated and available, ' +
      'the failed ReplicaSet scaled down) to the process exiting; target ≤ 0.5 s.',
    '',
    table(
      ['run', 'exit code', 'complete → exit', 'wall', 'API requests (audit log)'],
      recovery.map((run, i) => [
        `recovery ${i + 1}${disruptedMark(run.disrupted)}`,
        run.code ?? '',
        ms(run.completeToExitMs),
        ms(run.ms),
        requestCount(r, run.user),
      ]),
    ),
    '',
    `Median ${ms(medianOrUndefined(completeToExit))} from the Deployment rolling out again to exit code 0, wall ` +
      `${ms(median(recovery.map((run) => run.ms)))}. Requests of one recovery put (run 1), grouped: ` +
      `${groupedRequests(eventsOf(r, recovery[0]!.user), 1)}. Its \`on_failure: rollback\` counterpart and ` +
      "kubectl's `rollout undo` are in section 6b.",
    '',
  ];
}

/** Section 4: N releases deployed and torn down, sequentially and a few at once. */
export function scaleSection(r: FullBenchResults): Lines {
  const scaleRuns = r.scale.filter(scaleRan);
  const perRelease = (prefix: string) => {
    const counts = Object.keys(r.audit)
      .filter((user) => user.startsWith(prefix))
      .map((user) => r.audit[user]!.length);
    return counts.length
      ? {
          mean: counts.reduce((a, b) => a + b, 0) / counts.length,
          min: Math.min(...counts),
          max: Math.max(...counts),
        }
      : undefined;
  };
  const requestsPerRelease = (prefix: string) => {
    const c = perRelease(prefix);
    return c ? `${c.mean.toFixed(1)} (${c.min}–${c.max})` : '–';
  };
  const lines = [
    '## 4. Scale: N releases (distinct apps, Deployment + Service + Ingress, 1 replica each) deployed, then torn ' +
      'down, in one namespace',
    '',
    'Each put is its own `assets/out` process, as separate Concourse puts are. Per release = phase wall time ÷ N. ' +
      'Requests per release from the audit log (one client identity per put).',
    '',
    table(
      [
        'mode',
        'N',
        'load (1 min)',
        'deploy: wall',
        'deploy: per release',
        'deploy: one put median / max',
        'deploy: requests per release',
        'teardown: wall',
        'teardown: per release',
        'teardown: one put median / max',
        'teardown: requests per release',
      ],
      r.scale.map((row) => {
        if (!scaleRan(row)) return [row.mode, row.n, '', row.skipped, '', '', '', '', '', '', ''];
        const disrupted = row.deploy.disruptedPuts + row.teardown.disruptedPuts;
        return [
          `${row.mode}${disrupted ? ` ⚠ (${disrupted} puts overlapped an apiserver restart)` : ''}`,
          row.n,
          row.deploy.load1?.toFixed(1) ?? '–',
          ms(row.deploy.wallMs),
          ms(row.deploy.perReleaseMs),
          `${ms(row.deploy.putMs.median)} / ${ms(row.deploy.putMs.max)}`,
          requestsPerRelease(row.deploy.userPrefix),
          ms(row.teardown.wallMs),
          ms(row.teardown.perReleaseMs),
          `${ms(row.teardown.putMs.median)} / ${ms(row.teardown.putMs.max)}`,
          requestsPerRelease(row.teardown.userPrefix),
        ];
      }),
    ),
    '',
  ];
  const first = scaleRuns[0];
  const teardownSample = first ? eventsOf(r, `${first.teardown.userPrefix}r1`) : [];
  const deploySample = first ? eventsOf(r, `${first.deploy.userPrefix}r1`) : [];
  if (teardownSample.length)
    lines.push(
      '### Every request of one teardown (`delete: true`, 1 replica; the first release of the first scale run), in ' +
        'order',
      '',
      `Repeated in this one teardown: ${repeatedRequests(teardownSample)}.`,
      '',
      requestList(teardownSample),
      '',
    );
  if (deploySample.length)
    lines.push(
      `Deploy of the same release (1 replica): ${deploySample.length} requests — ` +
        `${groupedRequests(deploySample, 1)}.`,
      '',
    );
  return lines;
}

/** Section 5: peak RSS per script, bundle sizes and what fills the check bundle, the image. */
export function memoryAndSizeSection(r: FullBenchResults, rssMethod: string): Lines {
  const sizes = r.sizes;
  const kubectlRss = maxOrUndefined(r.put.reps.map((rep) => rep.theirs.peakRssKb));
  const image = sizes.image;
  const imageGrowth =
    image?.bytes === undefined || image.baseBytes === undefined ? undefined : image.bytes - image.baseBytes;
  return [
    '## 5. Peak RSS, bundle sizes, image',
    '',
    table(
      ['script', `peak RSS (${rssMethod})`, 'target'],
      [
        ...peakRssRows(r).map(([script, kb]) => [
          script,
          mb(kb),
          kb === undefined ? '–' : kb <= 100 * 1024 ? '≤ 100 MB ✓' : '> 100 MB ✗',
        ]),
        ['kubectl apply / rollout status (baseline)', mb(kubectlRss), ''],
      ],
    ),
    '',
    table(
      ['bundle', 'size', 'target'],
      [
        ...Object.entries(sizes.bundles).map(([script, bytes]) => [
          `assets/lib/${script}.cjs`,
          kib(bytes),
          bytes <= 5e6 ? '≤ 5 MB ✓' : '> 5 MB ✗',
        ]),
        ...Object.entries(sizes.sideModules ?? {}).map(([name, bytes]) => [
          `assets/lib/${name}.cjs (side module, loaded on first use)`,
          kib(bytes),
          '',
        ]),
      ],
    ),
    '',
    'The 10 largest inputs of the check bundle (esbuild metafile `assets/meta.json`, bytes in the minified output):',
    '',
    table(
      ['input', 'bytes in output'],
      sizes.checkTop.map((input) => [`\`${input.path}\``, kib(input.bytes)]),
    ),
    '',
    'The check bundle by package:',
    '',
    table(
      ['package', 'bytes in output', 'share'],
      sizes.byPackage
        .slice(0, 15)
        .map(([name, bytes]) => [name, kib(bytes), `${((100 * bytes) / sizes.bundles.check).toFixed(1)}%`]),
    ),
    '',
    image
      ? table(
          ['image', 'size', ''],
          [
            [
              image.name,
              kib(image.bytes),
              `built ${image.created?.slice(0, 19) ?? '?'}; ${ratio(image.bytes, image.baseBytes)} its base ` +
                `(+${kib(imageGrowth)})`,
            ],
            [`base: ${image.baseName}`, kib(image.baseBytes), `(${image.tool} image inspect)`],
          ],
        )
      : 'No image `localhost/kubernetes-deploy-resource:dev` in podman/buildah storage (run `npm run image:build`).',
    '',
  ];
}

/** 6a: a re-put that prunes an extra ConfigMap, ours beside kubectl apply --prune + rollout status. */
export function pruneSection(r: BenchResults): Lines {
  const reps = r.prune ?? [];
  if (!reps.length) return [];
  const ours = median(reps.map((rep) => rep.ours.ms));
  const kubectl = median(reps.map((rep) => rep.theirs.ms));
  const kubectlApply = median(reps.map((rep) => rep.theirs.applyMs));
  const ourRequests = (rep: (typeof reps)[number]) => requestCount(r, rep.ours.user);
  const kubectlRequests = (rep: (typeof reps)[number]) =>
    requestCount(r, rep.theirs.applyUser) + requestCount(r, rep.theirs.rolloutUser);
  const medianRequests = median(reps.map(ourRequests));
  const medianKubectlRequests = median(reps.map(kubectlRequests));
  return [
    '### 6a. Prune put (issue 10): a release with 2 extra ConfigMaps, re-put without one',
    '',
    'Ours: `out` with `manifests: [extra.yml]` (ConfigMaps `web-extra-a`, `web-extra-b`), then the measured re-put ' +
      'with only `web-extra-a` (`prune` on, its default; Deployment + Service + Ingress unchanged, 2 replicas): it ' +
      're-applies, confirms the rollout, records a new revision and deletes `web-extra-b`. The kubectl way: the same ' +
      'two revisions (their `manifests.yml` from `in`, one JSON file per object in a directory), the second applied ' +
      `with \`kubectl apply -n NS --prune -l ${reps[0]!.theirs.selector} --prune-allowlist KIND… -f DIR\` (the ` +
      'allowlist names ConfigMap, Secret, Service, Deployment, Ingress: the kinds the release holds, so both sides ' +
      'look at the same kinds), then `kubectl rollout status deployment/web`. kubectl ' +
      'prunes at once, whether or not the rollout goes well; ours prunes only after it, and only objects that still ' +
      "carry the release's labels.",
    '',
    table(
      [
        'rep',
        'ours: wall',
        'ours: requests',
        'ours: pruned',
        'kubectl: apply --prune',
        'kubectl: + rollout status',
        'kubectl: requests',
        'kubectl pruned it',
        'ratio (wall)',
        'ratio (requests)',
      ],
      reps.map((rep, i) => [
        `${i + 1}${disruptedMark(rep.ours.disrupted || rep.theirs.disrupted)}`,
        ms(rep.ours.ms),
        ourRequests(rep),
        `${rep.ours.pruned ?? '–'}${rep.ours.gone ? '' : ' (still there!)'}`,
        ms(rep.theirs.applyMs),
        ms(rep.theirs.ms),
        `${kubectlRequests(rep)} ` +
          `(${requestCount(r, rep.theirs.applyUser)} + ${requestCount(r, rep.theirs.rolloutUser)})`,
        rep.theirs.gone ? 'yes' : 'no',
        ratio(rep.ours.ms, rep.theirs.ms),
        ratio(ourRequests(rep), kubectlRequests(rep)),
      ]),
    ),
    `| **median** | **${ms(ours)}** | ${medianRequests} | | ${ms(kubectlApply)} | **${ms(kubectl)}** | ` +
      `${medianKubectlRequests} | | **${ratio(ours, kubectl)}** | ` +
      `**${ratio(medianRequests, medianKubectlRequests)}** |`,
    '',
    `Ours ÷ \`kubectl apply --prune\` alone (no rollout check): ${ratio(ours, kubectlApply)}. Requests of one prune ` +
      `put (rep 1), grouped: ${groupedRequests(eventsOf(r, reps[0]!.ours.user), 1)}. \`kubectl apply --prune\`, ` +
      `grouped: ${groupedRequests(eventsOf(r, reps[0]!.theirs.applyUser), 1)}.`,
    '',
  ];
}

/** 6b: a failed put with on_failure: rollback, ours beside kubectl's apply, status, rollout undo, status. */
export function rollbackSection(r: BenchResults): Lines {
  const rep = r.rollback?.[0];
  if (!rep) return [];
  const kubectlRequests = requestsOfAll(r, rep.theirs.users);
  const steps = (stepsMs: Record<string, number>) =>
    Object.entries(stepsMs)
      .map(([step, msec]) => `${step} ${ms(msec)}`)
      .join(', ');
  return [
    '### 6b. Rollback (issue 10): good → unpullable image with `on_failure: rollback`',
    '',
    'Ours: a put of `registry.example.com/bench/unpullable-app:2.0` over a deployed good release (2 replicas, ' +
      '`timeout: 2m`, `on_failure: rollback`): it detects the pull failure, re-applies the last deployed revision, ' +
      `waits for it, and exits 5; the log says \`${rep.ours.rolledBack ?? '(no rolled back line!)'}\`. The kubectl ` +
      'way on the same objects: `kubectl apply` of the broken Deployment (`progressDeadlineSeconds: 30`, as in ' +
      'section 3; 600 by default), `kubectl rollout status` (fails at the deadline), `kubectl rollout undo`, ' +
      `\`kubectl rollout status\`. Image afterwards: ours \`${rep.ours.imageAfter}\`, kubectl ` +
      `\`${rep.theirs.imageAfter}\`.`,
    '',
    table(
      ['way', 'exit', 'wall', 'steps', 'requests', 'by user agent'],
      [
        [
          `ours${disruptedMark(rep.ours.disrupted)}`,
          rep.ours.code ?? '',
          `**${ms(rep.ours.ms)}**`,
          `pull failure seen → exit ${ms(rep.ours.detectToExitMs)} (detection + rollback + its rollout)`,
          requestCount(r, rep.ours.user),
          byAgent(summarize(eventsOf(r, rep.ours.user))),
        ],
        [
          `kubectl${disruptedMark(rep.theirs.disrupted)}`,
          `rollout status: 1 (\`${cell(rep.theirs.failMessage ?? '')}\`), then 0`,
          `**${ms(rep.theirs.ms)}**`,
          steps(rep.theirs.stepsMs),
          `${kubectlRequests} (${Object.values(rep.theirs.users)
            .map((user) => requestCount(r, user))
            .join(' + ')})`,
          '',
        ],
      ],
    ),
    '',
    `Ratio ours ÷ kubectl: wall **${ratio(rep.ours.ms, rep.theirs.ms)}**, requests ` +
      `**${ratio(requestCount(r, rep.ours.user), kubectlRequests)}** (kubectl's wall is mostly the 30 s progress ` +
      'deadline). `rollout undo` goes back only on the Deployment; ours re-applies every object of the revision and ' +
      'prunes what the failed attempt added.',
    '',
  ];
}

/** 6c: a release with a StatefulSet and a Job, ours beside kubectl apply + three waits. */
export function workloadsSection(r: BenchResults): Lines {
  const reps = r.workloads ?? [];
  if (!reps.length) return [];
  const ours = median(reps.map((rep) => rep.ours.ms));
  const kubectl = median(reps.map((rep) => rep.theirs.ms));
  const ourRequests = (rep: (typeof reps)[number]) => requestCount(r, rep.ours.user);
  const kubectlRequests = (rep: (typeof reps)[number]) => requestsOfAll(r, rep.theirs.users);
  const medianRequests = median(reps.map(ourRequests));
  const medianKubectlRequests = median(reps.map(kubectlRequests));
  return [
    '### 6c. A release with a StatefulSet and a Job (issue 11)',
    '',
    'The app (Deployment with 2 replicas + Service + Ingress) plus extra manifests: StatefulSet `db` (1 replica, a ' +
      '`volumeClaimTemplates` claim, headless Service `db`) and Job `migrate` (no phase annotation: applied with the ' +
      'other workloads and waited for alongside them). Ours: one put into a fresh namespace. The kubectl way: the ' +
      "same objects (section 2's `manifests.yml` + the same documents), `kubectl apply -f DIR`, `kubectl rollout " +
      'status statefulset/db`, `kubectl rollout status deployment/web`, `kubectl wait --for=condition=complete ' +
      'job/migrate`.',
    '',
    table(
      [
        'rep',
        'ours: wall',
        'ours: requests',
        'kubectl: steps',
        'kubectl: wall',
        'kubectl: requests',
        'ratio (wall)',
        'ratio (requests)',
      ],
      reps.map((rep, i) => [
        `${i + 1}${disruptedMark(rep.ours.disrupted || rep.theirs.disrupted)}`,
        ms(rep.ours.ms),
        ourRequests(rep),
        Object.entries(rep.theirs.stepsMs)
          .map(([step, msec]) => `${step} ${ms(msec)}`)
          .join(', '),
        ms(rep.theirs.ms),
        `${kubectlRequests(rep)} (${Object.values(rep.theirs.users)
          .map((user) => requestCount(r, user))
          .join(' + ')})`,
        ratio(rep.ours.ms, rep.theirs.ms),
        ratio(ourRequests(rep), kubectlRequests(rep)),
      ]),
    ),
    `| **median** | **${ms(ours)}** | ${medianRequests} | | **${ms(kubectl)}** | ${medianKubectlRequests} | ` +
      `**${ratio(ours, kubectl)}** | **${ratio(medianRequests, medianKubectlRequests)}** |`,
    '',
    `Requests of one such put (rep 1), grouped: ${groupedRequests(eventsOf(r, reps[0]!.ours.user), 1)}.`,
    '',
  ];
}

/** 6d: one sweep put over N per-build namespaces, beside a kubectl delete namespace loop. */
export function sweepSection(r: BenchResults): Lines {
  const sweep = r.sweep;
  if (!sweep) return [];
  const ours = requestCount(r, sweep.ours.user);
  const kubectl = requestCount(r, sweep.theirs.user);
  return [
    `### 6d. Sweep of ${sweep.n} namespaces (issue 15)`,
    '',
    `${sweep.n} per-build releases of app \`${sweep.app}\` (Deployment with 1 replica + Service + Ingress), each put ` +
      'with `create_namespace: true` into its own namespace; their record Secrets aged by 2 h (`createdAt` ' +
      'rewritten, as test/integration/sweep.test.ts does); then one measured put `sweep: {older_than: 1h}`: it lists ' +
      'the namespaces, checks each was created by this resource and holds only this app, tears each release down ' +
      '(ownership-scoped, waiting for the Pods) and deletes the namespace. The kubectl way, for comparison only: ' +
      `${sweep.n} other namespaces holding the same objects, deleted by a bash loop of \`kubectl delete namespace NS ` +
      '--wait` (one kubectl process each, sharing one cache dir as a loop in one container would). **It lacks every ' +
      'ownership check**: it deletes whatever the namespaces hold, whoever created them.',
    '',
    table(
      ['way', 'wall', 'per namespace', 'requests', 'requests per namespace', 'by user agent', 'result'],
      [
        [
          `ours: one sweep put${disruptedMark(sweep.ours.disrupted)}`,
          `**${ms(sweep.ours.ms)}**`,
          ms(sweep.ours.ms / sweep.n),
          ours,
          (ours / sweep.n).toFixed(1),
          byAgent(summarize(eventsOf(r, sweep.ours.user))),
          `${sweep.ours.swept} swept${sweep.ours.all ? ' (all of them)' : ' (not all!)'}; ` +
            `${sweep.ours.namespacesLeft} namespaces still present (terminating) at exit`,
        ],
        [
          `kubectl delete namespace loop${disruptedMark(sweep.theirs.disrupted)}`,
          `**${ms(sweep.theirs.ms)}**`,
          ms(sweep.theirs.ms / sweep.n),
          kubectl,
          (kubectl / sweep.n).toFixed(1),
          byAgent(summarize(eventsOf(r, sweep.theirs.user))),
          `${sweep.theirs.namespaces} deleted and waited for`,
        ],
      ],
    ),
    '',
    `Ratio ours ÷ kubectl: wall **${ratio(sweep.ours.ms, sweep.theirs.ms)}**, requests **${ratio(ours, kubectl)}**. ` +
      `Ours, grouped: ${groupedRequests(eventsOf(r, sweep.ours.user), 1)}.`,
    '',
  ];
}

/** Section 6 (issues 10, 11, 15): prune, rollback, a StatefulSet + Job release, sweep; each beside the kubectl way. */
export function lifecycleSections(r: BenchResults): Lines {
  return [
    '## 6. Release lifecycle (issues 10, 11, 15), each beside the kubectl way',
    '',
    "Same method as above: wall time spawn → exit (for the kubectl way, first command's spawn → last command's exit: " +
      'cold processes in sequence); API requests from the audit log, one client identity per measured process. ' +
      "Set-up steps (first puts, kubectl's first apply) are not measured.",
    '',
    ...pruneSection(r),
    ...rollbackSection(r),
    ...workloadsSection(r),
    ...sweepSection(r),
  ];
}

export function cleanupSection(r: BenchResults): Lines {
  return [
    '## Clean-up',
    '',
    `${r.cleanup.namespaces} namespaces \`kdr-bench-${r.runId}-*\` deleted` +
      `${r.cleanup.allGone ? ' and gone' : ' (some still terminating at exit)'}.`,
    '',
  ];
}

/** bench/RESULTS.md's text: every section, then the check-start block (npm run bench:check's) kept as it was. */
export function renderReport(r: FullBenchResults, options: { rssMethod: string; checkStartBlock?: string }): string {
  const lines = [
    ...machineSection(r),
    ...targetsSection(r),
    ...checkSection(r),
    ...putSection(r),
    ...failureSection(r),
    ...scaleSection(r),
    ...memoryAndSizeSection(r, options.rssMethod),
    ...lifecycleSections(r),
    ...cleanupSection(r),
  ];
  return lines.join('\n') + (options.checkStartBlock ? `\n${options.checkStartBlock}\n` : '');
}

/** The block bench/check-start.ts owns in RESULTS.md. */
export const checkStartBlockPattern = /<!-- check-start:begin[\s\S]*?<!-- check-start:end -->/;

/** Writes bench/RESULTS.md (keeping npm run bench:check's block) and bench/results.json. */
export function writeReport(r: FullBenchResults, options: { rssMethod: string; putChartSvg: string }): void {
  const file = join(repoRoot, 'bench', 'RESULTS.md');
  const checkStartBlock = existsSync(file) ? checkStartBlockPattern.exec(readFileSync(file, 'utf8'))?.[0] : undefined;
  writeFileSync(file, renderReport(r, { rssMethod: options.rssMethod, checkStartBlock }));
  writeFileSync(join(repoRoot, 'bench', 'put.svg'), options.putChartSvg);
  writeFileSync(join(repoRoot, 'bench', 'results.json'), JSON.stringify(r, null, 1) + '\n');
}
