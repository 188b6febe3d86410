// The exec credential plugin runner, on the test plugins in test/fixtures/exec-plugins: what the plugin is given, what
// comes back, and the one message for each way a plugin fails (not found, not executable, silent, failing, wrong
// output). Real processes, no cluster.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { runExecPlugin, type ExecConfig, type ExecRunOptions } from '../../src/cluster/exec-credential.js';
import { ClusterConnectionError } from '../../src/errors.js';

const plugins = join(import.meta.dirname, '..', 'fixtures', 'exec-plugins');
const apiVersion = 'client.authentication.k8s.io/v1';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-exec-'));
  dirs.push(dir);
  return dir;
}

const baseEnv = { PATH: process.env.PATH ?? '' };
const options = (extra: Partial<ExecRunOptions> = {}): ExecRunOptions => ({
  user: 'ci',
  baseEnv,
  timeoutMs: 10_000,
  ...extra,
});
const who = (command: string) => `the exec credential plugin ${JSON.stringify(command)} of kubeconfig user "ci"`;

async function failure(exec: ExecConfig, extra: Partial<ExecRunOptions> = {}): Promise<Error> {
  const error = await runExecPlugin(exec, options(extra)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClusterConnectionError);
  return error as Error;
}

describe('a plugin that answers', () => {
  test('its token comes back, redacted with the long values of its env; it learns the cluster', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'token-of-the-plugin-0123456789\n');
    const secrets: string[] = [];
    const exec: ExecConfig = {
      apiVersion,
      command: join(plugins, 'token-plugin.mjs'),
      args: ['get-token', '--cluster', 'c1'],
      env: [
        { name: 'KDR_PLUGIN_TOKEN_FILE', value: join(dir, 'token') },
        { name: 'KDR_PLUGIN_RECORD', value: join(dir, 'record') },
        { name: 'KDR_PLUGIN_GREETING', value: 'short' },
      ],
      provideClusterInfo: true,
    };
    const cluster = { server: 'https://k8s.example.com:6443', 'insecure-skip-tls-verify': true };
    const result = await runExecPlugin(exec, options({ cluster, addSecret: (s) => secrets.push(s) }));
    expect(result).toEqual({
      token: 'token-of-the-plugin-0123456789',
      clientCertificateData: undefined,
      clientKeyData: undefined,
    });
    expect(secrets).toEqual([join(dir, 'token'), join(dir, 'record'), 'token-of-the-plugin-0123456789']);
    const record = JSON.parse(readFileSync(join(dir, 'record'), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({
      args: ['get-token', '--cluster', 'c1'],
      info: { apiVersion, kind: 'ExecCredential', spec: { interactive: false, cluster } },
      greeting: 'short',
      stdinIsTTY: false,
    });
  });

  test('without provideClusterInfo it is not told the cluster', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'token-of-the-plugin-0123456789');
    const env = [
      { name: 'KDR_PLUGIN_TOKEN_FILE', value: join(dir, 'token') },
      { name: 'KDR_PLUGIN_RECORD', value: join(dir, 'record') },
    ];
    const exec: ExecConfig = { apiVersion, command: join(plugins, 'token-plugin.mjs'), env };
    await runExecPlugin(exec, options({ cluster: { server: 'https://k8s.example.com:6443' } }));
    const record = JSON.parse(readFileSync(join(dir, 'record'), 'utf8')) as { info: unknown };
    expect(record.info).toEqual({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
  });
});

describe('a plugin that fails: one line naming it and why', () => {
  test('not found, with the first line of its install hint', async () => {
    const command = '/nonexistent/kdr-plugin';
    const error = await failure({ apiVersion, command, installHint: '\n  Install it with: brew install it\nmore' });
    expect(error.message).toBe(
      `${who(command)} was not found (not installed in the image, or not on PATH): Install it with: brew install it`,
    );
  });

  test('not executable', async () => {
    const command = join(tempDir(), 'plugin.sh');
    writeFileSync(command, '#!/bin/sh\necho {}\n');
    chmodSync(command, 0o644);
    expect((await failure({ apiVersion, command })).message).toBe(
      `${who(command)} cannot be run (EACCES: not executable)`,
    );
  });

  test('silent past the bound: killed, and the bound named', async () => {
    const command = join(plugins, 'hanging-plugin.sh');
    expect((await failure({ apiVersion, command }, { timeoutMs: 300 })).message).toBe(
      `${who(command)} did not answer within 300ms`,
    );
  });

  test('a non-zero exit: the first line of its stderr, its env values redacted', async () => {
    const command = join(plugins, 'failing-plugin.sh');
    const secrets: string[] = [];
    const env = [{ name: 'KDR_PLUGIN_SECRET', value: 'sts-secret-0123456789' }];
    const error = await failure({ apiVersion, command, env }, { addSecret: (s) => secrets.push(s) });
    expect(error.message).toBe(
      `${who(command)} failed (exit code 1): error: getting credentials: AccessDenied for key ` +
        'sts-secret-0123456789: not authorized to perform sts:AssumeRole',
    );
    expect(secrets).toEqual(['sts-secret-0123456789']);
  });

  test('output that is not JSON', async () => {
    const error = await failure({ apiVersion, command: 'echo', args: ['hello'] });
    expect(error.message).toBe(`${who('echo')} did not print an ExecCredential (its output is not JSON)`);
  });

  test('an ExecCredential of another apiVersion', async () => {
    const command = join(plugins, 'wrong-version-plugin.sh');
    expect((await failure({ apiVersion, command })).message).toBe(
      `${who(command)} did not print an ExecCredential of ${apiVersion}`,
    );
  });

  test('neither a token nor a client certificate and key', async () => {
    const credential = JSON.stringify({ apiVersion, kind: 'ExecCredential', status: {} });
    const script = `process.stdout.write(${JSON.stringify(credential)})`;
    const error = await failure({ apiVersion, command: 'node', args: ['-e', script] });
    expect(error.message).toBe(`${who('node')} returned neither a token nor a client certificate and key`);
  });
});
