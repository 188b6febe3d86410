// The check-scale section of bench/RESULTS.md and its chart (bench/lib/scale-report.ts, scale-chart.ts): targets
// judged from the figures, API server CPU net of idle, the block kept by npm run bench's report.
import { describe, expect, test } from 'vitest';
import { scaleCharts } from '../../bench/lib/scale-chart.js';
import {
  checkScaleBlockPattern,
  cpuPer1000,
  scaleLabels,
  scaleSection,
  type LoadRun,
  type PerCheckVariant,
  type ScaleResults,
} from '../../bench/lib/scale-report.js';

const variant = (label: string, kind: PerCheckVariant['kind'], medianMs: number, bytes: number): PerCheckVariant => ({
  label,
  app: label.includes('tiny') ? 'tiny' : 'big',
  kind,
  runs: 10,
  stats: { n: 10, median: medianMs, min: medianMs - 10, max: medianMs + 10 },
  bytesReceived: bytes,
  bytesSent: 2000,
  connections: 1,
  requests: 1,
  requestKinds: ['list secrets (by label)'],
  peakRssKb: 60_000,
  output: '[]',
});

const loadRun = (label: string, concurrency: number, cpu: number): LoadRun => ({
  label,
  concurrency,
  checks: 200,
  errors: 0,
  firstError: '',
  wallMs: 10_000,
  perSecond: 20,
  p50: 100,
  p99: 300,
  min: 50,
  max: 400,
  apiserverCpuS: cpu,
  disrupted: false,
});

function fixture(overrides: { bigMs?: number; todayBytes?: number } = {}): ScaleResults {
  return {
    runId: 'abc123',
    date: '2026-12-03T20:00:00.000Z',
    machine: {
      nproc: 2,
      cpu: 'AMD EPYC',
      memGb: 24,
      node: 'v24.21.0',
      kubectl: 'v1.32.4',
      apiserver: 'v1.37.0',
      git: 'fc2670b',
      loadStart: '3.00 2.00 1.00',
      loadEnd: '2.00 2.00 1.00',
    },
    rounds: 10,
    records: [
      { name: 'kdr-release.big.v1', bytes: 920_000 },
      { name: 'kdr-release.tiny.v1', bytes: 1_000 },
    ],
    perCheck: [
      variant(scaleLabels.big, 'ours', overrides.bigMs ?? 105, 8_000),
      variant(scaleLabels.tiny, 'ours', 100, 7_000),
      variant(scaleLabels.todayBig, 'ours', 150, overrides.todayBytes ?? 8_000),
      variant(scaleLabels.beforeBig, 'before', 400, 9_500_000),
    ],
    pairs: [{ [scaleLabels.big]: 105, [scaleLabels.tiny]: 100 }],
    excluded: 0,
    load: [loadRun(scaleLabels.metadataLoad, 50, 3), loadRun(scaleLabels.fullLoad, 50, 40)],
    idleApiserverCpuPerS: 0.1,
    kubectlRequest: { path: '/api/v1/namespaces/x/secrets?labelSelector=a%3Db&limit=500', accept: 'application/json' },
  };
}

describe('check-scale section', () => {
  test('targets met: bytes ratio and wall-time ratio from the figures; the API server version is named', () => {
    const text = scaleSection(fixture());
    expect(text).toMatch(checkScaleBlockPattern);
    expect(text).toContain('kube-apiserver v1.37.0');
    expect(text).toContain('1/1188');
    expect(text).toContain('| check wall time with that history ≤ 1.1× check of one tiny revision | 1.05×');
    expect(text.match(/\*\*met\*\*/g)).toHaveLength(2);
  });

  test('targets not met when the figures say so', () => {
    const text = scaleSection(fixture({ bigMs: 120, todayBytes: 200_000 }));
    expect(text.match(/\*\*not met\*\*/g)).toHaveLength(2);
  });

  test('API server CPU per 1,000 checks, as measured and net of what it burns idle', () => {
    // 3 CPU-s over 10 s for 200 checks; idle 0.1 CPU-s/s → 2 CPU-s net.
    expect(cpuPer1000(loadRun('x', 50, 3), 0.1)).toEqual({ raw: 15, net: 10 });
  });

  test('the charts are SVGs: a row per variant, and per load run', () => {
    const { perCheck, load } = scaleCharts(fixture());
    expect(perCheck.startsWith('<svg')).toBe(true);
    expect(perCheck).toContain('before #28 (full list), big');
    expect(load.startsWith('<svg')).toBe(true);
    expect(load).toContain('50 at a time');
  });
});
