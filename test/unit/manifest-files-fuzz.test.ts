// The files fuzz generators (test/support/fuzz-files.ts) run in-process against the readers a put uses, many more
// cases than the compiled-script suite can spawn: every generated manifests file is either read into objects that
// serialize to a bounded JSON, or refused with one BadRequestError line naming the file; nothing else is thrown.
// Replay: FUZZ_SEED=<seed> npx vitest run test/unit/manifest-files-fuzz.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { manifestLimits, parseExtraManifests } from '../../src/manifests/extra.js';
import { readManifestFiles } from '../../src/sources/read.js';
import { fileCategories } from '../support/fuzz-files.js';
import { repoRoot } from '../support/run-script.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);
const root = mkdtempSync(join(tmpdir(), 'kdr-manifest-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const realManifests = [readFileSync(join(repoRoot, 'test', 'fixtures', 'postgres.yml'), 'utf8')];

test(`generated manifests files: objects or one bad-request line naming the file (seed ${SEED})`, async () => {
  const categories = fileCategories(realManifests).filter((c) => c.name.startsWith('manifests:'));
  const outcomes = new Map<string, { read: number; refused: number }>();
  const problems: string[] = [];
  let index = 0;
  for (const [i, category] of categories.entries()) {
    for (const fuzzCase of fc.sample(category.arb, { seed: SEED + 104_729 * (i + 1), numRuns: category.count * 8 })) {
      const dir = `c${index++}`;
      const entries = Object.entries(fuzzCase.files);
      for (const [name, content] of entries) {
        mkdirSync(dirname(join(root, dir, name)), { recursive: true });
        writeFileSync(join(root, dir, name), content as string | Buffer);
      }
      const path = `${dir}/${entries[0]![0]}`;
      const tally = outcomes.get(category.name) ?? { read: 0, refused: 0 };
      outcomes.set(category.name, tally);
      try {
        const objects = parseExtraManifests(await readManifestFiles(root, [path]), 'fz', [
          'Deployment/web',
          'Service/web',
        ]);
        const json = JSON.stringify(objects);
        if (json.length > manifestLimits.releaseBytes * 2) problems.push(`${path}: ${json.length} bytes of JSON read`);
        if (fuzzCase.expect === 'invalid') problems.push(`${path} (${fuzzCase.detail}): an invalid file was read`);
        tally.read++;
      } catch (error) {
        const message = (error as Error).message;
        if (!(error instanceof BadRequestError))
          problems.push(`${path} (${fuzzCase.detail}): ${(error as Error).stack}`);
        else if (
          message.includes('\n') ||
          !(message.includes(path) || message.includes(JSON.stringify(path).slice(0, 40)))
        )
          problems.push(`${path}: ${JSON.stringify(message)}`);
        else if (fuzzCase.expect === 'valid')
          problems.push(`${path} (${fuzzCase.detail}): a valid file was refused: ${message}`);
        tally.refused++;
      }
    }
  }
  console.log(
    [
      `in-process manifests fuzz, seed ${SEED}: ${index} files`,
      ...[...outcomes].map(([n, t]) => `  ${n}: ${t.read} read, ${t.refused} refused`),
    ].join('\n'),
  );
  expect(problems).toEqual([]);
}, 300_000);
