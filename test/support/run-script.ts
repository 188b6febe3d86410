// Runs a compiled script the way Concourse does: the file itself (its shebang finds node on PATH), one JSON request on
// stdin, $1 the directory, a minimal environment. With RESOURCE_RUNNER=image, the same inside the built image.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export type ScriptName = 'check' | 'in' | 'out';

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (undefined when empty or not JSON). */
  json: unknown;
  durationMs: number;
}

export interface RunOptions {
  dir?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Called with the child once spawned (to send signals). */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
}

export const imageMode = process.env.RESOURCE_RUNNER === 'image';

/** Every byte the scripts wrote, for the suite-wide secret check (see test/secrets). */
const captureFile = process.env.KDR_CAPTURE_FILE;

function command(name: ScriptName, dir: string | undefined): { file: string; args: string[] } {
  if (imageMode) {
    const args = [...(dir ? ['--mount', dir] : []), '--', `/opt/resource/${name}`, ...(dir ? [dir] : [])];
    return { file: join(repoRoot, 'scripts', 'image', 'run.sh'), args };
  }
  return { file: join(repoRoot, 'assets', name), args: dir ? [dir] : [] };
}

function readFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isFile()) out[name] = readFileSync(file, 'utf8');
  }
  return out;
}

export function runScript(name: ScriptName, request: unknown, options: RunOptions = {}): Promise<ScriptResult> {
  const input = typeof request === 'string' ? request : JSON.stringify(request);
  const { file, args } = command(name, options.dir);
  const env = {
    // Node 24 (the image's runtime) first, as the image's PATH has it.
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    ...(imageMode ? { HOME: process.env.HOME ?? '/root' } : {}),
    ...options.env,
  };
  // Concourse creates the destination dir before `in` runs (and the image runner mounts it).
  if (options.dir && !existsSync(options.dir)) mkdirSync(options.dir, { recursive: true });
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (captureFile) {
        // What `in` wrote counts as output too.
        const files = name === 'in' && options.dir && statSync(options.dir).isDirectory() ? readFiles(options.dir) : {};
        mkdirSync(dirname(captureFile), { recursive: true });
        appendFileSync(captureFile, JSON.stringify({ name, args, stdout, stderr, files }) + '\n');
      }
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolvePromise({ code, signal, stdout, stderr, json, durationMs: Date.now() - started });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** stderr lines without blank ones. */
export const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/** A put's or get's metadata (Concourse's name/value list) as an object. */
export function metadataOf(result: Pick<ScriptResult, 'json'>): Record<string, string> {
  return Object.fromEntries(
    (result.json as { metadata: { name: string; value: string }[] }).metadata.map((m) => [m.name, m.value]),
  );
}
