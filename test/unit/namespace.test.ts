// The namespace's one home: one rule and one message (kube/names.ts) wherever a name comes from, how a request
// chooses it (request/namespace.ts, the parsers) and the one resolver of check and out (commands/context.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readPodNamespace } from '../../src/cluster/in-cluster.js';
import { releaseNamespace } from '../../src/commands/context.js';
import { BadRequestError } from '../../src/errors.js';
import { isNamespaceName, notANamespaceName } from '../../src/kube/names.js';
import { checkNamespaceName } from '../../src/request/namespace.js';
import { parseOutRequest } from '../../src/request/out-schema.js';
import { parseCheckRequest, parseInRequest } from '../../src/request/parse.js';
import { planPut } from '../../src/request/plan.js';
import { readNamespaceFile } from '../../src/sources/read.js';
import { tempDirs } from '../support/temp-dirs.js';

const source = { cluster_url: 'https://127.0.0.1:6443', token: 'abc', app: 'web' };
const version = { app: 'web', namespace: 'default', revision: '1', image: 'r:1' };

const tempDir = tempDirs('namespace');

/** A dir holding `name` as file `file`: a sources dir with a namespace file, or a ServiceAccount mount. */
function dirWith(file: string, name: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, file), name);
  return dir;
}
const pod = (mountRoot: string) => ({ serviceHost: '10.0.0.1', servicePort: '443', mountRoot });

async function messageOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as Error).message;
  }
  throw new Error('expected a BadRequestError');
}

/** Every way a namespace name reaches us, each refusing `name` with the field it came in. */
const routes: [string, (name: string) => unknown][] = [
  ['source.namespace', (name) => parseCheckRequest({ source: { ...source, namespace: name } })],
  ['version.namespace', (name) => parseInRequest({ source, version: { ...version, namespace: name } })],
  ['params.namespace', (name) => parseOutRequest({ source, params: { image_ref: 'x:1', namespace: name } })],
  ['params.namespace_file', (name) => readNamespaceFile(dirWith('ns', name), 'ns')],
  ['source.in_cluster', (name) => readPodNamespace(pod(dirWith('namespace', name)))],
];
/** params.namespace checked again once ${BUILD_NAME} is expanded (lowercased, other characters made -). */
const expanded = (name: string) =>
  planPut({ source, params: { image_ref: 'x:1', namespace: '${BUILD_NAME}' } }, { BUILD_NAME: name });

describe('one rule, one message', () => {
  test('the rule: a DNS-1123 label of at most 63 characters', () => {
    for (const name of ['a', 'default', 'team-a', '0', 'a1-b2', 'a'.repeat(63)])
      expect(isNamespaceName(name)).toBe(true);
    for (const name of ['', 'Team', 'team_a', '-a', 'a-', 'a.b', 'a'.repeat(64), '*']) {
      expect(isNamespaceName(name)).toBe(false);
    }
  });

  test.each(['TeamA', 'team_a', 'a'.repeat(64), 'a-'])(
    '%s: refused with the field and the one message',
    async (bad) => {
      for (const [field, route] of routes) {
        const message = await messageOf(() => route(bad));
        expect(message.startsWith(`${field}: `), message).toBe(true);
        expect(message.endsWith(notANamespaceName), message).toBe(true);
      }
    },
  );

  test.each(['a'.repeat(64), 'a-', '-a'])('%s as ${BUILD_NAME}: the expanded params.namespace refused alike', (bad) => {
    expect(() => expanded(bad)).toThrow(
      new BadRequestError(
        `params.namespace: ${JSON.stringify(bad)} (after expanding build variables) is ${notANamespaceName}`,
      ),
    );
    expect(expanded('Team_A.1')).toMatchObject({ namespace: { name: 'team-a-1' } });
  });

  test('a name of 63 characters passes every route', async () => {
    const name = 'a'.repeat(63);
    expect(parseCheckRequest({ source: { ...source, namespace: name } }).namespace).toEqual({ name });
    expect(parseInRequest({ source, version: { ...version, namespace: name } }).version.namespace).toBe(name);
    expect(planPut({ source, params: { image_ref: 'x:1', namespace: name } }, {})).toMatchObject({
      namespace: { name },
    });
    expect(await readNamespaceFile(dirWith('ns', `${name}\n`), 'ns')).toBe(name);
    expect(readPodNamespace(pod(dirWith('namespace', name)))).toBe(name);
  });

  test('a value shown is quoted and cut short; where it came from follows it', () => {
    expect(() => checkNamespaceName('Prod', 'params.namespace', ' (after expanding build variables)')).toThrow(
      new BadRequestError(`params.namespace: "Prod" (after expanding build variables) is ${notANamespaceName}`),
    );
    expect(() => checkNamespaceName('a'.repeat(100), 'params.namespace_file')).toThrow(
      new BadRequestError(`params.namespace_file: "${'a'.repeat(64)}…" is ${notANamespaceName}`),
    );
  });
});

describe('the one resolver (check and out)', () => {
  const network = (mountRoot: string) => ({ proxy: {}, inCluster: pod(mountRoot), pluginEnv: {} });

  test("check's request carries its choice: the source's namespace, default, or the Pod's", () => {
    expect(parseCheckRequest({ source: { ...source, namespace: 'staging' } }).namespace).toEqual({ name: 'staging' });
    expect(parseCheckRequest({ source }).namespace).toEqual({ name: 'default' });
    expect(parseCheckRequest({ source: { app: 'web', in_cluster: true } }).namespace).toEqual({ podNamespace: true });
  });

  test('a name as given; a file of the sources dir and the Pod mount read and checked', async () => {
    const mount = dirWith('namespace', 'ci-workers\n');
    const sources = tempDir();
    mkdirSync(join(sources, 'ns'));
    writeFileSync(join(sources, 'ns', 'name'), 'review-42\n');
    const deps = { network: network(mount) };
    expect(await releaseNamespace({ name: 'staging' }, deps)).toBe('staging');
    expect(await releaseNamespace({ podNamespace: true }, deps)).toBe('ci-workers');
    const readFile = (file: string) => readNamespaceFile(sources, file);
    expect(await releaseNamespace({ file: 'ns/name' }, deps, readFile)).toBe('review-42');
    await expect(releaseNamespace({ file: 'ns/name' }, deps)).rejects.toThrow(/no sources directory/);
    writeFileSync(join(sources, 'ns', 'name'), 'Review_42');
    expect(await messageOf(() => releaseNamespace({ file: 'ns/name' }, deps, readFile))).toBe(
      `params.namespace_file: "Review_42" is ${notANamespaceName}`,
    );
  });

  test('outside a Pod the Pod namespace is refused as such, not looked for', async () => {
    expect(await messageOf(() => releaseNamespace({ podNamespace: true }, {}))).toMatch(
      /^source\.in_cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT not set/,
    );
  });
});
