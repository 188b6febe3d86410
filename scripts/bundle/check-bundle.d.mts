import type { Metafile } from 'esbuild';
export function bundleProblems(name: string, metafile: Pick<Metafile, 'inputs' | 'outputs'>): string[];
