// The image's code caches (Dockerfile: scripts/bundle/fill-code-cache.mjs at build time): each script starts from its
// V8 code cache, which V8 accepts (the same Node that wrote it), and answers as without it. Image project only.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loopbackPki, startEmptyListServer, type LoopbackServer } from '../support/loopback-servers.js';
import { imageMode, lines, runScript } from '../support/run-script.js';

let server: LoopbackServer & { port: number };
beforeAll(async () => {
  server = await startEmptyListServer();
});
afterAll(async () => {
  await server.close();
});

const report = { KDR_CODE_CACHE_REPORT: '1' };
const used = (script: string) => `code cache: used /opt/resource/lib/${script}.v8-cache`;

describe('the code caches the image ships', () => {
  test('this suite runs the scripts inside the image', () => {
    expect(imageMode).toBe(true);
  });

  test('check starts from its cache and lists the releases', async () => {
    const cluster_ca = Buffer.from(loopbackPki().caPem).toString('base64');
    const source = { cluster_url: server.url, cluster_ca, token: 'image-cache-token-0123', app: 'web' };
    const r = await runScript('check', { source }, { env: report });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual([]);
    expect(lines(r.stderr)).toEqual([used('check')]);
  });

  test.each([
    ['in', 'error: source.app: is required; version: is required'],
    [
      'out',
      'error: source.app: is required; params: give params.image (a registry-image get directory) or ' +
        'params.image_ref (unless params.delete is true or params.revision is given)',
    ],
  ] as const)(
    '%s starts from its cache (a bad request: exit 2, the usual line after the report)',
    async (script, line) => {
      const r = await runScript(script, { source: {} }, { env: report, dir: mkdtempSync(join(tmpdir(), 'kdr-cc-')) });
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual([used(script), line]);
    },
  );
});
