// The check-scale section of bench/RESULTS.md (npm run bench:scale, bench/scale.ts): its figures' shape and its text.
import type { Stats } from './results.js';

export interface PerCheckVariant {
  label: string;
  app: string;
  kind: 'ours' | 'before' | 'baseline';
  runs: number;
  /** Wall time from spawn to exit, ms. */
  stats: Stats;
  /** Per run, on the wire (TLS included). */
  bytesReceived: number;
  bytesSent: number;
  connections: number;
  /** Per run, from the audit log. */
  requests: number;
  requestKinds: string[];
  peakRssKb: number;
  output: string;
}

export interface LoadRun {
  label: string;
  concurrency: number;
  checks: number;
  errors: number;
  firstError: string;
  wallMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  /** kube-apiserver's CPU time (user + system) during the run. */
  apiserverCpuS: number;
  /** A kube-apiserver restart (another session's disruptive test) overlapped the run. */
  disrupted: boolean;
}

export interface ScaleResults {
  runId: string;
  date: string;
  machine: {
    nproc: number;
    cpu: string;
    memGb: number;
    node: string;
    kubectl: string;
    apiserver: string;
    git: string;
    loadStart: string;
    loadEnd: string;
  };
  rounds: number;
  /** The large app's records: name and size of the recorded release (the Secret's data). */
  records: { name: string; bytes: number }[];
  perCheck: PerCheckVariant[];
  /** Per round: variant label → ms (for ratios of runs made seconds apart). */
  pairs: Record<string, number>[];
  excluded: number;
  load: LoadRun[];
  /** kube-apiserver's CPU seconds per second while the bench waited idle just before the load runs. */
  idleApiserverCpuPerS: number;
  kubectlRequest: { path: string; accept: string };
}

/** The block bench/scale.ts owns in RESULTS.md. */
export const checkScaleBlockPattern = /<!-- check-scale:begin[\s\S]*?<!-- check-scale:end -->/;

/** The labels the targets compare. */
export const scaleLabels = {
  big: 'check (assets/check), 10 × 900 KiB revisions',
  tiny: 'check (assets/check), 1 tiny revision',
  todayBig: 'check, bench build, 10 × 900 KiB',
  beforeBig: 'check before issue 28 (full list), 10 × 900 KiB',
  metadataLoad: 'check (metadata list)',
  fullLoad: 'check before issue 28 (full list)',
  tinyLoad: 'check (metadata list), 1 tiny revision',
  kubectlLoad: 'kubectl get secrets -l … -o name (its request)',
} as const;

const kib = (b: number) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const ms = (x: number) => `${Math.round(x)} ms`;

