// What both benches print about the machine and the code they measured.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { clusterEnv, repoRoot } from '../../test/support/cluster.js';

/**
 * The kubectl the benches run: the one built with the test cluster, of the same version (as a Concourse user's script
 * would use a kubectl matching the cluster); KUBECTL overrides it.
 */
export const KUBECTL = process.env.KUBECTL || clusterEnv().KUBECTL || 'kubectl';

/** The Kubernetes version of the test cluster the benches ran against, as up.sh pinned it. */
export const serverVersion = (): string => clusterEnv().KUBE_VERSION ?? 'unknown (not the local test cluster)';

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
