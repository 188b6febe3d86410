// Hand-written SVG bar charts (no plotting service): one row per process, the bar at the median, a whisker from the
// minimum to the maximum, ours coloured beside the grey baselines, each labelled with its ratio to its baseline.
// check-start.svg (npm run bench:check) and put.svg (npm run bench).
import { putFigures, type PutFigures } from './put-figures.js';
import type { CheckStartResults, PutResults, Stats, VariantKind } from './results.js';

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colours: Record<VariantKind, string> = { ours: '#2563eb', baseline: '#9ca3af', probe: '#d1d5db' };

export interface ChartRow {
  label: string;
  stats: Stats;
  kind: VariantKind;
  /** Right of the plot, e.g. "419 ms · 0.71× kubectl". */
  note: string;
}

export interface ChartGroup {
  /** A heading row above the group's bars (none for a single group). */
  heading?: string;
  rows: ChartRow[];
  /** A dashed line across the group's rows at the target (e.g. 0.6× the baseline's median). */
  targetMs?: number;
}

export interface Chart {
  title: string;
  legend: string;
  groups: ChartGroup[];
  footer: string;
}

const layout = { labelW: 290, plotW: 520, textW: 170, rowH: 30, top: 46 };

export function barChart(chart: Chart): string {
  const { labelW, plotW, textW, rowH, top } = layout;
  const lineCount = chart.groups.reduce((n, group) => n + group.rows.length + (group.heading ? 1 : 0), 0);
  const plotBottom = top + lineCount * rowH;
  const height = plotBottom + 44;
  const width = labelW + plotW + textW;
  const maxMs = Math.max(...chart.groups.flatMap((group) => group.rows.map((row) => row.stats.max)));
  const step = [10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000].find((s) => maxMs / s <= 8) ?? 10_000;
  const axisMax = Math.ceil(maxMs / step) * step;
  const x = (msec: number) => (labelW + (msec / axisMax) * plotW).toFixed(1);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="sans-serif" font-size="12">',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(chart.title)}</text>`,
    `<text x="10" y="36" fill="#4b5563">${escape(chart.legend)}</text>`,
  ];
  for (let tick = 0; tick <= axisMax; tick += step) {
    out.push(`<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${plotBottom}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${x(tick)}" y="${plotBottom + 16}" text-anchor="middle" fill="#4b5563">${tick} ms</text>`);
  }
  let line = 0;
  for (const group of chart.groups) {
    if (group.heading) {
      const y = top + line++ * rowH;
      out.push(`<text x="10" y="${y + rowH / 2 + 4}" font-weight="bold">${escape(group.heading)}</text>`);
    }
    if (group.targetMs !== undefined) {
      const y = top + line * rowH;
      out.push(
        `<line x1="${x(group.targetMs)}" y1="${y + 2}" ` +
          `x2="${x(group.targetMs)}" y2="${y + group.rows.length * rowH - 2}" ` +
          'stroke="#dc2626" stroke-width="1.5" stroke-dasharray="4 3"/>',
      );
    }
    for (const row of group.rows) {
      const y = top + line++ * rowH;
      const mid = y + rowH / 2;
      const { median, min, max } = row.stats;
      out.push(`<text x="${labelW - 8}" y="${mid + 4}" text-anchor="end">${escape(row.label)}</text>`);
      out.push(
        `<rect x="${labelW}" y="${y + 6}" width="${(Number(x(median)) - labelW).toFixed(1)}" height="${rowH - 12}" ` +
          `fill="${colours[row.kind]}"/>`,
      );
      out.push(`<line x1="${x(min)}" y1="${mid}" x2="${x(max)}" y2="${mid}" stroke="#111827" stroke-width="1.5"/>`);
      for (const end of [min, max])
        out.push(
          `<line x1="${x(end)}" y1="${mid - 6}" x2="${x(end)}" y2="${mid + 6}" stroke="#111827" stroke-width="1.5"/>`,
        );
      out.push(`<text x="${labelW + plotW + 8}" y="${mid + 4}">${escape(row.note)}</text>`);
    }
  }
  out.push(`<text x="${labelW}" y="${height - 8}" fill="#4b5563">${escape(chart.footer)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** check-start.svg: every variant of npm run bench:check, fastest first, with its ratio to a cold kubectl get. */
export function checkChart(r: CheckStartResults): string {
  const kubectlGet = r.stats['kubectl get deployment -o json']?.median ?? Number.NaN;
  const rows = Object.entries(r.stats)
    .sort((a, b) => a[1].median - b[1].median)
    .map(([label, stats]) => ({
      label,
      stats,
      kind: r.kinds[label] ?? 'baseline',
      note: `${Math.round(stats.median)} ms · ${(stats.median / kubectlGet).toFixed(2)}× kubectl`,
    }));
  return barChart({
    title: `check cold start: median (bar) and min–max (whisker), ${r.rounds.length} rounds, run ${r.runId}`,
    legend: 'blue: ours; grey: baselines (same run); ratio = median ÷ cold kubectl get',
    groups: [{ rows }],
    footer: 'wall time from spawn to exit, per process',
  });
}

/** put.svg: section 2's put overhead and no-op re-put, ours (without and with the compile cache) beside kubectl's. */
export function putChart(put: PutResults, runId: string): string {
  const figures = putFigures(put);
  const note = (ours: Stats, kubectl: Stats) =>
    `${Math.round(ours.median)} ms · ${(ours.median / kubectl.median).toFixed(2)}× kubectl`;
  const group = (heading: string, g: PutFigures['overhead'], kubectlLabel: string, target: number) => ({
    heading: `${heading} (target ≤ ${target}×, dashed)`,
    targetMs: target * g.kubectl.median,
    rows: [
      { label: 'ours (host, no compile cache)', stats: g.ours, kind: 'ours' as const, note: note(g.ours, g.kubectl) },
      {
        label: 'ours + compile cache (the image)',
        stats: g.oursCompileCache,
        kind: 'ours' as const,
        note: note(g.oursCompileCache, g.kubectl),
      },
      { label: kubectlLabel, stats: g.kubectl, kind: 'baseline' as const, note: note(g.kubectl, g.kubectl) },
    ],
  });
  return barChart({
    title: `put: median (bar) and min–max (whisker), ${put.reps.length} reps, run ${runId}`,
    legend: 'blue: ours; grey: the kubectl way (same run); ratio = median ÷ the kubectl way’s median',
    groups: [
      group('put overhead: wall − cluster time to Available', figures.overhead, 'kubectl apply + rollout status', 0.6),
      group('no-op re-put: wall', figures.reput, 'kubectl apply again + rollout status', 0.5),
    ],
    footer: 'wall time from the first spawn to the last exit; overhead subtracts the Deployment’s time to Available',
  });
}
