// scripts/check-line-length.mjs (npm run format:check): every line over 120 characters in the code Prettier checks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';

const script = join(import.meta.dirname, '..', '..', 'scripts', 'check-line-length.mjs');
const long = `const message = '${'x'.repeat(120)}';`;
const exactly120 = `// ${'y'.repeat(117)}`;
const justOver = `// ${'y'.repeat(118)}`;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A git repository holding `files` (path → content; tracked unless `untracked` names it), checked by the script. */
function check(files: Record<string, string>, untracked: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-line-length-'));
  dirs.push(dir);
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
  };
  git('init', '--quiet');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const tracked = Object.keys(files).filter((path) => !untracked.includes(path));
  if (tracked.length > 0) git('add', '--', ...tracked);
  return spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
}

describe('check-line-length', () => {
  test('fails naming each file:line over 120 characters, in .ts, .mjs, .js and .cjs files', () => {
    const result = check({
      'src/a.ts': `${exactly120}\nconst a = 1;\n${long}\n`,
      'scripts/b.mjs': `${long}\n`,
      'c.js': `\n\n${justOver}`,
      'd.cjs': `${long}\r\n`,
      'src/clean.ts': `${exactly120}\n`,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      '4 line(s) longer than 120 characters:\n' +
        'c.js:3: 121 characters\n' +
        'd.cjs:1: 139 characters\n' +
        'scripts/b.mjs:1: 139 characters\n' +
        'src/a.ts:3: 139 characters\n',
    );
  });

  test('checks new files git does not ignore, as Prettier does', () => {
    const result = check({ 'src/new.ts': `${long}\n` }, ['src/new.ts']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('src/new.ts:1: 139 characters');
  });

  test('passes when every line is at most 120 characters', () => {
    const result = check({ 'src/a.ts': `${exactly120}\n${exactly120}\n`, 'b.mjs': 'export {};\n' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
  });

  test("skips what .prettierignore and .gitignore name, and files Prettier's glob does not take", () => {
    const result = check(
      {
        '.prettierignore': '# fixtures are byte-exact\ntest/fixtures/\n*.generated.ts\n',
        '.gitignore': 'out/\n',
        'test/fixtures/plugin.mjs': `${long}\n`,
        'src/schema.generated.ts': `${long}\n`,
        'out/bundle.js': `${long}\n`,
        'README.md': `${long}\n`,
        'data.json': `"${'z'.repeat(130)}"\n`,
        'src/a.ts': `${exactly120}\n`,
      },
      ['out/bundle.js'],
    );
    expect(result.status, result.stderr).toBe(0);
  });
});
