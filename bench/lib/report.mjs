// Renders bench/RESULTS.md (and bench/results.json) from the figures run.mjs gathered.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentName, describe, isDiscovery, summarize, usec } from './audit.mjs';
import { root } from './cluster.mjs';
import { mb, median, ms, ratio } from './proc.mjs';

const warn = (x) => (x ? ' ⚠' : '');
const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const kb = (bytes) =>
  bytes === undefined
    ? '–'
    : bytes >= 1 << 20
      ? `${(bytes / (1 << 20)).toFixed(2)} MiB`
      : `${(bytes / 1024).toFixed(1)} KiB`;
const yes = (ok) => (ok === undefined ? '–' : ok ? '**met**' : '**not met**');
const agents = (s) =>
  Object.entries(s.byAgent)
    .map(([a, n]) => `${a} ${n}`)
    .join(', ') || '–';

function requestList(events) {
  if (!events?.length) return '(no audit events)';
  const t0 = usec(events[0].requestReceivedTimestamp);
  return table(
    ['#', 'start (ms)', 'server time (ms)', 'request', 'code', 'user agent'],
    events.map((ev, i) => {
      const start = (usec(ev.requestReceivedTimestamp) - t0) / 1000;
      const dur = (usec(ev.stageTimestamp) - usec(ev.requestReceivedTimestamp)) / 1000;
      return [
        i + 1,
        start.toFixed(1),
        ev.verb === 'watch' ? `${dur.toFixed(0)} (open)` : dur.toFixed(1),
        `\`${describe(ev)}\``,
        ev.code ?? ev.responseStatus?.code ?? '',
        agentName(ev.userAgent),
      ];
    }),
  );
}

/** Requests grouped by description, as counts per run. */
function grouped(events, runs) {
  const counts = new Map();
  const roots = new Map();
  let groupVersions = 0;
  for (const ev of events ?? []) {
    if (isDiscovery(ev)) {
      const path = ev.requestURI.split('?')[0];
      if (/^\/apis?\/[^/]+/.test(path) && !path.startsWith('/openapi')) groupVersions++;
      else roots.set(path, (roots.get(path) ?? 0) + 1);
      continue;
    }
    const key = describe(ev).replace(
      /\(([^)]*)\)/,
      (m, inner) => `(${inner.replace(/\b(r\d+|web)\b/g, 'APP').replace(/kdr-bench-[a-z0-9]+-[a-z0-9]+/g, 'NS')})`,
    );
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const times = (n) => (n / runs !== 1 ? ` ×${+(n / runs).toFixed(2)}` : '');
  const disc = [
    ...[...roots].map(([k, n]) => `GET ${k}${times(n)}`),
    ...(groupVersions ? [`GET /api/v1 + /apis/GROUP/VERSION ×${+(groupVersions / runs).toFixed(2)}`] : []),
  ];
  return [
    ...(disc.length ? [`discovery: ${disc.join(', ')}`] : []),
    ...[...counts].map(([k, n]) => `\`${k}\`${times(n)}`),
  ].join('; ');
}

/** Requests made more than once in one process (same verb, resource and name or selector). */
function repeated(events) {
  const counts = new Map();
  for (const e of events ?? []) if (e.verb !== 'watch') counts.set(describe(e), (counts.get(describe(e)) ?? 0) + 1);
  const rep = [...counts].filter(([, n]) => n > 1);
  return rep.length ? rep.map(([k, n]) => `\`${k}\` ×${n}`).join(', ') : 'none';
}

/** Longest run of requests in flight at once, and how many of the non-watch requests overlapped another. */
function concurrency(events) {
  const spans = events
    .filter((e) => e.verb !== 'watch')
    .map((e) => [usec(e.requestReceivedTimestamp), usec(e.stageTimestamp)]);
  let overlapped = 0;
  spans.forEach((a, i) => {
    if (spans.some((b, j) => j !== i && b[0] < a[1] && a[0] < b[1])) overlapped++;
  });
  return { requests: spans.length, overlapped };
}

