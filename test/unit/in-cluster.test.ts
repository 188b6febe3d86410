// The ServiceAccount mount of `in_cluster` (src/cluster/in-cluster.ts): the token, CA and the Pod's namespace, read
// from a mount laid out in a temp dir, with the errors (exit 2) a broken mount gives.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { readInCluster, readPodNamespace } from '../../src/cluster/in-cluster.js';
import { BadRequestError } from '../../src/errors.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function mount(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kdr-sa-unit-'));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  return root;
}
const invalidName = 'not a valid namespace name (lowercase letters, digits and -, at most 63)';
const pod = (root: string) => ({ serviceHost: '10.0.0.1', servicePort: '443', mountRoot: root });

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as Error).message;
  }
  throw new Error('expected a BadRequestError');
}

describe("the Pod's namespace (the default namespace of an in_cluster source)", () => {
  test('read from the mount, trimmed (the kubelet writes it without a line end; an editor adds one)', () => {
    expect(readPodNamespace(pod(mount({ namespace: 'ci-workers' })))).toBe('ci-workers');
    expect(readPodNamespace(pod(mount({ namespace: '  staging\n' })))).toBe('staging');
  });

  test('through the symlinks of the kubelet layout (..data)', () => {
    const root = mount({});
    mkdirSync(join(root, '..2026_11_27_12_00_00.1'));
    writeFileSync(join(root, '..2026_11_27_12_00_00.1', 'namespace'), 'team-a');
    symlinkSync('..2026_11_27_12_00_00.1', join(root, '..data'));
    symlinkSync(join('..data', 'namespace'), join(root, 'namespace'));
    expect(readPodNamespace(pod(root))).toBe('team-a');
  });

  test.each<[string, Record<string, string> | undefined, (root: string) => string]>([
    [
      'missing',
      {},
      (root) =>
        `source.in_cluster: cannot read the ServiceAccount's namespace at ${root}/namespace (ENOENT): ` +
        "name the target in source.namespace, or mount the ServiceAccount into the worker's Pod",
    ],
    [
      'empty',
      { namespace: ' \n' },
      (root) => `source.in_cluster: the ServiceAccount's namespace at ${root}/namespace is empty`,
    ],
    [
      'not a namespace name',
      { namespace: 'Team_A' },
      (root) => `source.in_cluster: "Team_A" (the ServiceAccount's namespace at ${root}/namespace) is ` + invalidName,
    ],
    [
      'longer than 63',
      { namespace: 'a'.repeat(64) },
      (root) =>
        `source.in_cluster: "${'a'.repeat(64)}" (the ServiceAccount's namespace at ${root}/namespace) is ` +
        invalidName,
    ],
    [
      'larger than its bound (read no further)',
      { namespace: 'a'.repeat(10_000) },
      (root) => `source.in_cluster: the ServiceAccount's namespace at ${root}/namespace is larger than 256 bytes`,
    ],
  ])('%s: exit 2 naming the file', (_name, files, message) => {
    const root = mount(files ?? {});
    expect(messageOf(() => readPodNamespace(pod(root)))).toBe(message(root));
  });

  test('a directory or a FIFO in its place: refused, never waited on', () => {
    const dirRoot = mount({});
    mkdirSync(join(dirRoot, 'namespace'));
    expect(messageOf(() => readPodNamespace(pod(dirRoot)))).toBe(
      `source.in_cluster: the ServiceAccount's namespace at ${dirRoot}/namespace is not a file`,
    );
    const fifoRoot = mount({});
    execFileSync('mkfifo', [join(fifoRoot, 'namespace')]);
    expect(messageOf(() => readPodNamespace(pod(fifoRoot)))).toBe(
      `source.in_cluster: the ServiceAccount's namespace at ${fifoRoot}/namespace is not a file`,
    );
  });

  test('outside a Pod that is what is said, before any file', () => {
    expect(messageOf(() => readPodNamespace({ mountRoot: mount({}) }))).toBe(
      'source.in_cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT not set: ' +
        'this does not run in a Kubernetes Pod (give cluster_url and credentials instead)',
    );
  });
});

describe('the token and CA', () => {
  test('read from the mount, with the server from the environment', () => {
    const root = mount({ token: 'abc.def\n', 'ca.crt': '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' });
    expect(readInCluster(pod(root))).toEqual({
      server: 'https://10.0.0.1:443',
      token: 'abc.def',
      caPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
    });
    expect(readInCluster({ ...pod(root), serviceHost: 'fd00::1' }).server).toBe('https://[fd00::1]:443');
  });

  test('a missing token names the file and the automount setting', () => {
    const root = mount({ 'ca.crt': 'x' });
    expect(messageOf(() => readInCluster(pod(root)))).toBe(
      `source.in_cluster: cannot read the ServiceAccount's token at ${root}/token (ENOENT): ` +
        "is the ServiceAccount token mounted into the worker's Pod (automountServiceAccountToken)?",
    );
  });
});
