// Exec credential plugins (client.authentication.k8s.io v1 and v1beta1), as kubectl runs them: `aws eks get-token`,
// `gke-gcloud-auth-plugin`, `kubelogin`. Our own runner rather than the client library's ExecAuth, which has no time
// bound, sets no KUBERNETES_EXEC_INFO (provideClusterInfo), reads process.env itself and reports all of stderr.
import { spawn } from 'node:child_process';
import { ClusterConnectionError } from '../errors.js';
import { formatBound } from './errors.js';

export const execApiVersions = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;

/** The `exec` stanza of a kubeconfig user (already checked by auth.ts). */
export interface ExecConfig {
  apiVersion: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  provideClusterInfo?: boolean;
  interactiveMode?: string;
  installHint?: string;
}

/** What the plugin may learn of the cluster (provideClusterInfo). */
export interface ExecClusterInfo {
  server: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

export interface ExecResult {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
}

export interface ExecRunOptions {
  user: string;
  /** The environment the plugin starts from (the script's own; protocol/ passes it). */
  baseEnv: Record<string, string>;
  timeoutMs: number;
  cluster?: ExecClusterInfo;
  /** Values to keep out of every log line: the exec env values and the credential returned. */
  addSecret?: (value: string) => void;
}

const firstLine = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '')
    ?.slice(0, 300);

export async function runExecPlugin(exec: ExecConfig, options: ExecRunOptions): Promise<ExecResult> {
  const who =
    `the exec credential plugin ${JSON.stringify(exec.command)} ` +
    `of kubeconfig user ${JSON.stringify(options.user)}`;
  for (const { value } of exec.env ?? []) if (value.length >= 8) options.addSecret?.(value);
  const info = {
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...(exec.provideClusterInfo && options.cluster ? { cluster: options.cluster } : {}) },
  };
  const env: Record<string, string> = { ...options.baseEnv, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const { name, value } of exec.env ?? []) env[name] = value;

  const { code, stdout, stderr, failure } = await runBounded(exec.command, exec.args ?? [], env, options.timeoutMs);
  if (failure) throw startFailure(who, failure, exec, options.timeoutMs);
  if (code !== 0) {
    const line = firstLine(stderr);
    throw new ClusterConnectionError(
      `${who} failed (exit code ${code})${line ? `: ${line}` : ' without a word on stderr'}`,
    );
  }
  const result = credentialOf(who, exec.apiVersion, stdout);
  for (const value of [result.token, result.clientKeyData]) if (value) options.addSecret?.(value);
  if (!result.token && !(result.clientCertificateData && result.clientKeyData)) {
    throw new ClusterConnectionError(`${who} returned neither a token nor a client certificate and key`);
  }
  return result;
}

interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
  failure?: Error;
}

/** Runs the plugin to its end, or kills it at the bound (a `TIMEOUT` failure); no stdin: it is not interactive. */
function runBounded(command: string, args: string[], env: Record<string, string>, timeoutMs: number) {
  return new Promise<PluginRun>((resolve) => {
    let stdout = '';
    let stderr = '';
    let done = false;
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = (result: { code: number | null; failure?: Error }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...result, stdout, stderr });
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ code: null, failure: Object.assign(new Error('timeout'), { code: 'TIMEOUT' }) });
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => finish({ code: null, failure: error }));
    child.on('close', (exitCode) => finish({ code: exitCode }));
  });
}

/** Why the plugin did not run to its end: not found, not executable, silent past the bound, or otherwise. */
function startFailure(who: string, failure: Error, exec: ExecConfig, timeoutMs: number): ClusterConnectionError {
  const errno = (failure as NodeJS.ErrnoException).code;
  if (errno === 'ENOENT') {
    const hint = exec.installHint ? `: ${firstLine(exec.installHint)}` : '';
    return new ClusterConnectionError(`${who} was not found (not installed in the image, or not on PATH)${hint}`);
  }
  if (errno === 'EACCES') return new ClusterConnectionError(`${who} cannot be run (EACCES: not executable)`);
  if (errno === 'TIMEOUT') return new ClusterConnectionError(`${who} did not answer within ${formatBound(timeoutMs)}`);
  return new ClusterConnectionError(`${who} could not be started (${errno ?? failure.message})`);
}

/** The credential in the plugin's output: an ExecCredential of the apiVersion asked for, its non-empty fields. */
function credentialOf(who: string, apiVersion: string, stdout: string): ExecResult {
  let credential: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  try {
    credential = JSON.parse(stdout) as typeof credential;
  } catch {
    throw new ClusterConnectionError(`${who} did not print an ExecCredential (its output is not JSON)`);
  }
  if (credential?.kind !== 'ExecCredential' || credential.apiVersion !== apiVersion) {
    throw new ClusterConnectionError(`${who} did not print an ExecCredential of ${apiVersion}`);
  }
  const status = credential.status ?? {};
  const text = (key: string) =>
    typeof status[key] === 'string' && status[key] !== '' ? (status[key] as string) : undefined;
  return {
    token: text('token'),
    clientCertificateData: text('clientCertificateData'),
    clientKeyData: text('clientKeyData'),
  };
}
