// Markdown and number formatting shared by the report writers.

/** A markdown table. */
export const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]): string =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

/** 830 ms, 31.2 s; – when there is no figure. */
export const ms = (x: number | undefined): string =>
  x === undefined || Number.isNaN(x) ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`;

/** a ÷ b as 0.71×; – when either is missing or b is 0. */
export const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}×`;

export const mb = (kb: number | undefined): string => (kb === undefined ? '–' : `${(kb / 1024).toFixed(1)} MB`);

export const kib = (bytes: number | undefined): string =>
  bytes === undefined
    ? '–'
    : bytes >= 1 << 20
      ? `${(bytes / (1 << 20)).toFixed(2)} MiB`
      : `${(bytes / 1024).toFixed(1)} KiB`;

/** **met** / **not met** / – (no figure). */
export const status = (met: boolean | undefined): string => (met === undefined ? '–' : met ? '**met**' : '**not met**');

/** A mark on figures that overlapped a kube-apiserver restart. */
export const disruptedMark = (disrupted: boolean | undefined): string => (disrupted ? ' ⚠' : '');

/** Text for a markdown table cell: pipes escaped. */
export const cell = (text: string): string => text.replace(/\|/g, '\\|');
