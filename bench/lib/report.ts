// Renders bench/RESULTS.md (and bench/results.json) from the figures bench/run.ts gathered: one function per section,
// each returning its markdown lines; renderReport() puts them together (a pure function, unit-tested), writeReport()
// writes the files.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../test/support/cluster.js';
import type { FullBenchResults } from './results.js';
import { checkScaleBlockPattern } from './scale-report.js';
import { machineSection, targetsSection } from './report-targets.js';
import { checkSection, putSection } from './report-check-put.js';
import { failureSection, scaleSection, memoryAndSizeSection } from './report-failure-scale.js';
import { lifecycleSections, cleanupSection } from './report-lifecycle.js';
// The sections live in report-*.ts; they are exported from here as before.
export { groupedRequests, requestList } from './report-requests.js';
export { machineSection, targetsSection } from './report-targets.js';
export { checkSection, putSection } from './report-check-put.js';
export { failureSection, memoryAndSizeSection, scaleSection } from './report-failure-scale.js';
export {
  cleanupSection,
  lifecycleSections,
  pruneSection,
  rollbackSection,
  sweepSection,
  workloadsSection,
} from './report-lifecycle.js';

export function renderReport(
  r: FullBenchResults,
  options: { rssMethod: string; checkStartBlock?: string; checkScaleBlock?: string },
): string {
  const lines = [
    ...machineSection(r),
    ...targetsSection(r),
    ...checkSection(r),
    ...putSection(r),
    ...failureSection(r),
    ...scaleSection(r),
    ...memoryAndSizeSection(r, options.rssMethod),
    ...lifecycleSections(r),
    ...cleanupSection(r),
  ];
  const kept = [options.checkStartBlock, options.checkScaleBlock].filter((b) => b !== undefined);
  return lines.join('\n') + kept.map((block) => `\n${block}\n`).join('');
}

/** The block bench/check-start.ts owns in RESULTS.md. */
export const checkStartBlockPattern = /<!-- check-start:begin[\s\S]*?<!-- check-start:end -->/;

/** Writes bench/RESULTS.md (keeping npm run bench:check's block) and bench/results.json. */
export function writeReport(r: FullBenchResults, options: { rssMethod: string; putChartSvg: string }): void {
  const file = join(repoRoot, 'bench', 'RESULTS.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const checkStartBlock = checkStartBlockPattern.exec(old)?.[0];
  // npm run bench:scale's block (bench/scale.ts), kept as it was too.
  const checkScaleBlock = checkScaleBlockPattern.exec(old)?.[0];
  writeFileSync(file, renderReport(r, { rssMethod: options.rssMethod, checkStartBlock, checkScaleBlock }));
  writeFileSync(join(repoRoot, 'bench', 'put.svg'), options.putChartSvg);
  writeFileSync(join(repoRoot, 'bench', 'results.json'), JSON.stringify(r, null, 1) + '\n');
}
