// Lines <= 120 characters in the code Prettier checks (npm run format:check): Prettier wraps code at printWidth 120
// but never breaks a string, template literal or comment, so those long lines need this check of their own.
// Run from the repository's root; lists every file:line over the limit on stderr and exits 1 if there is any.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const maxLength = 120;
const checked = /\.(ts|mjs|js|cjs)$/;

/** NUL-separated git output as a list of paths. */
function paths(output) {
  return output.split('\0').filter((path) => path !== '');
}

/** The files Prettier checks: tracked or new (not git-ignored) code files, less those .prettierignore names. */
function checkedFiles(root) {
  const candidates = paths(
    execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
    }),
  ).filter((path) => checked.test(path) && existsSync(resolve(root, path)));
  const prettierIgnore = resolve(root, '.prettierignore');
  if (!existsSync(prettierIgnore) || candidates.length === 0) return candidates;
  // git check-ignore applies .prettierignore with gitignore's rules, the rules Prettier follows; --no-index so that
  // tracked files are matched too. It exits 1 when nothing is ignored.
  let ignoredOutput = '';
  try {
    ignoredOutput = execFileSync(
      'git',
      ['-c', `core.excludesFile=${prettierIgnore}`, 'check-ignore', '--no-index', '-z', '--stdin'],
      { cwd: root, encoding: 'utf8', input: candidates.join('\0') + '\0' },
    );
  } catch (error) {
    if (error.status !== 1) throw error;
  }
  const ignored = new Set(paths(ignoredOutput));
  return candidates.filter((path) => !ignored.has(path));
}

/** Every line over the limit in `root`'s checked files, as `file:line: N characters`. */
function longLines(root) {
  const found = [];
  for (const file of checkedFiles(root).sort()) {
    const lines = readFileSync(resolve(root, file), 'utf8').split(/\r?\n/);
    lines.forEach((line, index) => {
      // Characters as an editor counts them (code points), not UTF-16 units.
      const length = [...line].length;
      if (length > maxLength) found.push(`${file}:${index + 1}: ${length} characters`);
    });
  }
  return found;
}

const found = longLines(process.cwd());
if (found.length > 0) {
  console.error(`${found.length} line(s) longer than ${maxLength} characters:\n${found.join('\n')}`);
  process.exit(1);
}
