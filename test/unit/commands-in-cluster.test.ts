// check, in and out as functions with an `in_cluster` source and no namespace (issue 12): the Pod's own namespace is
// read from the ServiceAccount mount (a temp dir here) and carried in every version; a named namespace wins. The
// compiled scripts against the real API server: test/integration/credentials.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ClusterAuth } from '../../src/cluster/auth.js';
import { check } from '../../src/commands/check.js';
import type { CommandDeps } from '../../src/commands/context.js';
import { get } from '../../src/commands/in.js';
import { out as putPlan } from '../../src/commands/out.js';
import { planPut } from '../../src/request/plan.js';
import { BadRequestError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import { parseCheckRequest, parseInRequest } from '../../src/request/parse.js';
import { fakeWithController } from '../support/fake-release.js';
import { tempDirs } from '../support/temp-dirs.js';

/** As the out entrypoint runs it: the request planned (planPut), then the command; a refused request rejects. */
const out = async (request: unknown, dir: string, deps: CommandDeps) => putPlan(planPut(request, deps.env), dir, deps);

const tempDir = tempDirs('commands-in-cluster');

describe('in_cluster without a namespace', () => {
  test("the Pod's namespace from the mount, in every version; a given one wins", async () => {
    const fake = fakeWithController();
    const mountRoot = tempDir();
    writeFileSync(join(mountRoot, 'namespace'), 'ns');
    const inCluster = { app: 'web', in_cluster: true };
    const connected: ClusterAuth[] = [];
    const network = { proxy: {}, inCluster: { serviceHost: '10.0.0.1', servicePort: '443', mountRoot }, pluginEnv: {} };
    const deps: CommandDeps = {
      log: memoryLogger(),
      env: {},
      clock: fake.clock,
      network,
      connect: (auth, options) => {
        connected.push(auth);
        return fake.client(options.signal);
      },
    };
    const putIn = (params: Record<string, unknown>, src: Record<string, unknown> = inCluster) =>
      fake.clock.run(out({ source: src, params }, tempDir(), deps));

    const { version } = await putIn({ image_ref: 'registry.local/team/web:1' });
    expect(version).toEqual({ app: 'web', namespace: 'ns', revision: '1', image: 'registry.local/team/web:1' });
    expect(fake.get('apps/v1', 'Deployment', 'ns', 'web')).toBeDefined();
    expect(fake.objects('Deployment', 'default')).toEqual([]);
    expect(connected.map((a) => a.kind)).toEqual(['in-cluster']);
    expect(await check(parseCheckRequest({ source: inCluster }), deps)).toEqual([version]);
    expect((await get(parseInRequest({ source: inCluster, version }), tempDir(), deps)).version).toEqual(version);
    // The re-put: the same revision.
    expect((await putIn({ image_ref: 'registry.local/team/web:1' })).version).toEqual(version);
    // source.namespace and params.namespace win over the mount.
    expect(await check(parseCheckRequest({ source: { ...inCluster, namespace: 'default' } }), deps)).toEqual([]);
    const elsewhere = await putIn({ image_ref: 'registry.local/team/web:1', namespace: 'default' });
    expect(elsewhere.version.namespace).toBe('default');
    expect((await putIn({ delete: true, namespace: 'default' })).version.namespace).toBe('default');
    const deleted = await putIn({ delete: true });
    expect(deleted.version).toMatchObject({ namespace: 'ns', revision: '1', deleted: 'true' });
    expect(fake.objects('Deployment', 'ns')).toEqual([]);
    expect(await check(parseCheckRequest({ source: inCluster }), deps)).toEqual([]);
  });

  test('a mount without a namespace file: exit 2 naming it, before any connection or call', async () => {
    const fake = fakeWithController();
    const mountRoot = tempDir();
    const connected: ClusterAuth[] = [];
    const deps: CommandDeps = {
      log: memoryLogger(),
      env: {},
      clock: fake.clock,
      network: { proxy: {}, inCluster: { serviceHost: '10.0.0.1', servicePort: '443', mountRoot }, pluginEnv: {} },
      connect: (auth, options) => {
        connected.push(auth);
        return fake.client(options.signal);
      },
    };
    const source = { app: 'web', in_cluster: true };
    const error = await fake.clock
      .run(out({ source, params: { image_ref: 'registry.local/team/web:1' } }, tempDir(), deps))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toBe(
      `source.in_cluster: cannot read the ServiceAccount's namespace at ${mountRoot}/namespace (ENOENT): ` +
        "name the target in source.namespace, or mount the ServiceAccount into the worker's Pod",
    );
    await expect(check(parseCheckRequest({ source }), deps)).rejects.toBeInstanceOf(BadRequestError);
    await expect(fake.clock.run(out({ source, params: { delete: true } }, tempDir(), deps))).rejects.toBeInstanceOf(
      BadRequestError,
    );
    expect(connected).toEqual([]);
    expect(fake.calls).toEqual([]);
  });
});