export function writeReport(r, { timeBin }) {
  const A = r.audit;
  const ev = (user) => A[user] ?? [];
  const sum = (user) => summarize(ev(user));
  const S = r.check.stats;
  const node0 = S['node -e 0'].median;
  const kget = S['kubectl get deployment'].median;
  const chk = S.check.median;
  const oneReq = S['one request, cold TLS (in the bench process)'].median;
  const checkRuns = r.check.rounds + 1; // + the warm-up run
  const checkReq = sum(r.check.users.check);
  const kgetReq = sum(r.check.users.kubectlGet);
  const checkTarget = 1.5 * node0 + oneReq;

  // put
  const reps = r.put.reps;
  const med = (f) => median(reps.map(f));
  const oursOverhead = med((x) => x.ours.overheadMs);
  const theirsOverhead = med((x) => x.theirs.overheadMs);
  const put1 = reps[0];
  const putSum = sum(put1.ours.user);
  const applySum = sum(put1.theirs.applyUser);
  const rolloutSum = sum(put1.theirs.rolloutUser);
  const putWatches = putSum.watches;
  const objects = 3;

  // failure
  const fo = r.failOurs;
  const detect = median(fo.map((x) => x.detectMs).filter((x) => x !== undefined));
  const detectMax = Math.max(...fo.map((x) => x.detectMs ?? Infinity));
  const fk = r.failKubectl;

  // scale
  const scaleRows = r.scale.filter((x) => !x.skipped);
  const scaleUsers = (prefix) => Object.keys(A).filter((u) => u.startsWith(prefix));
  const perRelease = (prefix) => {
    const counts = scaleUsers(prefix).map((u) => A[u].length);
    return counts.length
      ? { mean: counts.reduce((a, b) => a + b, 0) / counts.length, min: Math.min(...counts), max: Math.max(...counts) }
      : undefined;
  };
  const linear = (limit, phase) => {
    const rows = scaleRows.filter((x) => x.limit === limit);
    if (rows.length < 2) return undefined;
    return rows.at(-1)[phase].perReleaseMs / rows[0][phase].perReleaseMs;
  };

  // memory
  const rssRows = [
    ['check', r.check.peakRssKb],
    ['in', Math.max(...reps.map((x) => x.in.peakRssKb ?? 0)) || undefined],
    ['out (deploy, 3 objects, 2 replicas)', Math.max(...reps.map((x) => x.ours.peakRssKb ?? 0)) || undefined],
    ['out (re-put, unchanged)', put1.again?.peakRssKb],
    ['out (failed rollout)', Math.max(...fo.map((x) => x.peakRssKb ?? 0)) || undefined],
    ['out (deploy, scale runs, max)', Math.max(0, ...scaleRows.map((x) => x.deploy.peakRssKb ?? 0)) || undefined],
    ['out (teardown, scale runs, max)', Math.max(0, ...scaleRows.map((x) => x.teardown.peakRssKb ?? 0)) || undefined],
  ];
  const kubectlRss = Math.max(...reps.map((x) => x.theirs.peakRssKb ?? 0)) || undefined;
  const rssMax = Math.max(...rssRows.map((x) => x[1] ?? 0));
  const sz = r.sizes;
  const bundleMax = Math.max(...Object.values(sz.bundles));

  const M = r.machine;
  const lines = [];
  const p = (...x) => lines.push(...x);
  p(
    '# Benchmarks (issue 7)',
    '',
    `Generated by \`npm run bench\` (bench/run.mjs) on ${r.started.slice(0, 10)} at ${r.started.slice(11, 19)} UTC, run \`${r.runId}\`, in ${ms(r.totalMs)} (measurements ${ms(r.benchMs)}, then namespace clean-up).`,
    'Every figure has its baseline from the same run beside it. These machines are shared: the load average shows how much else ran.',
    r.disruptions?.length
      ? `**kube-apiserver was restarted ${r.disruptions.length}× during this run** (another session's disruptive tests kill and restart it), at ${r.disruptions.map(([a, b]) => `${a.toFixed(0)}–${b.toFixed(0)} s`).join(', ')} into the run. Check runs that overlapped a restart are left out of the statistics (${r.check.excluded} left out); every other figure that overlapped one is marked ⚠ — re-run \`npm run bench\` for clean figures.`
      : "No kube-apiserver restart was seen during this run (the bench watches for them: other sessions' disruptive tests kill and restart it).",
    '',
    table(
      ['machine', ''],
      [
        ['nproc', M.nproc],
        ['CPU', M.cpu],
        ['memory', `${M.memGb} GiB`],
        ['node', `${M.node} (the bundles' runtime; \`node -e 0\` below is this binary)`],
        ['kubectl', `${M.kubectl} (/usr/bin/kubectl) against kube-apiserver v1.20.2`],
        ['kernel', M.kernel],
        ['load average (1/5/15 min) at start → end', `${M.loadStart} → ${M.loadEnd}`],
        ['commit', M.git],
        [
          'bundles measured',
          `built by \`npm run build\` at the start of the run and copied aside (a concurrent rebuild cannot swap them); sha256 ${Object.entries(
            r.bundleHashes,
          )
            .map(([k, v]) => `${k} \`${v}…\``)
            .join(', ')}`,
        ],
      ],
    ),
    '',
    "**Reproduce:** `npm ci && npm run cluster:up && npm run bench` (builds the bundles first). Knobs: `BENCH_ROUNDS` (check rounds, 15), `BENCH_PUT_REPS` (5), `BENCH_FAIL_REPS` (3), `BENCH_SCALE` (`10,25,50`), `BENCH_CONCURRENCY` (4), `BENCH_BUDGET_S` (540), `BENCH_LIFECYCLE_REPS` (2), `BENCH_SWEEP_N` (20); `BENCH_ONLY=prune,rollback,workloads,sweep` (or put, check, fail, scale) runs only those sections and prints them instead of writing this file. Raw figures and every audit event of the run: `bench/results.json`. The audit log is read across kube-apiserver's rotations (`audit-*.log`).",
    '',
    '**Method.** Wall times are from spawn to exit of each process (`performance.now()` in the bench process). API requests are counted from kube-apiserver\'s audit log (`ResponseComplete` lines): each measured process gets its own client certificate (`CN=kdr-bench-<run>-<step>`, `O=system:masters`, signed by the test cluster\'s CA), so requests are attributed by user name, exactly, even while other tests use the cluster; "user agent" splits them further (ours send `kubernetes-deploy-resource`, kubectl `kubectl/…`). Cluster-side times (Deployment created → Available; Pod shows `ErrImagePull`/`ImagePullBackOff`) come from watches the bench process holds open on the namespace (admin identity, not counted). kubectl runs are cold: a fresh `--cache-dir` per process, as in a fresh container. All traffic goes to 127.0.0.1.',
    '',
  );

  // ---- targets
  p(
    '## Targets',
    '',
    table(
      ['target (issue 7)', 'measured', 'baseline (same run)', 'status'],
      [
        [
          'check ≤ 1.5× `node -e 0` + one request',
          `${ms(chk)} median`,
          `1.5 × ${ms(node0)} + ${ms(oneReq)} (one cold-TLS request) = ${ms(checkTarget)}`,
          yes(chk <= checkTarget),
        ],
        [
          'check no slower than the kubectl check',
          `${ms(chk)}`,
          `\`kubectl get deployment\` ${ms(kget)} (${ratio(chk, kget)})`,
          yes(chk <= kget),
        ],
        [
          "put overhead ≤ 0.5× the kubectl way's",
          `${ms(oursOverhead)} median (${ratio(oursOverhead, theirsOverhead)})`,
          `kubectl apply + rollout status: ${ms(theirsOverhead)}`,
          yes(oursOverhead <= 0.5 * theirsOverhead),
        ],
        [
          '≤ one request per object + the watch',
          `${putSum.total} requests (${putWatches} watches) for ${objects} objects`,
          `budget ${objects} + ${putWatches || 1} watch(es) = ${objects + (putWatches || 1)}; kubectl way ${applySum.total + rolloutSum.total}`,
          yes(putSum.total <= objects + Math.max(1, putWatches)),
        ],
        [
          'failure detected ≤ 3 s after the Pod shows it',
          `${ms(detect)} median, ${ms(detectMax)} max`,
          `kubectl: ${ms(fk.detectMs)} (fails only at progressDeadlineSeconds)`,
          yes(detectMax <= 3000),
        ],
        [
          'linear scale',
          scaleRows.length >= 2
            ? `per-release time at the largest N ÷ at the smallest: deploy ${linear(1, 'deploy')?.toFixed(2) ?? '–'}× / teardown ${linear(1, 'teardown')?.toFixed(2) ?? '–'}× (sequential), deploy ${linear(r.scale.find((x) => x.limit > 1)?.limit, 'deploy')?.toFixed(2) ?? '–'}× / teardown ${linear(r.scale.find((x) => x.limit > 1)?.limit, 'teardown')?.toFixed(2) ?? '–'}× (concurrent)`
            : '–',
          '1.00× is linear (status: sequential runs, ≤ 1.25× counted as linear)',
          yes(
            linear(1, 'deploy') === undefined
              ? undefined
              : [linear(1, 'deploy'), linear(1, 'teardown')].every((x) => x === undefined || x <= 1.25),
          ),
        ],
        ['peak RSS ≤ 100 MB per script', `${mb(rssMax)} max`, `kubectl ${mb(kubectlRss)}`, yes(rssMax <= 100 * 1024)],
        ['each bundle ≤ 5 MB', `${kb(bundleMax)} max`, '5 MB', yes(bundleMax <= 5e6)],
      ],
    ),
    '',
  );

  // ---- 1. check
  const checkRows = Object.entries(S).map(([k, s]) => [
    k,
    ms(s.median),
    ms(s.min),
    ms(s.max),
    ratio(s.median, node0),
    ratio(s.median, kget),
  ]);
  p(
    `## 1. check cold start (${r.check.rounds} rounds, each running every variant once in a random order, after one unmeasured warm-up round)`,
    '',
    table(['process', 'median', 'min', 'max', '÷ `node -e 0`', '÷ kubectl get'], checkRows),
    '',
    `Against a release that exists (\`check\` returned ${JSON.stringify(r.check.checkOutput)}).`,
    `Requests per run (audit log): check ${+(checkReq.total / checkRuns).toFixed(2)} (${grouped(ev(r.check.users.check), checkRuns)}); \`kubectl get deployment -o json\` with a fresh cache dir ${+(kgetReq.total / checkRuns).toFixed(2)}, of which discovery ${+(kgetReq.discovery / checkRuns).toFixed(2)} (${grouped(ev(r.check.users.kubectlGet), checkRuns)}).`,
    '',
    "**Where check's time goes** (medians):",
    '',
    table(
      ['part', 'time (medians)', 'time (minima)', 'how'],
      [
        ['Node start', ms(node0), ms(S['node -e 0'].min), '`node -e 0`'],
        [
          'loading the bundle (read, compile, run module top levels)',
          ms(S['check, validation error (load only)'].median - node0),
          ms(S['check, validation error (load only)'].min - S['node -e 0'].min),
          '`check` with `{}` on stdin (exit 2 before any network) − `node -e 0`',
        ],
        [
          'the work: TLS + credentials + 1 list + output',
          ms(chk - S['check, validation error (load only)'].median),
          ms(S.check.min - S['check, validation error (load only)'].min),
          '`check` − the validation-error run (noisy: a difference of two noisy figures)',
        ],
        [
          '… of which one request on a fresh TLS connection',
          ms(oneReq),
          ms(S['one request, cold TLS (in the bench process)'].min),
          'in the (warm) bench process',
        ],
        [
          'bundle load with NODE_COMPILE_CACHE (warm cache)',
          ms(S['validation error + NODE_COMPILE_CACHE'].median - node0),
          ms(S['validation error + NODE_COMPILE_CACHE'].min - S['node -e 0'].min),
          `saves ${ms(S['check, validation error (load only)'].median - S['validation error + NODE_COMPILE_CACHE'].median)} per run (medians)`,
        ],
        [
          'whole check with NODE_COMPILE_CACHE (warm cache)',
          ms(S['check + NODE_COMPILE_CACHE'].median),
          ms(S['check + NODE_COMPILE_CACHE'].min),
          `${ratio(S['check + NODE_COMPILE_CACHE'].median, node0)} \`node -e 0\`, ${ratio(S['check + NODE_COMPILE_CACHE'].median, kget)} kubectl get`,
        ],
        [
          'whole check with NODE_COMPILE_CACHE, empty cache (first run writes it)',
          ms(S['check + NODE_COMPILE_CACHE, empty cache (first run writes it)'].median),
          ms(S['check + NODE_COMPILE_CACHE, empty cache (first run writes it)'].min),
          `${ratio(S['check + NODE_COMPILE_CACHE, empty cache (first run writes it)'].median, chk)} plain check: the cost of writing the cache`,
        ],
        [
          'whole check via a loader calling `module.enableCompileCache()` (bench/lib/compile-cache-loader.mjs)',
          ms(S['check via a loader calling module.enableCompileCache()'].median),
          ms(S['check via a loader calling module.enableCompileCache()'].min),
          `${ratio(S['check via a loader calling module.enableCompileCache()'].median, chk)} plain check`,
        ],
        [
          'a lean check: node:https, one list, no client library (bench/lib/lean-check.mjs)',
          ms(S['lean check probe (node:https, one list)'].median),
          ms(S['lean check probe (node:https, one list)'].min),
          `${ratio(S['lean check probe (node:https, one list)'].median, node0)} \`node -e 0\`, ${ratio(S['lean check probe (node:https, one list)'].median, kget)} kubectl get: the floor for check`,
        ],
        ...Object.entries(r.check.probes).map(([name, bytes]) => [
          `load ${name} alone (bundled like the assets: ${kb(bytes)})`,
          ms(S[`load ${name} alone`].median - node0),
          ms(S[`load ${name} alone`].min - S['node -e 0'].min),
          `\`node <probe bundle>\` − \`node -e 0\``,
        ]),
      ],
    ),
    '',
  );

  // ---- 2. put
  p(
    '## 2. put of a 3-object release (Deployment + Service + Ingress, 2 replicas) into a fresh namespace',
    '',
    'Both ways deploy into a namespace the bench created just before (so neither pays for the namespace). Ours: `assets/out` with `image_ref`, `replicas: 2`, `host`, `ingress_class`. The kubectl way: `in`\'s `manifests.yml` of that release, `kubectl apply -n NS -f manifests.yml` then `kubectl rollout status deployment/web`, two cold processes. "Cluster" = Deployment ADDED → `Available=True` with all replicas available, seen by the bench\'s watch; overhead = wall − cluster.',
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
      reps.map((x, i) => [
        `${i + 1}${warn(x.ours.disrupted || x.theirs.disrupted)}`,
        ms(x.ours.ms),
        ms(x.ours.clusterMs),
        ms(x.ours.overheadMs),
        ms(x.theirs.applyMs),
        ms(x.theirs.rolloutMs),
        ms(x.theirs.ms),
        ms(x.theirs.clusterMs),
        ms(x.theirs.overheadMs),
        ratio(x.ours.overheadMs, x.theirs.overheadMs),
      ]),
    ),
    `| **median** | **${ms(med((x) => x.ours.ms))}** | ${ms(med((x) => x.ours.clusterMs))} | **${ms(oursOverhead)}** | ${ms(med((x) => x.theirs.applyMs))} | ${ms(med((x) => x.theirs.rolloutMs))} | **${ms(med((x) => x.theirs.ms))}** | ${ms(med((x) => x.theirs.clusterMs))} | **${ms(theirsOverhead)}** | **${ratio(oursOverhead, theirsOverhead)}** |`,
    '',
    `Ours, split (rep 1): spawn → Deployment created ${ms(put1.ours.startToCreated)}; created → Available ${ms(put1.ours.clusterMs)}; Available → exit ${ms(put1.ours.availableToExit)}.`,
    '',
    table(
      ['API requests (rep 1, audit log)', 'total', 'by user agent', 'discovery', 'watches'],
      [
        ['ours: `out`', putSum.total, agents(putSum), putSum.discovery, putSum.watches],
        [
          'ours: `out` again, same release (no-op re-put)',
          sum(put1.again?.user).total,
          agents(sum(put1.again?.user)),
          sum(put1.again?.user).discovery,
          sum(put1.again?.user).watches,
        ],
        [
          'ours: `in` (fetching the YAML)',
          sum(put1.in.user).total,
          agents(sum(put1.in.user)),
          sum(put1.in.user).discovery,
          sum(put1.in.user).watches,
        ],
        ['kubectl: `apply -f`', applySum.total, agents(applySum), applySum.discovery, applySum.watches],
        ['kubectl: `rollout status`', rolloutSum.total, agents(rolloutSum), rolloutSum.discovery, rolloutSum.watches],
        [
          'kubectl way, total',
          applySum.total + rolloutSum.total,
          '',
          applySum.discovery + rolloutSum.discovery,
          applySum.watches + rolloutSum.watches,
        ],
      ],
    ),
    '',
    `kubectl apply, grouped: ${grouped(ev(put1.theirs.applyUser), 1)}.`,
    '',
    `kubectl rollout status, grouped: ${grouped(ev(put1.theirs.rolloutUser), 1)}.`,
    '',
    '### Every request of one put (rep 1), in order',
    '',
    `Start = when the API server received it, relative to the first; server time = received → response complete (for a watch: how long it stayed open). ${(() => {
      const c = concurrency(ev(put1.ours.user));
      return `${c.overlapped} of the ${c.requests} non-watch requests overlapped another one in time. Repeated in this one put: ${repeated(ev(put1.ours.user))}.`;
    })()}`,
    '',
    requestList(ev(put1.ours.user)),
    '',
    '### The no-op re-put (same release again)',
    '',
    requestList(ev(put1.again?.user)),
    '',
  );

  // ---- 3. failure
  p(
    '## 3. Failure detection: unpullable image (`registry.example.com/bench/unpullable-app:1.0`, 2 replicas)',
    '',
    "Measured from the moment the bench's Pod watch first sees a container waiting in `ErrImagePull` or `ImagePullBackOff` (the stand-in writes `ErrImagePull` first and `ImagePullBackOff` 1 s later; it does not log per-Pod timestamps) to the process exiting.",
    '',
    table(
      ['run', 'exit code', 'first seen', '→ exit', 'from ImagePullBackOff → exit', 'wall', 'message'],
      [
        ...fo.map((x, i) => [
          `ours ${i + 1}${warn(x.disrupted)}`,
          x.code,
          x.firstReason ?? '–',
          ms(x.detectMs),
          x.fromBackOffMs === undefined
            ? '–'
            : x.fromBackOffMs < 0
              ? `exited ${ms(-x.fromBackOffMs)} before it`
              : ms(x.fromBackOffMs),
          ms(x.ms),
          `\`${(x.error ?? '').replace(/\|/g, '\\|').slice(0, 220)}\``,
        ]),
        [
          `kubectl apply + rollout status${warn(fk.disrupted)}`,
          fk.code,
          fk.firstReason ?? '–',
          ms(fk.detectMs),
          '',
          ms(fk.ms),
          `\`${(fk.error ?? '').replace(/\|/g, '\\|')}\``,
        ],
      ],
    ),
    '',
    `Ours: ${ms(detect)} median from the Pod showing the pull failure to exit code 5. kubectl fails only at progressDeadlineSeconds (30 s set here; 600 s by default): ${ms(fk.detectMs)} after the Pod showed it, exit ${fk.code}, and without naming the Pod or the reason.`,
    '',
  );

  // ---- 3b. recovery
  if (r.recovery?.length) {
    const rec = r.recovery;
    const recMedian = median(rec.map((x) => x.completeToExitMs).filter((x) => x !== undefined));
    p(
      '### The recovery put: good → unpullable (exit 5) → good again',
      '',
      "The put that restores the good image after a failed one (issue 10). Measured from the moment the bench's Deployment watch sees the rollout complete again (observed generation, all replicas updated and available, the failed ReplicaSet scaled down) to the process exiting; target ≤ 0.5 s.",
      '',
      table(
        ['run', 'exit code', 'complete → exit', 'wall', 'API requests (audit log)'],
        rec.map((x, i) => [
          `recovery ${i + 1}${warn(x.disrupted)}`,
          x.code,
          ms(x.completeToExitMs),
          ms(x.ms),
          ev(x.user).length,
        ]),
      ),
      '',
      `Median ${ms(recMedian)} from the Deployment rolling out again to exit code 0, wall ${ms(median(rec.map((x) => x.ms)))}. Requests of one recovery put (run 1), grouped: ${grouped(ev(rec[0].user), 1)}. Its \`on_failure: rollback\` counterpart and kubectl's \`rollout undo\` are in section 6b.`,
      '',
    );
  }

  // ---- 4. scale
  p(
    `## 4. Scale: N releases (distinct apps, Deployment + Service + Ingress, 1 replica each) deployed, then torn down, in one namespace`,
    '',
    'Each put is its own `assets/out` process, as separate Concourse puts are. Per release = phase wall time ÷ N. Requests per release from the audit log (one client identity per put).',
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
      r.scale.map((x) => {
        if (x.skipped) return [x.mode, x.n, '', x.skipped, '', '', '', '', '', '', ''];
        const d = perRelease(x.deploy.userPrefix);
        const t = perRelease(x.teardown.userPrefix);
        const fmt = (c) => (c ? `${c.mean.toFixed(1)} (${c.min}–${c.max})` : '–');
        const dis = x.deploy.disruptedPuts + x.teardown.disruptedPuts;
        return [
          `${x.mode}${dis ? ` ⚠ (${dis} puts overlapped an apiserver restart)` : ''}`,
          x.n,
          x.deploy.load1?.toFixed(1) ?? '–',
          ms(x.deploy.wallMs),
          ms(x.deploy.perReleaseMs),
          `${ms(x.deploy.putMs.median)} / ${ms(x.deploy.putMs.max)}`,
          fmt(d),
          ms(x.teardown.wallMs),
          ms(x.teardown.perReleaseMs),
          `${ms(x.teardown.putMs.median)} / ${ms(x.teardown.putMs.max)}`,
          fmt(t),
        ];
      }),
    ),
    '',
  );
  const teardownSample = scaleRows[0] ? ev(`${scaleRows[0].teardown.userPrefix}r1`) : [];
  const deploySample = scaleRows[0] ? ev(`${scaleRows[0].deploy.userPrefix}r1`) : [];
  if (teardownSample.length) {
    p(
      '### Every request of one teardown (`delete: true`, 1 replica; the first release of the first scale run), in order',
      '',
      `Repeated in this one teardown: ${repeated(teardownSample)}.`,
      '',
      requestList(teardownSample),
      '',
    );
  }
  if (deploySample.length) {
    p(`Deploy of the same release (1 replica): ${deploySample.length} requests — ${grouped(deploySample, 1)}.`, '');
  }

  // ---- 5. memory and size
  p(
    '## 5. Peak RSS, bundle sizes, image',
    '',
    table(
      ['script', `peak RSS (${timeBin ? '/usr/bin/time -v' : '/proc VmHWM'})`, 'target'],
      [
        ...rssRows.map(([k, v]) => [k, mb(v), v === undefined ? '–' : v <= 100 * 1024 ? '≤ 100 MB ✓' : '> 100 MB ✗']),
        ['kubectl apply / rollout status (baseline)', mb(kubectlRss), ''],
      ],
    ),
    '',
    table(
      ['bundle', 'size', 'target'],
      Object.entries(sz.bundles).map(([k, v]) => [`assets/${k}`, kb(v), v <= 5e6 ? '≤ 5 MB ✓' : '> 5 MB ✗']),
    ),
    '',
    'The 10 largest inputs of the check bundle (esbuild metafile `assets/meta.json`, bytes in the minified output):',
    '',
    table(
      ['input', 'bytes in output'],
      sz.checkTop.map((x) => [`\`${x.path}\``, kb(x.bytes)]),
    ),
    '',
    'The check bundle by package:',
    '',
    table(
      ['package', 'bytes in output', 'share'],
      sz.byPackage.slice(0, 15).map(([k, v]) => [k, kb(v), `${((100 * v) / sz.bundles.check).toFixed(1)}%`]),
    ),
    '',
    sz.image
      ? table(
          ['image', 'size', ''],
          [
            [
              sz.image.name,
              kb(sz.image.bytes),
              `built ${sz.image.created?.slice(0, 19) ?? '?'}; ${ratio(sz.image.bytes, sz.image.baseBytes)} its base (+${kb(sz.image.bytes - sz.image.baseBytes)})`,
            ],
            [`base: ${sz.image.baseName}`, kb(sz.image.baseBytes), `(${sz.image.tool} image inspect)`],
          ],
        )
      : 'No image `localhost/kubernetes-deploy-resource:dev` in podman/buildah storage (run `npm run image:build`).',
    '',
  );
  p(...lifecycleSections(r));
  p(
    '## Clean-up',
    '',
    `${r.cleanup.namespaces} namespaces \`kdr-bench-${r.runId}-*\` deleted${r.cleanup.allGone ? ' and gone' : ' (some still terminating at exit)'}.`,
    '',
  );

  // bench/check-start.mjs (npm run bench:check) owns its own section: kept as it is.
  const file = join(root, 'bench', 'RESULTS.md');
  const kept = existsSync(file)
    ? readFileSync(file, 'utf8').match(/<!-- check-start:begin[\s\S]*?<!-- check-start:end -->/)?.[0]
    : undefined;
  writeFileSync(file, lines.join('\n') + (kept ? `\n${kept}\n` : ''));
  writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify(r, null, 1) + '\n');
}

