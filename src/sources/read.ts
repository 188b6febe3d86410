// Reads what a put takes from its sources dir (image get dir, namespace and revision files, extra manifests), refusing
// paths that leave the dir and checking what it reads. Everything here runs before any cluster call.
import { glob, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadRequestError } from '../errors.js';
import { parseImageReference, type ImageRef } from '../manifests/image.js';
import type { ManifestFile } from '../manifests/extra.js';
import { checkNamespaceName } from '../request/plan.js';

async function inside(root: string, relative: string, field: string): Promise<string> {
  const rootReal = await realpath(root).catch(() => {
    throw new BadRequestError(`the sources directory ${root} does not exist`);
  });
  const full = path.resolve(rootReal, relative);
  const real = await realpath(full).catch(() => {
    throw new BadRequestError(`${field}: ${relative} does not exist in the sources directory`);
  });
  if (real !== rootReal && !real.startsWith(rootReal + path.sep)) throw new BadRequestError(`${field}: ${relative} leads outside the sources directory`);
  return real;
}

async function readSmall(file: string, field: string, limit = 4096): Promise<string> {
  const info = await stat(file);
  if (!info.isFile()) throw new BadRequestError(`${field}: ${file} is not a file`);
  if (info.size > limit) throw new BadRequestError(`${field}: ${path.basename(file)} is larger than ${limit} bytes`);
  return (await readFile(file, 'utf8')).trim();
}

/** A registry-image resource's get directory: repository, tag and digest files. */
export async function readImageDir(root: string, relative: string): Promise<ImageRef> {
  const dir = await inside(root, relative, 'params.image');
  if (!(await stat(dir)).isDirectory()) throw new BadRequestError(`params.image: ${relative} is not a directory`);
  const read = async (name: string) => {
    const file = path.join(dir, name);
    return (await stat(file).catch(() => undefined)) ? readSmall(file, `params.image`) : undefined;
  };
  const [repository, tag, digest] = await Promise.all([read('repository'), read('tag'), read('digest')]);
  if (!repository) throw new BadRequestError(`params.image: ${relative}/repository is missing or empty (expected a registry-image get directory)`);
  if (!tag && !digest) throw new BadRequestError(`params.image: ${relative} has neither a tag nor a digest file`);
  const parsed = parseImageReference(`${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`);
  if (!parsed) throw new BadRequestError(`params.image: ${relative} does not hold a valid image reference`);
  return parsed;
}

export async function readNamespaceFile(root: string, relative: string): Promise<string> {
  const file = await inside(root, relative, 'params.namespace_file');
  const text = await readSmall(file, 'params.namespace_file', 256);
  if (!text) throw new BadRequestError(`params.namespace_file: ${relative} is empty`);
  return checkNamespaceName(text, 'params.namespace_file', '');
}

/** A revision number from a file, e.g. the `revision` file of a get of this resource. */
export async function readRevisionFile(root: string, relative: string): Promise<number> {
  const file = await inside(root, relative, 'params.revision_file');
  const text = await readSmall(file, 'params.revision_file', 64);
  if (!/^[0-9]+$/.test(text)) throw new BadRequestError(`params.revision_file: ${relative} does not hold a revision number (digits)`);
  return Number(text);
}

/** Files matching the patterns, in the order given (each pattern's matches sorted), each at most once. */
export async function readManifestFiles(root: string, patterns: string[]): Promise<ManifestFile[]> {
  const rootReal = await realpath(root).catch(() => {
    throw new BadRequestError(`the sources directory ${root} does not exist`);
  });
  const files: ManifestFile[] = [];
  const seen = new Set<string>();
  for (const [i, pattern] of patterns.entries()) {
    const field = `params.manifests[${i}]`;
    const matches: string[] = [];
    if (/[*?[\]{}]/.test(pattern)) {
      for await (const match of glob(pattern, { cwd: rootReal })) matches.push(match);
      if (matches.length === 0) throw new BadRequestError(`${field}: ${pattern} matches no file in the sources directory`);
      matches.sort();
    } else {
      matches.push(pattern);
    }
    for (const match of matches) {
      const real = await inside(rootReal, match, field);
      if (seen.has(real)) continue;
      seen.add(real);
      const info = await stat(real);
      if (info.isDirectory()) continue;
      if (info.size > 4 * 1024 * 1024) throw new BadRequestError(`${field}: ${match} is larger than 4 MiB`);
      files.push({ path: match, content: await readFile(real, 'utf8') });
    }
  }
  return files;
}
