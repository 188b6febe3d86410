import type { Metafile } from 'esbuild';
export const sideModules: readonly string[];
export function bundleProblems(name: string, metafile: Pick<Metafile, 'inputs' | 'outputs'>): string[];
