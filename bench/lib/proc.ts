// Runs measured processes through test/support's runner (wall time spawn → exit on performance.now(), optional peak
// RSS), and the small statistics the bench reports.
import { dirname } from 'node:path';
import { runProcess, type ProcessOptions, type ProcessResult } from '../../test/support/run-script.js';
import type { Stats } from './results.js';

export type { ProcessResult };
export { peakRssMethod } from '../../test/support/run-script.js';
export { pool } from '../../test/support/pool.js';

export const nodeBin = process.execPath; // Node 24: npm scripts put node_modules/.bin first on PATH

/** As Concourse runs a script: a minimal environment with Node 24 first on PATH. */
export const scriptEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: `${dirname(nodeBin)}:/usr/local/bin:/usr/bin:/bin`,
  HOME: process.env.HOME ?? '/root',
  ...extra,
});

export interface RunOptions extends Omit<ProcessOptions, 'peakRss'> {
  /** Measure the peak RSS (ProcessResult.peakRssKb). */
  rss?: boolean;
}

/** Stops the bench on a measured process that failed: what it was, its exit and the end of its stderr. */
export function fail(what: string, r: ProcessResult): never {
  throw new Error(`${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n${(r.stderr ?? '').slice(-2000)}`);
}

/** Runs file with args, in scriptEnv() unless env is given. */
export function run(file: string, args: string[] = [], options: RunOptions = {}): Promise<ProcessResult> {
  const { rss, env, ...rest } = options;
  return runProcess(file, args, { ...rest, env: env ?? scriptEnv(), peakRss: rss });
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const stats = (xs: readonly number[]): Stats => ({
  n: xs.length,
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
});

export const sleep = (msec: number) => new Promise<void>((resolve) => setTimeout(resolve, msec));
