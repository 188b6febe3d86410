// A hand-written SVG bar chart (no plotting service): one row per process, the bar at the median, a whisker from the
// minimum to the maximum, ours coloured beside the grey baselines, each labelled with its ratio to kubectl get.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colours = { ours: '#2563eb', baseline: '#9ca3af', probe: '#d1d5db' };

export function checkChart(r) {
  const rows = Object.entries(r.stats).sort((a, b) => a[1].median - b[1].median);
  const kget = r.stats['kubectl get deployment -o json'].median;
  const labelW = 290;
  const plotW = 520;
  const textW = 170;
  const rowH = 30;
  const top = 46;
  const height = top + rows.length * rowH + 44;
  const width = labelW + plotW + textW;
  const maxMs = Math.max(...rows.map(([, s]) => s.max));
  const step = [10, 20, 25, 50, 100, 200, 250, 500, 1000].find((s) => maxMs / s <= 8) ?? 1000;
  const axisMax = Math.ceil(maxMs / step) * step;
  const X = (ms) => labelW + (ms / axisMax) * plotW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">check cold start: median (bar) and min–max (whisker), ${r.rounds} rounds, run ${esc(r.runId)}</text>`,
    `<text x="10" y="36" fill="#4b5563">blue: ours; grey: baselines (same run); ratio = median ÷ cold kubectl get</text>`,
  ];
  for (let t = 0; t <= axisMax; t += step) {
    out.push(
      `<line x1="${X(t).toFixed(1)}" y1="${top - 4}" x2="${X(t).toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#e5e7eb"/>`,
    );
    out.push(
      `<text x="${X(t).toFixed(1)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#4b5563">${t} ms</text>`,
    );
  }
  rows.forEach(([name, s], i) => {
    const y = top + i * rowH;
    const mid = y + rowH / 2;
    const kind = r.kinds[name] ?? 'baseline';
    out.push(`<text x="${labelW - 8}" y="${mid + 4}" text-anchor="end">${esc(name)}</text>`);
    out.push(
      `<rect x="${labelW}" y="${y + 6}" width="${(X(s.median) - labelW).toFixed(1)}" height="${rowH - 12}" fill="${colours[kind]}"/>`,
    );
    out.push(
      `<line x1="${X(s.min).toFixed(1)}" y1="${mid}" x2="${X(s.max).toFixed(1)}" y2="${mid}" stroke="#111827" stroke-width="1.5"/>`,
    );
    for (const v of [s.min, s.max])
      out.push(
        `<line x1="${X(v).toFixed(1)}" y1="${mid - 6}" x2="${X(v).toFixed(1)}" y2="${mid + 6}" stroke="#111827" stroke-width="1.5"/>`,
      );
    out.push(
      `<text x="${labelW + plotW + 8}" y="${mid + 4}">${Math.round(s.median)} ms · ${(s.median / kget).toFixed(2)}× kubectl</text>`,
    );
  });
  out.push(`<text x="${labelW}" y="${height - 8}" fill="#4b5563">wall time from spawn to exit, per process</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
