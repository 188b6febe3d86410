// The one table of side modules (scripts/bundle/side-modules.mjs): each row has its entry and its stand-in, and the
// build's guard and the stand-ins follow the table.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { otherStandIns, sideModuleTable, sideModules, standIns } from '../../scripts/bundle/side-modules.mjs';
import { bundleProblems } from '../../scripts/bundle/check-bundle.mjs';

const bundleDir = join(import.meta.dirname, '..', '..', 'scripts', 'bundle');
const empty = { inputs: {}, outputs: {} };
/** A metafile whose one output holds `path`. */
const holding = (path: string) => ({
  inputs: { [path]: { bytes: 1, imports: [] } },
  outputs: { 'assets/x': { bytes: 1, imports: [], exports: [], inputs: { [path]: { bytesInOutput: 100 } } } },
});

describe('the side module table', () => {
  test.each(sideModuleTable.map((m) => [m.name, m] as const))(
    '%s: has its entry side/NAME.mjs and a stand-in side/NAME.lazy.mjs that loads it by that name',
    (name, row) => {
      expect(existsSync(join(bundleDir, 'side', `${name}.mjs`))).toBe(true);
      const standIn = readFileSync(join(bundleDir, 'side', `${name}.lazy.mjs`), 'utf8');
      expect(standIn).toContain(`sideModule('${name}')`);
      expect(standIns).toContainEqual(
        expect.objectContaining({ stub: `side/${name}.lazy.mjs`, packages: row.packages }),
      );
    },
  );

  test.each(sideModuleTable.flatMap((m) => m.bundled.map((p) => [p, m] as const)))(
    'the build fails when %s enters a bundle its row covers',
    (pkg, row) => {
      const script = row.scripts?.[0] ?? 'out';
      const problems = bundleProblems(script, holding(`node_modules/${pkg}/index.js`));
      expect(problems).toEqual([
        `${script}: ${row.why} (side module lib/${row.name}.cjs) entered the bundle: node_modules/${pkg}/index.js`,
      ]);
      expect(bundleProblems(script, empty)).toEqual([]);
    },
  );

  test('names the side modules once each, and every other stand-in file exists', () => {
    expect(new Set(sideModules).size).toBe(sideModuleTable.length);
    for (const { stub } of otherStandIns) expect(existsSync(join(bundleDir, stub)), stub).toBe(true);
  });
});