function pairedRatio(r: ScaleResults, a: string, b: string): number {
  const ratios = r.pairs.filter((p) => p[a] !== undefined && p[b] !== undefined).map((p) => p[a]! / p[b]!);
  const sorted = ratios.sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** API server CPU seconds per 1,000 checks: as measured, and net of what it burnt idle over the same time. */
export function cpuPer1000(run: LoadRun, idlePerS: number): { raw: number; net: number } {
  const per = (cpu: number) => (cpu / Math.max(1, run.checks)) * 1000;
  return { raw: per(run.apiserverCpuS), net: per(Math.max(0, run.apiserverCpuS - idlePerS * (run.wallMs / 1000))) };
}

export function scaleSection(r: ScaleResults): string {
  const by = (label: string) => r.perCheck.find((v) => v.label === label);
  const big = by(scaleLabels.big);
  const tiny = by(scaleLabels.tiny);
  const today = by(scaleLabels.todayBig);
  const before = by(scaleLabels.beforeBig);
  const bytesRatio = (today?.bytesReceived ?? NaN) / (before?.bytesReceived ?? NaN);
  const shippedBytesRatio = (big?.bytesReceived ?? NaN) / (before?.bytesReceived ?? NaN);
  const timeRatio = (big?.stats.median ?? NaN) / (tiny?.stats.median ?? NaN);
  const timePaired = pairedRatio(r, scaleLabels.big, scaleLabels.tiny);
  const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
  const recordTotal = r.records.reduce((n, x) => n + x.bytes, 0);
  const bigRecords = r.records.filter((x) => x.name.startsWith('kdr-release.big.'));
  const loadRows = r.load.map((run) => {
    const cpu = cpuPer1000(run, r.idleApiserverCpuPerS);
    return (
      `| ${run.concurrency} | ${run.label} | ${run.checks}${run.errors ? ` (+${run.errors} failed)` : ''} | ` +
      `${run.perSecond.toFixed(1)} | ${ms(run.p50)} | ${ms(run.p99)} | ${run.apiserverCpuS.toFixed(2)} s | ` +
      `${cpu.raw.toFixed(1)} s | ${cpu.net.toFixed(1)} s${run.disrupted ? ' (API server restarted: void)' : ''} |`
    );
  });
  const fleet = (label: string, n: number) => {
    const run = r.load.find((x) => x.label === label && x.concurrency === n);
    return run ? cpuPer1000(run, r.idleApiserverCpuPerS).net : NaN;
  };
  const loadNs = [...new Set(r.load.map((x) => x.concurrency))];
  const metaCpu = fleet(scaleLabels.metadataLoad, loadNs[0] ?? 0);
  const fullCpu = fleet(scaleLabels.fullLoad, loadNs[0] ?? 0);
  const tinyCpu = fleet(scaleLabels.tinyLoad, loadNs[0] ?? 0);
  const kubectlCpu = fleet(scaleLabels.kubectlLoad, loadNs[0] ?? 0);
  const lines = [
    '<!-- check-scale:begin (written by bench/scale.ts; npm run bench keeps it) -->',
    '## check at scale: metadata, not releases (issue 28)',
    '',
    `Generated by \`npm run bench:scale\` (bench/scale.ts) on ${r.date.replace('T', ' ').slice(0, 19)} UTC, run ` +
      `\`${r.runId}\`, against **kube-apiserver ${r.machine.apiserver}** (the local test cluster, 127.0.0.1). ` +
      `Machine: ${r.machine.nproc} cores (${r.machine.cpu}), ${r.machine.memGb} GiB, **shared with other ` +
      `sessions: load average ${r.machine.loadStart} at the start, ${r.machine.loadEnd} at the end** (1/5/15 min); ` +
      `node ${r.machine.node}, kubectl ${r.machine.kubectl}, commit ${r.machine.git}. ` +
      'Absolute times mean little on this machine; every comparison below is between figures taken side by side ' +
      'in this one run.',
    '',
    `The large app: ${bigRecords.length} revisions, each a put of a ConfigMap of 900 KiB of random characters ` +
      `(records of ${kib(Math.min(...bigRecords.map((x) => x.bytes)))} to ` +
      `${kib(Math.max(...bigRecords.map((x) => x.bytes)))}, ${kib(recordTotal)} of records in all). The tiny app: ` +
      'one put of the Deployment, Service and Ingress alone.',
    '',
    '![one check: wall time per variant](scale.svg)',
    '',
    '| target (issue 28) | measured | status |',
    '| --- | --- | --- |',
    `| bytes received per check, 10 × 900 KiB revisions, ≤ 1/100 of the full list | ` +
      `${kib(today?.bytesReceived ?? NaN)} vs ${kib(before?.bytesReceived ?? NaN)}: 1/${(1 / bytesRatio).toFixed(0)} ` +
      `(assets/check: ${kib(big?.bytesReceived ?? NaN)}, 1/${(1 / shippedBytesRatio).toFixed(0)}) | ` +
      `${met(bytesRatio <= 0.01 && shippedBytesRatio <= 0.01)} |`,
    `| check wall time with that history ≤ 1.1× check of one tiny revision | ${timeRatio.toFixed(2)}× ` +
      `(ratio of the medians, ${ms(big?.stats.median ?? NaN)} / ${ms(tiny?.stats.median ?? NaN)}; median of ` +
      `the per-round ratios ${timePaired.toFixed(2)}×) | ${met(timeRatio <= 1.1)} |`,
    '',
    `**One check, a process each** (${r.rounds} rounds, every variant once per round in a random order after a ` +
      `warm-up round${r.excluded ? `; ${r.excluded} runs overlapping an API-server restart left out` : ''}). ` +
      'Bytes are counted on the wire by a relay in front of the API server (TLS records, the handshake included); ' +
      'requests from the audit log; peak RSS is the median over the runs.',
    '',
    '| variant | received from the API server | sent | requests | wall: median (min–max) | peak RSS |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.perCheck.map(
      (v) =>
        `| ${v.label} | ${kib(v.bytesReceived)} | ${kib(v.bytesSent)} | ${v.requests.toFixed(1)}` +
        `${v.requestKinds.length ? ` (${v.requestKinds.slice(0, 3).join('; ')})` : ''} | ${ms(v.stats.median)} ` +
        `(${ms(v.stats.min)}–${ms(v.stats.max)}) | ${(v.peakRssKb / 1024).toFixed(1)} MiB |`,
    ),
    '',
    '"assets/check" is the shipped script (launcher and lean bundle). "Bench build" and "before issue 28" are ' +
      'bundled by bench/scale.ts with the same esbuild options, the latter with the records from a full list ' +
      '(bench/lib/full-list.ts): they differ in that list alone. kubectl runs cold (a fresh `--cache-dir`: its ' +
      'discovery requests are in its count).',
    '',
    `**Under load**: N checks at a time of the large app against the same API server, each in the bench process ` +
      "(the check's code, a fresh TLS connection each, closed after it: what N processes would send, without " +
      "their start-up), beside kubectl's request: " +
      `\`GET ${r.kubectlRequest.path}\` with ` +
      `\`Accept: ${r.kubectlRequest.accept}\`, as \`kubectl get secrets -l … -o name\` sends it (read from its ` +
      '`-v=8` log), on a fresh TLS connection each. API server CPU: utime + stime of kube-apiserver ' +
      '(`/proc/PID/stat`) over the run; "net" takes off what it burnt idle over the same time ' +
      `(${r.idleApiserverCpuPerS.toFixed(3)} CPU-s/s, measured for 5 s just before). The full-list variant runs ` +
      'at the smaller N only: at 200 at a time the bench process would hold 200 parsed histories at once (several ' +
      "GB, on a shared machine). kubectl's request is sent with `Accept-Encoding: gzip`, as Go's transport does: " +
      'the API server compresses its answer (and pays for it in CPU).',
    '',
    '![N checks at a time: latency per variant](scale-load.svg)',
    '',
    '| N | variant | checks | checks/s | p50 | p99 | API server CPU | CPU per 1,000 checks | net of idle |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...loadRows,
    '',
    `**A fleet.** Concourse checks each resource about once a minute: 200 pipelines × 3 resources are 600 checks a ` +
      `minute, 10 a second. At the net cost measured here (N = ${loadNs[0]}), that is ` +
      `${((metaCpu / 1000) * 10).toFixed(3)} of an API server core with metadata lists, against ` +
      `${((fullCpu / 1000) * 10).toFixed(2)} cores with the full lists of this history (` +
      `${(fullCpu / metaCpu).toFixed(0)}× as much); and ${kib((today?.bytesReceived ?? NaN) * 10)}/s against ` +
      `${kib((before?.bytesReceived ?? NaN) * 10)}/s leaving the API server. A check of one tiny revision costs ` +
      `it ${(tinyCpu / 1000).toFixed(4)} CPU-s (the new connection's handshake and one request: the floor), one of ` +
      `this history ${(metaCpu / 1000).toFixed(4)}; kubectl's request for the same records ` +
      `${(kubectlCpu / 1000).toFixed(4)} (${((kubectlCpu / 1000) * 10).toFixed(2)} cores for such a fleet).`,
    '<!-- check-scale:end -->',
  ];
  return lines.join('\n');
}
