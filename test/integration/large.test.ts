// Large releases: 100 extra objects, a ConfigMap near the 1 MiB object limit, and a release too large to record,
// which fails before anything is written (never a truncated record).
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { kubectlJson, useNamespace } from '../support/cluster.js';
import { readyImage } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';

const configMap = (name: string, data: Record<string, string>) =>
  `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n')}\n`;

describe('large releases', () => {
  const ns = useNamespace('kdr-large');

  test('100 objects in manifests are deployed and torn down with the release', { timeout: 300_000 }, async () => {
    const docs = Array.from({ length: 100 }, (_, i) =>
      configMap(`settings-${String(i).padStart(3, '0')}`, { index: String(i) }),
    ).join('');
    const dir = sourcesDir(tagOnly(readyImage('1')), { 'deps/many.yml': docs });
    const source = clusterSource({ namespace: ns.name });
    const put = await runScript('out', { source, params: { image: 'image', manifests: ['deps/many.yml'] } }, { dir });
    expect(put.code, put.stderr).toBe(0);
    const objects = (put.json as { metadata: { name: string; value: string }[] }).metadata
      .find((m) => m.name === 'objects')!
      .value.split(', ');
    expect(objects).toHaveLength(102);
    expect(
      (await kubectlJson(['get', 'configmaps', '-l', 'app.kubernetes.io/instance=web'], { namespace: ns.name })).items,
    ).toHaveLength(100);
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);
    expect(
      (await kubectlJson(['get', 'configmaps', '-l', 'app.kubernetes.io/instance=web'], { namespace: ns.name })).items,
    ).toEqual([]);
  });

  test('a ConfigMap near the 1 MiB limit is deployed (its record compresses)', async () => {
    const big = 'x'.repeat(1000 * 1000);
    const dir = sourcesDir(tagOnly(readyImage('1')), { 'deps/big.yml': configMap('big', { blob: big }) });
    const put = await runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { image: 'image', manifests: ['deps/big.yml'] } },
      { dir },
    );
    expect(put.code, put.stderr).toBe(0);
    const cm = await kubectlJson(['get', 'configmap', 'big'], { namespace: ns.name });
    expect(cm.data.blob).toHaveLength(1000 * 1000);
  });

  test('a release too large to record fails before anything is written', async () => {
    // Random data does not compress: the record would exceed what a Secret can hold.
    // Two ConfigMaps that are each valid, but together exceed it.
    const noise = () => randomBytes(500 * 1024).toString('base64');
    const dir = sourcesDir(tagOnly(readyImage('1')), {
      'deps/noise.yml': configMap('noise-a', { blob: noise() }) + configMap('noise-b', { blob: noise() }),
    });
    const put = await runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { image: 'image', manifests: ['deps/noise.yml'] } },
      { dir },
    );
    expect(put.code).toBe(2);
    expect(lines(put.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          String.raw`^error: the release is too large to record: \d+ KiB compressed, ` +
            String.raw`the limit of a Secret is \d+ KiB \(split params.manifests into another release\)$`,
        ),
      ),
    ]);
    expect(
      (
        await kubectlJson(['get', 'configmaps,deployments,secrets', '-l', 'app.kubernetes.io/instance=web'], {
          namespace: ns.name,
        })
      ).items,
    ).toEqual([]);
  });
});
