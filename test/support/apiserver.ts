// Kills the test cluster's kube-apiserver and starts it again with the same command line (disruptive tests only).
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterDir, kubectl, waitFor } from './cluster.js';

/** Where scripts/cluster/up.sh records kube-apiserver's pid (the bench watches it for restarts too). */
export const apiserverPidFile = join(clusterDir, 'run', 'kube-apiserver.pid');
const logFile = join(clusterDir, 'logs', 'kube-apiserver.log');

export async function killApiserver(): Promise<string[]> {
  const pid = Number(readFileSync(apiserverPidFile, 'utf8').trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  if (!argv[0]?.endsWith('kube-apiserver')) throw new Error(`pid ${pid} is not kube-apiserver: ${argv[0]}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(
    'kube-apiserver to exit',
    () => !existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '',
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  return argv;
}

export async function startApiserver(argv: string[]): Promise<void> {
  const log = openSync(logFile, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  writeFileSync(apiserverPidFile, `${child.pid}\n`);
  await waitFor(
    'kube-apiserver /readyz',
    async () => (await kubectl(['get', '--raw', '/readyz'], { allowFailure: true, timeoutMs: 5000 })).code === 0,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}
