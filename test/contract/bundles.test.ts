// The scripts stand alone: what the image copies to /opt/resource (launchers, lib/) is all they need (host only).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { lines, repoRoot, runScript } from '../support/run-script.js';
import { sideModules } from '../../scripts/bundle/check-bundle.mjs';

describe('the bundles', () => {
  test('run when copied alone with lib/ into an empty folder (no node_modules, no package.json)', () => {
    const alone = mkdtempSync(join(tmpdir(), 'kdr-alone-'));
    for (const name of ['check', 'in', 'out', 'lib']) {
      cpSync(join(repoRoot, 'assets', name), join(alone, name), { recursive: true });
    }
    for (const name of ['check', 'in', 'out']) {
      let stderr = '';
      let status = 0;
      try {
        execFileSync(join(alone, name), name === 'check' ? [] : [alone], {
          input: '{',
          env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
          stdio: 'pipe',
        });
      } catch (error) {
        const e = error as { status: number; stderr: Buffer };
        status = e.status;
        stderr = e.stderr.toString();
      }
      expect(status).toBe(2);
      expect(stderr.trim()).toBe('error: stdin: not valid JSON at position 1 (line 1 column 2)');
    }
  });

  // What each stand-in scripts/bundle/side/NAME.lazy.mjs takes from its side module.
  const used: Record<string, Record<string, 'function' | 'object' | 'symbol'>> = {
    'proxy-agents': {
      HttpProxyAgent: 'function',
      HttpsProxyAgent: 'function',
      SocksProxyAgent: 'function',
      SocksClient: 'function',
    },
    'jsonpath-plus': { JSONPath: 'function' },
    'openid-client': { discovery: 'function', refreshTokenGrant: 'function', customFetch: 'symbol' },
    'js-yaml': { load: 'function' },
  };
  test("lib/ holds the scripts' bundles and the side modules, each exporting what its stand-in uses", () => {
    expect(readdirSync(join(repoRoot, 'assets', 'lib')).sort()).toEqual(
      [...sideModules, 'check', 'in', 'out'].map((m) => `${m}.cjs`).sort(),
    );
    expect(Object.keys(used).sort()).toEqual([...sideModules].sort());
    // Loaded in a child process: the test process must not keep them (a later build rewrites them).
    for (const [name, exports] of Object.entries(used)) {
      const file = join(repoRoot, 'assets', 'lib', `${name}.cjs`);
      const script = `const m = require(${JSON.stringify(file)});
        console.log(JSON.stringify(Object.fromEntries(Object.keys(m).map((k) => [k, typeof m[k]]))));`;
      const types = JSON.parse(execFileSync(process.execPath, ['-e', script]).toString());
      expect(types, name).toEqual(exports);
    }
  });

  test('are executable launchers with a node shebang, each starting its bundle in lib/ (under 5 MB)', () => {
    for (const name of ['check', 'in', 'out']) {
      const file = join(repoRoot, 'assets', name);
      const info = statSync(file);
      expect(info.mode & 0o111).toBe(0o111);
      expect(readFileSync(file, 'utf8')).toBe(
        readFileSync(join(repoRoot, 'scripts', 'bundle', 'launcher.cjs'), 'utf8'),
      );
      expect(execFileSync('head', ['-n1', file]).toString()).toBe('#!/usr/bin/env node\n');
      expect(statSync(join(repoRoot, 'assets', 'lib', `${name}.cjs`)).size).toBeLessThan(5 * 1024 * 1024);
    }
  });
});

// Host only: inside the image the runner would have to mount a file as the destination dir.
describe('the destination', () => {
  test('in with a file as $1: exit 2 and a clear line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kdr-file-')), 'not-a-dir');
    writeFileSync(file, 'x');
    const version = { app: 'web', namespace: 'staging-42', revision: '3', image: '', deleted: 'true' };
    const result = await runScript(
      'in',
      { source: { cluster_url: 'https://127.0.0.1:6443', token: 'contract-token-0123456789', app: 'web' }, version },
      { dir: file },
    );
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `error: the destination ${file} is not a directory we can write to (EEXIST)`,
    ]);
  });
});
