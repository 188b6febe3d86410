// Reads what a put takes from its sources dir (image get dir, namespace and revision files, extra manifests), refusing
// paths that leave the dir and checking what it reads. Everything here runs before any cluster call.
import { constants } from 'node:fs';
import { glob, lstat, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadRequestError } from '../errors.js';
import { parseImageReference, type ImageRef } from '../manifests/image.js';
import { displayPath, type ManifestFile } from '../manifests/extra.js';
import { checkNamespaceName } from '../request/namespace.js';
import { maxRevision } from '../request/schemas.js';

async function inside(root: string, relative: string, field: string): Promise<string> {
  const rootReal = await realpath(root).catch(() => {
    throw new BadRequestError(`the sources directory ${root} does not exist`);
  });
  const full = path.resolve(rootReal, relative);
  const real = await realpath(full).catch(() => {
    throw new BadRequestError(`${field}: ${displayPath(relative)} does not exist in the sources directory`);
  });
  if (real !== rootReal && !real.startsWith(rootReal + path.sep))
    throw new BadRequestError(`${field}: ${displayPath(relative)} leads outside the sources directory`);
  return real;
}

/**
 * At most `limit` bytes of a regular file, as UTF-8 text. Opened without blocking (a FIFO would wait for a writer
 * forever) and checked on the open descriptor; reads one byte past the limit to see a file that grew meanwhile.
 */
async function readBounded(file: string, shownAs: string, field: string, limit: number): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => {
    throw new BadRequestError(`${field}: ${shownAs} cannot be read`);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new BadRequestError(`${field}: ${shownAs} is not a file`);
    if (info.size > limit) throw new BadRequestError(`${field}: ${shownAs} is larger than ${sizeText(limit)}`);
    const buffer = Buffer.alloc(Math.min(info.size, limit) + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) {
      n = (await handle.read(buffer, length, buffer.length - length, length)).bytesRead;
    }
    if (length > limit) throw new BadRequestError(`${field}: ${shownAs} is larger than ${sizeText(limit)}`);
    return decodeText(buffer.subarray(0, length), shownAs, field);
  } finally {
    await handle.close();
  }
}

const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes} bytes`);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text, or an error naming the line of the first byte that is not (a UTF-16 file says so). */
function decodeText(bytes: Buffer, shownAs: string, field: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new BadRequestError(`${field}: ${shownAs} is UTF-16 text; save it as UTF-8`);
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const lossy = Buffer.from(bytes.toString('utf8'), 'utf8');
    let at = 0;
    while (at < bytes.length && bytes[at] === lossy[at]) at++;
    let line = 1;
    for (let i = bytes.indexOf(10); i !== -1 && i < at; i = bytes.indexOf(10, i + 1)) line++;
    throw new BadRequestError(`${field}: ${shownAs} line ${line}: not UTF-8 text (is this a binary file?)`);
  }
}

/** Every file of `params.manifests` at most this large, and all of them together at most `manifestTotalBytes`. */
export const manifestFileBytes = 4 * 1024 * 1024;
export const manifestTotalBytes = 16 * 1024 * 1024;

/** A registry-image resource's get directory: repository, tag and digest files. */
export async function readImageDir(root: string, relative: string): Promise<ImageRef> {
  const dir = await inside(root, relative, 'params.image');
  if (!(await stat(dir)).isDirectory())
    throw new BadRequestError(`params.image: ${displayPath(relative)} is not a directory`);
  const read = async (name: string) => {
    const file = path.join(dir, name);
    const found = await lstat(file).catch(() => undefined);
    if (!found) return undefined;
    await inside(root, path.join(relative, name), 'params.image');
    return (await readBounded(file, displayPath(`${relative}/${name}`), 'params.image', 4096)).trim();
  };
  const [repository, tag, digest] = await Promise.all([read('repository'), read('tag'), read('digest')]);
  if (!repository)
    throw new BadRequestError(
      `params.image: ${displayPath(`${relative}/repository`)} is missing or empty ` +
        '(expected a registry-image get directory)',
    );
  if (!tag && !digest)
    throw new BadRequestError(`params.image: ${displayPath(relative)} has neither a tag nor a digest file`);
  const parsed = parseImageReference(`${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`);
  if (!parsed)
    throw new BadRequestError(`params.image: ${displayPath(relative)} does not hold a valid image reference`);
  return parsed;
}

export async function readNamespaceFile(root: string, relative: string): Promise<string> {
  const file = await inside(root, relative, 'params.namespace_file');
  const text = (await readBounded(file, displayPath(relative), 'params.namespace_file', 256)).trim();
  if (!text) throw new BadRequestError(`params.namespace_file: ${displayPath(relative)} is empty`);
  return checkNamespaceName(text, 'params.namespace_file');
}

/** A revision number from a file, e.g. the `revision` file of a get of this resource. */
export async function readRevisionFile(root: string, relative: string): Promise<number> {
  const file = await inside(root, relative, 'params.revision_file');
  const text = (await readBounded(file, displayPath(relative), 'params.revision_file', 64)).trim();
  if (!/^[0-9]+$/.test(text))
    throw new BadRequestError(
      `params.revision_file: ${displayPath(relative)} does not hold a revision number (digits)`,
    );
  const revision = Number(text);
  if (text.length > String(maxRevision).length || revision < 1 || revision > maxRevision)
    throw new BadRequestError(
      `params.revision_file: ${displayPath(relative)} holds ${text.length > 20 ? `${text.slice(0, 20)}…` : text}, ` +
        `not a revision between 1 and ${maxRevision}`,
    );
  return revision;
}

/**
 * Files matching the patterns, in the order given (each pattern's matches sorted), each at most once; `param` names
 * them in messages (params.manifests, params.patches).
 */
export async function readManifestFiles(
  root: string,
  patterns: string[],
  param = 'params.manifests',
): Promise<ManifestFile[]> {
  const rootReal = await realpath(root).catch(() => {
    throw new BadRequestError(`the sources directory ${root} does not exist`);
  });
  const files: ManifestFile[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const [i, pattern] of patterns.entries()) {
    const field = `${param}[${i}]`;
    const matches: string[] = [];
    if (/[*?[\]{}]/.test(pattern)) {
      for await (const match of glob(pattern, { cwd: rootReal })) matches.push(match);
      if (matches.length === 0)
        throw new BadRequestError(`${field}: ${displayPath(pattern)} matches no file in the sources directory`);
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
      total += info.size;
      if (total > manifestTotalBytes) {
        const limit = sizeText(manifestTotalBytes);
        throw new BadRequestError(
          `${field}: ${displayPath(match)}: the manifests files together are larger than ${limit}`,
        );
      }
      files.push({ path: match, content: await readBounded(real, displayPath(match), field, manifestFileBytes) });
    }
  }
  return files;
}
