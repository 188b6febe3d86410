// vitest globalSetup: the suite-wide secret check. Every run of a compiled script (test/support/run-script.ts)
// appends its argv, stdout, stderr and the files `in` wrote to one capture file; at the end of the run, no
// credential of the test cluster and no canary planted by a test may appear anywhere in it.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sourcePath } from './cluster.ts';

/** Canary values tests plant in credentials and in Secret data of extra manifests. */
export const canaries = ['CANARY-SECRET-7f3a9c', 'staging-only-password', 'canary-db-password-5e1d'];

let captureDir: string | undefined;

/** Secrets a test makes at run time (a ServiceAccount's token behind an exec plugin or a mount), for the final scan. */
const plantedFile = () =>
  process.env.KDR_CAPTURE_FILE ? join(dirname(process.env.KDR_CAPTURE_FILE), 'planted-secrets.txt') : undefined;

/** Adds a secret that no script output may hold (called from test files; read back at the end of the run). */
export function plantSecret(value: string): void {
  const file = plantedFile();
  if (!file) throw new Error('plantSecret: no secret scan in this run (KDR_CAPTURE_FILE is not set)');
  if (value.length < 8) throw new Error('plantSecret: too short to scan for');
  appendFileSync(file, JSON.stringify(value) + '\n');
}

function plantedSecrets(): string[] {
  const file = plantedFile();
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string);
}

export function setup(): void {
  captureDir = mkdtempSync(join(tmpdir(), 'kdr-capture-'));
  process.env.KDR_CAPTURE_FILE = join(captureDir, 'captured.jsonl');
}

/** The secrets of the test cluster's source, as given and decoded, line by line. */
function clusterSecrets(): string[] {
  if (!existsSync(sourcePath)) return [];
  const source = JSON.parse(readFileSync(sourcePath, 'utf8')) as Record<string, string>;
  const out: string[] = [];
  for (const key of ['admin_key', 'admin_cert', 'token']) {
    const value = source[key];
    if (!value) continue;
    out.push(value);
    const pem = Buffer.from(value, 'base64').toString('utf8');
    for (const line of pem.split('\n')) if (line.length >= 16 && !line.startsWith('-----')) out.push(line);
  }
  const rbacToken = join(sourcePath, '..', 'rbac-token');
  if (existsSync(rbacToken)) out.push(readFileSync(rbacToken, 'utf8').trim());
  return out.filter((s) => s.length >= 8);
}

export function teardown(): void {
  const file = process.env.KDR_CAPTURE_FILE;
  try {
    if (!file || !existsSync(file)) {
      // A run of only unit or cluster tests starts no script: nothing to scan (the full suite always has runs).
      process.stderr.write('[secret scan] no script ran in this run: nothing to scan\n');
      return;
    }
    const captured = readFileSync(file, 'utf8');
    const runs = captured.split('\n').filter(Boolean).length;
    const secrets = [...canaries, ...clusterSecrets(), ...plantedSecrets()];
    const leaks = secrets
      .filter((secret) => captured.includes(secret))
      .map((s) => `${s.slice(0, 6)}… (${s.length} chars)`);
    if (leaks.length)
      throw new Error(
        `secret scan: ${leaks.length} secret value(s) appeared in script output, argv or in's files: ` +
          `${leaks.join(', ')}`,
      );
    process.stderr.write(`[secret scan] ${runs} script runs, ${secrets.length} secret values checked: none leaked\n`);
  } finally {
    if (captureDir) rmSync(captureDir, { recursive: true, force: true });
  }
}
