// Runs processes with wall-clock timing (performance.now() from spawn to exit), optionally under /usr/bin/time -v for
// the peak RSS, and small statistics helpers.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const nodeBin = process.execPath; // Node 24: npm scripts put node_modules/.bin first on PATH
export const nodeDir = dirname(nodeBin);
export const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const rssDir = mkdtempSync(join(tmpdir(), 'kdr-bench-rss-'));
let rssSeq = 0;

/** As Concourse runs a script: a minimal environment with Node 24 first on PATH. */
export const scriptEnv = (extra = {}) => ({
  PATH: `${nodeDir}:/usr/local/bin:/usr/bin:/bin`,
  HOME: process.env.HOME ?? '/root',
  ...extra,
});

/**
 * run(file, args, { input, env, timeoutMs, rss, onSpawn }) → { code, signal, stdout, stderr, ms, startedAt, endedAt,
 * peakRssKb }. startedAt/endedAt are performance.now() values (same clock as the watch events).
 */
export function run(file, args = [], { input, env = scriptEnv(), timeoutMs = 180_000, rss = false, onSpawn } = {}) {
  let cmd = file;
  let argv = args;
  let rssFile;
  if (rss && timeBin) {
    rssFile = join(rssDir, `${++rssSeq}.txt`);
    cmd = timeBin;
    argv = ['-v', '-o', rssFile, file, ...args];
  }
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let vmHwmKb = 0;
    let poll;
    if (rss && !timeBin) {
      // No /usr/bin/time: sample VmHWM (the kernel's own high-water mark) until the process goes.
      poll = setInterval(() => {
        try {
          const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/);
          if (m) vmHwmKb = Math.max(vmHwmKb, Number(m[1]));
        } catch {
          /* gone */
        }
      }, 5);
    }
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', () => {
      // wall time ends when the process exits (not when its pipes drain)
      child.endedAt = performance.now();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const endedAt = child.endedAt ?? performance.now();
      let peakRssKb = vmHwmKb || undefined;
      if (rssFile) {
        try {
          const text = readFileSync(rssFile, 'utf8');
          peakRssKb = Number(text.match(/Maximum resident set size \(kbytes\): (\d+)/)?.[1]) || undefined;
          const exit = text.match(/Exit status: (\d+)/);
          if (exit && code === 0) code = Number(exit[1]);
        } catch {
          /* time did not write it */
        }
      }
      resolve({ code, signal, stdout, stderr, ms: endedAt - startedAt, startedAt, endedAt, peakRssKb });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

export function cleanupProc() {
  rmSync(rssDir, { recursive: true, force: true });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const stats = (xs) => ({ n: xs.length, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
export const ms = (x) =>
  x === undefined || Number.isNaN(x) ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`;
export const ratio = (a, b) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}×`);
export const mb = (kb) => (kb === undefined ? '–' : `${(kb / 1024).toFixed(1)} MB`);
export const sleep = (msec) => new Promise((r) => setTimeout(r, msec));

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}
