// The esbuild bundles stand alone: what the image copies to /opt/resource is all they need (host only).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { lines, repoRoot, runScript } from '../support/run-script.js';

describe('the bundles', () => {
  test('run when copied alone into an empty folder (no node_modules, no package.json)', () => {
    const alone = mkdtempSync(join(tmpdir(), 'kdr-alone-'));
    for (const name of ['check', 'in', 'out']) cpSync(join(repoRoot, 'assets', name), join(alone, name));
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

  test('are executable single files with a node shebang, each under 5 MB', () => {
    for (const name of ['check', 'in', 'out']) {
      const file = join(repoRoot, 'assets', name);
      const info = statSync(file);
      expect(info.mode & 0o111).toBe(0o111);
      expect(info.size).toBeLessThan(5 * 1024 * 1024);
      expect(execFileSync('head', ['-n1', file]).toString()).toBe('#!/usr/bin/env node\n');
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
