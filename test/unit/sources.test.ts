// The file readers of a put (src/sources/read.ts): bounded, regular files only, UTF-8 text, inside the sources dir.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { readImageDir, readManifestFiles, readNamespaceFile, readRevisionFile } from '../../src/sources/read.js';

const root = mkdtempSync(join(tmpdir(), 'kdr-sources-'));
const sources = join(root, 'sources');
const file = (path: string, content: string | Buffer) => {
  mkdirSync(dirname(join(sources, path)), { recursive: true });
  writeFileSync(join(sources, path), content);
};
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('manifest files', () => {
  test.each<[string, string | Buffer, string]>([
    [
      'bytes that are not UTF-8, at their line',
      Buffer.concat([Buffer.from('a: 1\nb: caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
      'params.manifests[0]: m.yml line 2: not UTF-8 text (is this a binary file?)',
    ],
    [
      'UTF-16 text',
      Buffer.from('\uFEFFapiVersion: v1\n', 'utf16le'),
      'params.manifests[0]: m.yml is UTF-16 text; save it as UTF-8',
    ],
    ['over 4 MiB', 'x'.repeat(4 * 1024 * 1024 + 1), 'params.manifests[0]: m.yml is larger than 4 MiB'],
  ])('%s', async (_name, content, message) => {
    file('m.yml', content);
    await expect(readManifestFiles(sources, ['m.yml'])).rejects.toThrow(new BadRequestError(message));
  });

  test('a FIFO matched by a glob is refused, not waited on', async () => {
    mkdirSync(join(sources, 'fifo'), { recursive: true });
    execFileSync('mkfifo', [join(sources, 'fifo', 'p.yml')]);
    await expect(readManifestFiles(sources, ['fifo/*.yml'])).rejects.toThrow(
      new BadRequestError('params.manifests[0]: fifo/p.yml is not a file'),
    );
  });

  test('a name with a newline is quoted in the message', async () => {
    await expect(readManifestFiles(sources, ['no\nsuch.yml'])).rejects.toThrow(
      new BadRequestError('params.manifests[0]: "no\\nsuch.yml" does not exist in the sources directory'),
    );
  });

  test('valid UTF-8 with a BOM and CRLF is read as it is, without the BOM', async () => {
    file('ok.yml', '\uFEFFa: é\r\n');
    expect(await readManifestFiles(sources, ['ok.yml'])).toEqual([{ path: 'ok.yml', content: 'a: é\r\n' }]);
  });
});

describe('image dir and namespace file', () => {
  test('a repository file that links outside the sources dir is refused', async () => {
    writeFileSync(join(root, 'secret'), 'registry.example.com/x\n');
    file('img/tag', '1\n');
    symlinkSync(join(root, 'secret'), join(sources, 'img', 'repository'));
    await expect(readImageDir(sources, 'img')).rejects.toThrow(
      new BadRequestError('params.image: img/repository leads outside the sources directory'),
    );
  });

  test('a repository that is a directory', async () => {
    mkdirSync(join(sources, 'img2', 'repository'), { recursive: true });
    file('img2/tag', '1\n');
    await expect(readImageDir(sources, 'img2')).rejects.toThrow(
      new BadRequestError('params.image: img2/repository is not a file'),
    );
  });

  test('a namespace file with Latin-1 bytes', async () => {
    file('ns', Buffer.from('caf\xe9\n', 'latin1'));
    await expect(readNamespaceFile(sources, 'ns')).rejects.toThrow(
      new BadRequestError('params.namespace_file: ns line 1: not UTF-8 text (is this a binary file?)'),
    );
  });

  test('a namespace file with a BOM and CRLF reads as the name', async () => {
    file('ns2', '\uFEFFstaging\r\n');
    expect(await readNamespaceFile(sources, 'ns2')).toBe('staging');
  });
});

describe('revision file (issue 23, item 6: bounds)', () => {
  test.each<[string, string]>([
    ['0\n', 'params.revision_file: get/revision holds 0, not a revision between 1 and 999999999'],
    [
      '1'.padEnd(31, '0'),
      'params.revision_file: get/revision holds 10000000000000000000…, not a revision between 1 and 999999999',
    ],
  ])('%j is refused', async (content, message) => {
    file('get/revision', content);
    await expect(readRevisionFile(sources, 'get/revision')).rejects.toThrow(new BadRequestError(message));
  });
  test('a revision in bounds is read', async () => {
    file('get/revision', '999999999\n');
    expect(await readRevisionFile(sources, 'get/revision')).toBe(999_999_999);
  });
});
