// What both benches print about the machine and the code they measured.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { repoRoot } from '../../test/support/cluster.js';

/** The kubectl the benches run (the machine's, as a Concourse user's script would find it). */
export const KUBECTL = '/usr/bin/kubectl';

/** kubectl's client version, or '' without one. */
export function kubectlClientVersion(): string {
  try {
    const out = execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
    return JSON.parse(out).clientVersion.gitVersion;
  } catch {
    return '';
  }
}

/** The short commit measured, marked when the measured code (src/, scripts/) differs from it; '' outside git. */
export function measuredCommit(): string {
  try {
    const commit = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'src', 'scripts'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${commit} (src or scripts have uncommitted changes)` : commit;
  } catch {
    return '';
  }
}

/** The 1/5/15-minute load averages, as `uptime` prints them. */
export const loadAverage = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
