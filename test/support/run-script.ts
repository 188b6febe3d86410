// Runs a compiled script the way Concourse does: the file itself (its shebang finds node on PATH), one JSON request on
// stdin, $1 the directory, a minimal environment. With RESOURCE_RUNNER=image, the same inside the built image.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
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
  onSpawn?: (child: ChildProcessWithoutNullStreams) => void;
}

export const imageMode = process.env.RESOURCE_RUNNER === 'image';

/** Every byte the scripts wrote, for the suite-wide secret check (see test/secrets). */
const captureFile = process.env.KDR_CAPTURE_FILE;

function command(name: ScriptName, dir: string | undefined, env: string[]): { file: string; args: string[] } {
  if (imageMode) {
    // The test's variables reach the container by name (run.sh --env N): their values are on no command line.
    const args = [
      ...(dir ? ['--mount', dir] : []),
      ...env.flatMap((n) => ['--env', n]),
      '--',
      `/opt/resource/${name}`,
      ...(dir ? [dir] : []),
    ];
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

/** A finished process, timed from spawn to exit with performance.now() (the clock of the bench's watch events). */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
  /** endedAt − startedAt: wall time from spawn to exit (not until the pipes drain). */
  ms: number;
  /** Peak resident set size in KiB, when asked for (peakRss) and measurable. */
  peakRssKb?: number;
}

export interface ProcessOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  onSpawn?: (child: ChildProcessWithoutNullStreams) => void;
  /** Measure the peak RSS: under /usr/bin/time -v when there is one, else by sampling /proc/PID/status's VmHWM. */
  peakRss?: boolean;
}

const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
/** How runProcess measures peak RSS on this machine. */
export const peakRssMethod = timeBin ? '/usr/bin/time -v' : '/proc VmHWM';

/** Spawns a process, writes `input` to its stdin, and collects its output; killed after timeoutMs (default 180 s). */
export function runProcess(file: string, args: string[] = [], options: ProcessOptions = {}): Promise<ProcessResult> {
  let command = file;
  let argv = args;
  let rssDir: string | undefined;
  if (options.peakRss && timeBin) {
    rssDir = mkdtempSync(join(tmpdir(), 'kdr-rss-'));
    command = timeBin;
    argv = ['-v', '-o', join(rssDir, 'time.txt'), file, ...args];
  }
  return new Promise((resolvePromise, reject) => {
    const startedAt = performance.now();
    let endedAt: number | undefined;
    const child = spawn(command, argv, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let vmHwmKb = 0;
    // No /usr/bin/time: sample VmHWM (the kernel's own high-water mark) until the process goes.
    const poll =
      options.peakRss && !timeBin
        ? setInterval(() => {
            try {
              const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
              if (match) vmHwmKb = Math.max(vmHwmKb, Number(match[1]));
            } catch {
              // gone
            }
          }, 5)
        : undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      clearInterval(poll);
      if (rssDir) rmSync(rssDir, { recursive: true, force: true });
      reject(error);
    });
    // Wall time ends when the process exits, not when its pipes drain.
    child.on('exit', () => (endedAt = performance.now()));
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      let code = exitCode;
      let peakRssKb = vmHwmKb || undefined;
      if (rssDir) {
        try {
          const report = readFileSync(join(rssDir, 'time.txt'), 'utf8');
          peakRssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1]) || undefined;
          // time exits 1 with the child's status in its report when the child was killed or failed
          const exit = /Exit status: (\d+)/.exec(report);
          if (exit && code === 0) code = Number(exit[1]);
        } catch {
          // time did not write it
        }
        rmSync(rssDir, { recursive: true, force: true });
      }
      const end = endedAt ?? performance.now();
      resolvePromise({ code, signal, stdout, stderr, startedAt, endedAt: end, ms: end - startedAt, peakRssKb });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export async function runScript(name: ScriptName, request: unknown, options: RunOptions = {}): Promise<ScriptResult> {
  const input = typeof request === 'string' ? request : JSON.stringify(request);
  // PATH and HOME are the container's own in the image.
  const forwarded = Object.keys(options.env ?? {}).filter((n) => n !== 'PATH' && n !== 'HOME');
  const { file, args } = command(name, options.dir, forwarded);
  const env = {
    // Node 24 (the image's runtime) first, as the image's PATH has it.
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    ...(imageMode ? { HOME: process.env.HOME ?? '/root' } : {}),
    ...options.env,
  };
  // Concourse creates the destination dir before `in` runs (and the image runner mounts it).
  if (options.dir && !existsSync(options.dir)) mkdirSync(options.dir, { recursive: true });
  const { code, signal, stdout, stderr, ms } = await runProcess(file, args, {
    input,
    env,
    timeoutMs: options.timeoutMs,
    onSpawn: options.onSpawn,
  });
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
  return { code, signal, stdout, stderr, json, durationMs: Math.round(ms) };
}

/** stderr lines without blank ones. */
export const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/** A put's or get's metadata (Concourse's name/value list) as an object. */
export function metadataOf(result: Pick<ScriptResult, 'json'>): Record<string, string> {
  return Object.fromEntries(
    (result.json as { metadata: { name: string; value: string }[] }).metadata.map((m) => [m.name, m.value]),
  );
}
