// scale.svg (npm run bench:scale): one check's wall time per variant, then the latency of N checks at a time
// (bar at p50, whisker to p99), each row noted with the bytes or the API server CPU it cost.
import { barChart, type ChartGroup } from './chart.js';
import { cpuPer1000, scaleLabels, type ScaleResults } from './scale-report.js';

const kib = (b: number) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const kindOf = (kind: 'ours' | 'before' | 'baseline') => (kind === 'ours' ? 'ours' : 'baseline') as 'ours' | 'baseline';

/** Labels short enough for the chart's label column. */
const short = (label: string) =>
  label
    .replace(/, 10 × 900 KiB( revisions)?$/, ', big')
    .replace(/, 1 tiny( revision)?$/, ', tiny')
    .replace('check before issue 28 (full list)', 'before #28 (full list)')
    .replace('kubectl get secrets -l … -o name', 'kubectl get -o name');

/** scale.svg (one check, a process each) and scale-load.svg (N at a time): each on its own time axis. */
export function scaleCharts(r: ScaleResults): { perCheck: string; load: string } {
  const perCheck: ChartGroup = {
    heading: 'note: wall time, bytes received from the API server',
    rows: r.perCheck.map((v) => ({
      label: short(v.label),
      stats: v.stats,
      kind: kindOf(v.kind),
      note: `${Math.round(v.stats.median)} ms · ${kib(v.bytesReceived)}`,
    })),
    targetMs: 1.1 * (r.perCheck.find((v) => v.label === scaleLabels.tiny)?.stats.median ?? NaN),
  };
  const loads: ChartGroup[] = [...new Set(r.load.map((x) => x.concurrency))].map((n) => ({
    heading: `${n} at a time: p50 (bar), min–p99 (whisker); note: API server CPU-s per 1,000`,
    rows: r.load
      .filter((x) => x.concurrency === n)
      .map((x) => ({
        label: short(x.label.replace(' (its request)', '')),
        stats: { n: x.checks, median: x.p50, min: x.min, max: x.p99 },
        kind: x.label.startsWith(scaleLabels.metadataLoad) ? ('ours' as const) : ('baseline' as const),
        note: `${x.perSecond.toFixed(0)}/s · ${cpuPer1000(x, r.idleApiserverCpuPerS).net.toFixed(1)} CPU-s`,
      })),
  }));
  return {
    perCheck: barChart({
      title: `one check of 10 revisions of a 900 KiB release: wall time, run ${r.runId}, ${r.machine.apiserver}`,
      legend: 'blue: ours (metadata list); grey: check before issue 28 (full list) and kubectl; dashed: 1.1× tiny',
      groups: [perCheck],
      footer: `median (bar), min–max (whisker); same run, side by side; load ${r.machine.loadStart}`,
    }),
    load: barChart({
      title: `N checks at a time against kube-apiserver ${r.machine.apiserver}: latency, run ${r.runId}`,
      legend: 'blue: ours (metadata list); grey: check before issue 28 (full list) and kubectl’s request',
      groups: loads,
      footer: `p50 (bar), min–p99 (whisker); same run, side by side; load ${r.machine.loadEnd}`,
    }),
  };
}
