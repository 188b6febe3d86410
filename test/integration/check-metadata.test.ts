// check lists the release records as metadata only (issue 28), against the real API server: it answers our Accept
// header with a PartialObjectMetadataList (no data), and a check bound to nothing but `list` on Secrets works.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveClusterAuth } from '../../src/cluster/auth.js';
import { connectCluster } from '../../src/cluster/client.js';
import { recordSelector } from '../../src/engine/records.js';
import { memoryLogger } from '../../src/log.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { clusterDir, kubectl, useNamespace, usingExternalCluster } from '../support/cluster.js';
import { readyImage } from '../support/images.js';
import { base64, makeEcKey, signClientCert } from '../support/pki.js';
import { clusterSource, sourcesDir, tagOnly } from '../support/release.js';
import { runScript } from '../support/run-script.js';

/** A ConfigMap of random characters: its release record is about as large (random data does not compress). */
const noise = (kib: number) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'noise' },
    data: { blob: randomBytes(kib * 768).toString('base64') },
  });

describe('release records listed as metadata only', () => {
  const ns = useNamespace('kdr-meta');

  /** `count` puts of web, each with a ConfigMap of `kib` KiB of random characters (none when 0). */
  const puts = async (count: number, kib: number) => {
    for (let i = 0; i < count; i++) {
      const files: Record<string, string> = kib ? { 'deps/noise.yml': noise(kib) } : {};
      const dir = sourcesDir(tagOnly(readyImage('1')), files);
      const params = { image: 'image', manifests: kib ? ['deps/noise.yml'] : [], wait: false };
      const put = await runScript('out', { source: clusterSource({ namespace: ns.name }), params }, { dir });
      expect(put.code, put.stderr).toBe(0);
    }
  };

  test('3 revisions of a 300 KiB release: the server answers a metadata list, < 1/100 of the full one', async () => {
    await puts(3, 300);
    const source = parseCheckRequest({ source: clusterSource({ namespace: ns.name }) }).source;
    const log = memoryLogger();
    const cluster = connectCluster(resolveClusterAuth(source), { log });
    const metadata = await cluster.listMetadata('v1', 'Secret', ns.name, recordSelector('web'));
    const full = await cluster.list('v1', 'Secret', ns.name, recordSelector('web'));
    expect(metadata.items.map((i) => i.metadata.name).sort()).toEqual([1, 2, 3].map((r) => `kdr-release.web.v${r}`));
    expect(metadata.items.every((i) => Object.keys(i).sort().join() === 'apiVersion,kind,metadata')).toBe(true);
    // No line: the server answered a PartialObjectMetadataList, not whole Secrets cut down here.
    expect(log.lines).toEqual([]);
    expect(JSON.stringify(full).length).toBeGreaterThan(900 * 1024);
    expect(JSON.stringify(metadata).length).toBeLessThan(JSON.stringify(full).length / 100);
  });

  test('check bound to nothing but list on Secrets in the namespace', async (ctx) => {
    // A client certificate of a user whose only grant is `list` on Secrets in this namespace (the local cluster's CA
    // signs it: an external cluster's CA key is not at hand).
    const caKeyPath = join(clusterDir, 'pki', 'ca.key');
    if (usingExternalCluster() || !existsSync(caKeyPath)) ctx.skip();
    await puts(1, 0);
    const user = `kdr-list-only-${ns.name}`;
    const keyPem = makeEcKey();
    const certPem = signClientCert({
      caCertPath: join(clusterDir, 'pki', 'ca.crt'),
      caKeyPath,
      keyPem,
      subject: `/CN=${user}`,
    });
    await kubectl(['create', 'role', 'list-secrets', '--verb=list', '--resource=secrets'], { namespace: ns.name });
    await kubectl(['create', 'rolebinding', 'list-secrets', '--role=list-secrets', `--user=${user}`], {
      namespace: ns.name,
    });
    const listOnly = clusterSource({ namespace: ns.name, admin_cert: base64(certPem), admin_key: base64(keyPem) });
    const check = await runScript('check', { source: listOnly });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([{ app: 'web', namespace: ns.name, revision: '1', image: expect.any(String) }]);
    expect(check.stderr).toBe('');
  });
});