/** Section 6 (issues 10, 11, 15): prune, rollback, a StatefulSet + Job release, sweep; each beside the kubectl way. */
export function lifecycleSections(r) {
  const A = r.audit ?? {};
  const n = (user) => (A[user] ?? []).length;
  const nAll = (users) => Object.values(users).reduce((t, u) => t + n(u), 0);
  const sumAgents = (user) => agents(summarize(A[user] ?? []));
  const lines = [];
  const p = (...x) => lines.push(...x);
  const medOf = (xs) => (xs.length ? median(xs) : undefined);
  p(
    '## 6. Release lifecycle (issues 10, 11, 15), each beside the kubectl way',
    '',
    "Same method as above: wall time spawn → exit (for the kubectl way, first command's spawn → last command's exit: cold processes in sequence); API requests from the audit log, one client identity per measured process. Set-up steps (first puts, kubectl's first apply) are not measured.",
    '',
  );
  if (r.prune?.length) {
    const x = r.prune;
    const o = medOf(x.map((y) => y.ours.ms));
    const t = medOf(x.map((y) => y.theirs.ms));
    const ta = medOf(x.map((y) => y.theirs.applyMs));
    const req = (y) => n(y.ours.user);
    const kreq = (y) => n(y.theirs.applyUser) + n(y.theirs.rolloutUser);
    p(
      '### 6a. Prune put (issue 10): a release with 2 extra ConfigMaps, re-put without one',
      '',
      `Ours: \`out\` with \`manifests: [extra.yml]\` (ConfigMaps \`web-extra-a\`, \`web-extra-b\`), then the measured re-put with only \`web-extra-a\` (\`prune\` on, its default; Deployment + Service + Ingress unchanged, 2 replicas): it re-applies, confirms the rollout, records a new revision and deletes \`web-extra-b\`. The kubectl way: the same two revisions (their \`manifests.yml\` from \`in\`, one JSON file per object in a directory), the second applied with \`kubectl apply -n NS --prune -l ${x[0].theirs.selector} --prune-allowlist KIND… -f DIR\` (the allowlist names ConfigMap, Secret, Service, Deployment, Ingress: kubectl 1.32's default list includes batch/v1 CronJob, which the 1.20 API server lacks), then \`kubectl rollout status deployment/web\`. kubectl prunes at once, whether or not the rollout goes well; ours prunes only after it, and only objects that still carry the release's labels.`,
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
        x.map((y, i) => [
          `${i + 1}${warn(y.ours.disrupted || y.theirs.disrupted)}`,
          ms(y.ours.ms),
          req(y),
          `${y.ours.pruned ?? '–'}${y.ours.gone ? '' : ' (still there!)'}`,
          ms(y.theirs.applyMs),
          ms(y.theirs.ms),
          `${kreq(y)} (${n(y.theirs.applyUser)} + ${n(y.theirs.rolloutUser)})`,
          y.theirs.gone ? 'yes' : 'no',
          ratio(y.ours.ms, y.theirs.ms),
          ratio(req(y), kreq(y)),
        ]),
      ),
      `| **median** | **${ms(o)}** | ${medOf(x.map(req))} | | ${ms(ta)} | **${ms(t)}** | ${medOf(x.map(kreq))} | | **${ratio(o, t)}** | **${ratio(medOf(x.map(req)), medOf(x.map(kreq)))}** |`,
      '',
      `Ours ÷ \`kubectl apply --prune\` alone (no rollout check): ${ratio(o, ta)}. Requests of one prune put (rep 1), grouped: ${grouped(A[x[0].ours.user], 1)}. \`kubectl apply --prune\`, grouped: ${grouped(A[x[0].theirs.applyUser], 1)}.`,
      '',
    );
  }
  if (r.rollback?.length) {
    const y = r.rollback[0];
    const kreq = nAll(y.theirs.users);
    p(
      '### 6b. Rollback (issue 10): good → unpullable image with `on_failure: rollback`',
      '',
      `Ours: a put of \`${'registry.example.com/bench/unpullable-app:2.0'}\` over a deployed good release (2 replicas, \`timeout: 2m\`, \`on_failure: rollback\`): it detects the pull failure, re-applies the last deployed revision, waits for it, and exits 5; the log says \`${y.ours.rolledBack ?? '(no rolled back line!)'}\`. The kubectl way on the same objects: \`kubectl apply\` of the broken Deployment (\`progressDeadlineSeconds: 30\`, as in section 3; 600 by default), \`kubectl rollout status\` (fails at the deadline), \`kubectl rollout undo\`, \`kubectl rollout status\`. Image afterwards: ours \`${y.ours.imageAfter}\`, kubectl \`${y.theirs.imageAfter}\`.`,
      '',
      table(
        ['way', 'exit', 'wall', 'steps', 'requests', 'by user agent'],
        [
          [
            `ours${warn(y.ours.disrupted)}`,
            y.ours.code,
            `**${ms(y.ours.ms)}**`,
            `pull failure seen → exit ${ms(y.ours.detectToExitMs)} (detection + rollback + its rollout)`,
            n(y.ours.user),
            sumAgents(y.ours.user),
          ],
          [
            `kubectl${warn(y.theirs.disrupted)}`,
            `rollout status: 1 (\`${(y.theirs.failMessage ?? '').replace(/\|/g, '\\|')}\`), then 0`,
            `**${ms(y.theirs.ms)}**`,
            Object.entries(y.theirs.stepsMs)
              .map(([k, v]) => `${k} ${ms(v)}`)
              .join(', '),
            `${kreq} (${Object.values(y.theirs.users).map(n).join(' + ')})`,
            '',
          ],
        ],
      ),
      '',
      `Ratio ours ÷ kubectl: wall **${ratio(y.ours.ms, y.theirs.ms)}**, requests **${ratio(n(y.ours.user), kreq)}** (kubectl's wall is mostly the 30 s progress deadline). \`rollout undo\` goes back only on the Deployment; ours re-applies every object of the revision and prunes what the failed attempt added.`,
      '',
    );
  }
  if (r.workloads?.length) {
    const x = r.workloads;
    const o = medOf(x.map((y) => y.ours.ms));
    const t = medOf(x.map((y) => y.theirs.ms));
    const req = (y) => n(y.ours.user);
    const kreq = (y) => nAll(y.theirs.users);
    p(
      '### 6c. A release with a StatefulSet and a Job (issue 11)',
      '',
      "The app (Deployment with 2 replicas + Service + Ingress) plus extra manifests: StatefulSet `db` (1 replica, a `volumeClaimTemplates` claim, headless Service `db`) and Job `migrate` (no phase annotation: applied with the other workloads and waited for alongside them). Ours: one put into a fresh namespace. The kubectl way: the same objects (section 2's `manifests.yml` + the same documents), `kubectl apply -f DIR`, `kubectl rollout status statefulset/db`, `kubectl rollout status deployment/web`, `kubectl wait --for=condition=complete job/migrate`.",
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
        x.map((y, i) => [
          `${i + 1}${warn(y.ours.disrupted || y.theirs.disrupted)}`,
          ms(y.ours.ms),
          req(y),
          Object.entries(y.theirs.stepsMs)
            .map(([k, v]) => `${k} ${ms(v)}`)
            .join(', '),
          ms(y.theirs.ms),
          `${kreq(y)} (${Object.values(y.theirs.users).map(n).join(' + ')})`,
          ratio(y.ours.ms, y.theirs.ms),
          ratio(req(y), kreq(y)),
        ]),
      ),
      `| **median** | **${ms(o)}** | ${medOf(x.map(req))} | | **${ms(t)}** | ${medOf(x.map(kreq))} | **${ratio(o, t)}** | **${ratio(medOf(x.map(req)), medOf(x.map(kreq)))}** |`,
      '',
      `Requests of one such put (rep 1), grouped: ${grouped(A[x[0].ours.user], 1)}.`,
      '',
    );
  }
  if (r.sweep) {
    const s = r.sweep;
    p(
      `### 6d. Sweep of ${s.n} namespaces (issue 15)`,
      '',
      `${s.n} per-build releases of app \`${s.app}\` (Deployment with 1 replica + Service + Ingress), each put with \`create_namespace: true\` into its own namespace; their record Secrets aged by 2 h (\`createdAt\` rewritten, as test/integration/sweep.test.ts does); then one measured put \`sweep: {older_than: 1h}\`: it lists the namespaces, checks each was created by this resource and holds only this app, tears each release down (ownership-scoped, waiting for the Pods) and deletes the namespace. The kubectl way, for comparison only: ${s.n} other namespaces holding the same objects, deleted by a bash loop of \`kubectl delete namespace NS --wait\` (one kubectl process each, sharing one cache dir as a loop in one container would). **It lacks every ownership check**: it deletes whatever the namespaces hold, whoever created them.`,
      '',
      table(
        ['way', 'wall', 'per namespace', 'requests', 'requests per namespace', 'by user agent', 'result'],
        [
          [
            `ours: one sweep put${warn(s.ours.disrupted)}`,
            `**${ms(s.ours.ms)}**`,
            ms(s.ours.ms / s.n),
            n(s.ours.user),
            (n(s.ours.user) / s.n).toFixed(1),
            sumAgents(s.ours.user),
            `${s.ours.swept} swept${s.ours.all ? ' (all of them)' : ' (not all!)'}; ${s.ours.namespacesLeft} namespaces still present (terminating) at exit`,
          ],
          [
            `kubectl delete namespace loop${warn(s.theirs.disrupted)}`,
            `**${ms(s.theirs.ms)}**`,
            ms(s.theirs.ms / s.n),
            n(s.theirs.user),
            (n(s.theirs.user) / s.n).toFixed(1),
            sumAgents(s.theirs.user),
            `${s.theirs.namespaces} deleted and waited for`,
          ],
        ],
      ),
      '',
      `Ratio ours ÷ kubectl: wall **${ratio(s.ours.ms, s.theirs.ms)}**, requests **${ratio(n(s.ours.user), n(s.theirs.user))}**. Ours, grouped: ${grouped(A[s.ours.user], 1)}.`,
      '',
    );
  }
  return lines;
}
