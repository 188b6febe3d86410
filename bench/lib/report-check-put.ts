// RESULTS.md: the check and put sections.
import { summarize, type RequestSummary } from './audit.js';
import { disruptedMark, kib, ms, ratio, table } from './format.js';
import { median } from './proc.js';
import { putFigures } from './put-figures.js';
import type { FullBenchResults, PutRep } from './results.js';
import {
  type Lines,
  eventsOf,
  byAgent,
  requestList,
  groupedRequests,
  repeatedRequests,
  overlappingRequests,
} from './report-requests.js';

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
