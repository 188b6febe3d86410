// The launchers (assets/{check,in,out} = scripts/bundle/launcher.cjs) and the V8 code cache the image fills
// (scripts/bundle/fill-code-cache.mjs): a cache is used when V8 accepts it, ignored when it does not, written only by
// the fill run; the scripts behave the same with and without one. On a copy of assets/ (host only; the image's own
// caches: test/image/code-cache.test.ts).
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loopbackPki, startEmptyListServer, type LoopbackServer } from '../support/loopback-servers.js';
import { lines, repoRoot, runProcess } from '../support/run-script.js';

const scripts = ['check', 'in', 'out'] as const;
const cacheOf = (dir: string) => join(dir, 'lib', 'check.v8-cache');
let server: LoopbackServer & { port: number };
beforeAll(async () => {
  server = await startEmptyListServer();
});
afterAll(async () => {
  await server.close();
});

/** A copy of assets/ (launchers and lib/), as the image lays it out. */
function copyOfAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-code-cache-'));
  for (const entry of [...scripts, 'lib', 'package.json']) {
    cpSync(join(repoRoot, 'assets', entry), join(dir, entry), { recursive: true });
  }
  return dir;
}

const env = (extra: Record<string, string> = {}) => ({
  PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
  KDR_CODE_CACHE_REPORT: '1',
  ...extra,
});

function fill(dir: string) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'bundle', 'fill-code-cache.mjs'), dir], {
    env: { PATH: env().PATH },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
}

/** check against the stand-in API server (an empty list: `[]`), with the cache report on stderr. */
function check(dir: string) {
  const cluster_ca = Buffer.from(loopbackPki().caPem).toString('base64');
  const source = { cluster_url: server.url, cluster_ca, token: 'code-cache-token-0123', app: 'web' };
  return runProcess(join(dir, 'check'), [], { input: JSON.stringify({ source }), env: env() });
}

describe('the launcher and the code cache', () => {
  test('without a cache the bundle is loaded by Node, and no cache is written', async () => {
    const dir = copyOfAssets();
    const r = await check(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('[]\n');
    expect(lines(r.stderr)).toEqual([`code cache: none at ${join(dir, 'lib', 'check.v8-cache')}`]);
    expect(readdirSync(join(dir, 'lib')).filter((f) => f.endsWith('.v8-cache'))).toEqual([]);
  });

  test('the fill run writes one cache per script; each start uses it and leaves it as it was', async () => {
    const dir = copyOfAssets();
    fill(dir);
    const cache = cacheOf(dir);
    expect(
      readdirSync(join(dir, 'lib'))
        .filter((f) => f.includes('.v8-cache'))
        .sort(),
    ).toEqual(scripts.map((s) => `${s}.v8-cache`).sort());
    const before = readFileSync(cache);
    for (let i = 0; i < 2; i++) {
      const r = await check(dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('[]\n');
      expect(lines(r.stderr)).toEqual([`code cache: used ${cache}`]);
    }
    expect(readFileSync(cache).equals(before)).toBe(true);
    // in and out through their caches: the same answers as without (a bad request: exit 2, one line).
    for (const script of ['in', 'out'] as const) {
      const r = await runProcess(join(dir, script), [dir], { input: '{"source": {}}', env: env() });
      expect(r.code).toBe(2);
      expect(lines(r.stderr)[0]).toBe(`code cache: used ${join(dir, 'lib', `${script}.v8-cache`)}`);
      const plain = await runProcess(join(repoRoot, 'assets', script), [dir], {
        input: '{"source": {}}',
        env: env({ KDR_CODE_CACHE_REPORT: '' }),
      });
      expect(lines(r.stderr).slice(1)).toEqual(lines(plain.stderr));
    }
  });

  test.each([
    ['a cache that is not one (garbage bytes)', (dir: string) => writeFileSync(cacheOf(dir), 'not a V8 code cache')],
    ['a stale cache (the bundle changed since)', (dir: string) => appendFileSync(join(dir, 'lib', 'check.cjs'), '\n;')],
  ])('%s is rejected and the bundle compiled from its source', async (_name, spoil) => {
    const dir = copyOfAssets();
    fill(dir);
    spoil(dir);
    const r = await check(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('[]\n');
    expect(lines(r.stderr)).toEqual([`code cache: rejected ${cacheOf(dir)}`]);
  });
});
