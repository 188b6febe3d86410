// Extra manifests written the way people write YAML (issue 17) reach the real cluster as meant: a List holding
// anchors, aliases and merge keys, saved with a BOM and CRLF line ends. Re-put unchanged, re-put changed, a refused
// alias bomb in between (nothing created, the release untouched), then the teardown.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { kubectlJson, useNamespace } from '../support/cluster.js';
import { clusterSource, emptyDir, sourcesDir } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';

const manifests = (log: string) =>
  '\uFEFF# settings shared through an anchor\r\n---\r\n' +
  [
    'apiVersion: v1',
    'kind: List',
    'items:',
    '  - apiVersion: v1',
    '    kind: ConfigMap',
    '    metadata: {name: base-settings}',
    '    data: &base',
    `      LOG: ${log}`,
    '      PORT: "8080"',
    '  - apiVersion: v1',
    '    kind: ConfigMap',
    '    metadata: {name: worker-settings}',
    '    data:',
    '      <<: *base',
    '      PORT: "9090"',
    '...',
    '',
  ].join('\r\n');

const bomb = (() => {
  let text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 ["lol"]\n';
  for (let i = 1; i < 10; i++)
    text += `  a${i}: &a${i} [${Array(9)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return text;
})();

describe('extra manifests with anchors, merge keys, a BOM and CRLF', () => {
  const ns = useNamespace('kdr-yaml');

  test(
    'deployed as meant; re-put same and changed; a refused alias bomb changes nothing; torn down',
    { timeout: 300_000 },
    async () => {
      const dir = sourcesDir(
        { repository: 'registry.local/team/web', tag: '1' },
        { 'deps/settings.yml': manifests('info'), 'deps/bomb.yml': bomb },
      );
      const source = clusterSource({ namespace: ns.name });
      const put = (files: string[]) =>
        runScript('out', { source, params: { image: 'image', wait: false, manifests: files } }, { dir });
      const data = async (name: string) => (await kubectlJson(['get', 'configmap', name], { namespace: ns.name })).data;

      const first = await put(['deps/settings.yml']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json).toMatchObject({ version: { revision: '1' } });
      expect(await data('base-settings')).toEqual({ LOG: 'info', PORT: '8080' });
      expect(await data('worker-settings')).toEqual({ LOG: 'info', PORT: '9090' });

      const same = await put(['deps/settings.yml']);
      expect(same.code, same.stderr).toBe(0);
      expect(same.json).toMatchObject({ version: { revision: '1' } });

      const refused = await put(['deps/settings.yml', 'deps/bomb.yml']);
      expect(refused.code).toBe(2);
      expect(lines(refused.stderr)).toEqual([
        'error: params.manifests: deps/bomb.yml line 11: the document is larger than 3 MiB with its aliases expanded',
      ]);
      const lol = await kubectlJson(['get', 'configmaps', '--field-selector', 'metadata.name=lol'], {
        namespace: ns.name,
      });
      expect(lol.items).toEqual([]);

      writeFileSync(join(dir, 'deps', 'settings.yml'), manifests('debug'));
      const changed = await put(['deps/settings.yml']);
      expect(changed.code, changed.stderr).toBe(0);
      expect(changed.json).toMatchObject({ version: { revision: '2' } });
      expect(await data('worker-settings')).toEqual({ LOG: 'debug', PORT: '9090' });

      const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
      expect(del.code, del.stderr).toBe(0);
      expect(
        (await kubectlJson(['get', 'configmaps', '-l', 'app.kubernetes.io/instance=web'], { namespace: ns.name }))
          .items,
      ).toEqual([]);
    },
  );
});
