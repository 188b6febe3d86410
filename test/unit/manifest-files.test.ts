// Odd and hostile YAML in extra manifests (issue 17): each is one exact message naming the file and line, or — for
// what people really write (merge keys, CRLF, a BOM, `---` and `...`, Lists) — the objects it means.
import { describe, expect, test } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { manifestLimits, parseExtraManifests } from '../../src/manifests/extra.js';

const parse = (content: string, path = 'deps.yml') => parseExtraManifests([{ path, content }], 'staging');
const configMap = (name: string, extra = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;

/** Nine anchors, each a list of nine aliases of the one before: 9^9 (387 million) strings once expanded. */
function aliasBomb(): string {
  let text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx:\n  a0: &a0 ["lol"]\n';
  for (let i = 1; i < 10; i++)
    text += `  a${i}: &a${i} [${Array(9)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  return text;
}

describe('YAML oddities in extra manifests are bad requests naming the file and line', () => {
  test.each<[string, string, string]>([
    [
      'an alias chain that expands to gigabytes',
      aliasBomb(),
      'params.manifests: deps.yml line 11: the document is larger than 3 MiB with its aliases expanded',
    ],
    [
      'more aliases than the limit',
      `${configMap('many')}data:\n  a: &a x\n  b: [${Array(1001).fill('*a').join(', ')}]\n`,
      'params.manifests: deps.yml line 7: more than 1000 aliases (*name) in one document',
    ],
    [
      'an alias to the collection it sits in',
      `${configMap('cycle')}data: &d\n  self: *d\n`,
      'params.manifests: deps.yml line 6: the alias "*d" refers to a collection that contains it (a cycle)',
    ],
    [
      'an alias to a sequence it sits in',
      'a: &s [1, [*s]]\n',
      'params.manifests: deps.yml line 1: the alias "*s" refers to a collection that contains it (a cycle)',
    ],
    [
      'an alias without its anchor',
      `${configMap('a')}data:\n  x: *nothing\n`,
      'params.manifests: deps.yml line 6: the alias "*nothing" names no anchor ("&nothing") before it in this document',
    ],
    [
      'an anchor from another document',
      `${configMap('a', 'data: &d {k: v}\n')}---\n${configMap('b', 'data: *d\n')}`,
      'params.manifests: deps.yml line 11: the alias "*d" names no anchor ("&d") before it in this document',
    ],
    [
      'a duplicate key',
      `${configMap('a')}data:\n  k: 1\n  k: 2\n`,
      'params.manifests: deps.yml line 7: the key "k" appears twice in one mapping',
    ],
    [
      'a duplicate top-level key',
      `${configMap('a')}kind: Secret\n`,
      'params.manifests: deps.yml line 5: the key "kind" appears twice in one mapping',
    ],
    [
      'a custom tag',
      `${configMap('a')}data:\n  url: !Ref Endpoint\n`,
      'params.manifests: deps.yml line 6: the tag "!Ref" is not supported ' +
        '(Kubernetes manifests are plain YAML: remove the tag, or quote the value)',
    ],
    [
      'a custom tag on a mapping',
      `${configMap('a')}data: !Sub {a: b}\n`,
      'params.manifests: deps.yml line 5: the tag "!Sub" is not supported ' +
        '(Kubernetes manifests are plain YAML: remove the tag, or quote the value)',
    ],
    [
      'a YAML 1.1 !!binary',
      `${configMap('a')}binaryData:\n  k: !!binary aGVsbG8=\n`,
      'params.manifests: deps.yml line 6: the tag "!!binary" is not supported ' +
        '(Kubernetes manifests are plain YAML: remove the tag, or quote the value)',
    ],
    [
      'a value that does not fit its tag',
      `${configMap('a')}data:\n  k: !!int twelve\n`,
      'params.manifests: deps.yml line 6: the value does not fit its tag "!!int"',
    ],
    [
      'a tab in the indentation',
      `${configMap('a')}data:\n\tk: v\n`,
      'params.manifests: deps.yml line 6: a tab in the indentation (YAML indents with spaces only)',
    ],
    [
      'a tab before a list item',
      `${configMap('a')}items:\n\t- a\n`,
      'params.manifests: deps.yml line 6: a tab in the indentation (YAML indents with spaces only)',
    ],
    [
      'a byte order mark inside the file',
      `${configMap('a')}---\n\uFEFF${configMap('b')}`,
      'params.manifests: deps.yml line 6: a byte order mark (U+FEFF) starts a line inside the file ' +
        '(save the files as UTF-8 without BOM)',
    ],
    [
      'a control character',
      `${configMap('a')}data:\n  k: a\u0007b\n`,
      'params.manifests: deps.yml line 6: a control character that is not text (is this a binary file?)',
    ],
    [
      'a NUL byte',
      `${configMap('a')}data:\n  k: a\u0000b\n`,
      'params.manifests: deps.yml line 6: a control character that is not text (is this a binary file?)',
    ],
    [
      'nesting deeper than 100',
      `${configMap('a')}data: ${'['.repeat(120)}${']'.repeat(120)}\n`,
      'params.manifests: deps.yml line 5: nested more than 100 levels deep',
    ],
    [
      'a merge key on a scalar',
      `${configMap('a')}data:\n  <<: 1\n`,
      'params.manifests: deps.yml line 6: a merge key (<<) must name a mapping or a list of mappings',
    ],
    [
      'a complex mapping key',
      `${configMap('a')}data:\n  ? [a, b]\n  : c\n`,
      'params.manifests: deps.yml line 6: a mapping key that is itself a list or a mapping',
    ],
    ['unclosed flow sequence', 'a: [b\n', 'params.manifests: deps.yml line 2: not valid YAML: deficient indentation'],
    [
      'bad indentation',
      `${configMap('a')}data:\n  a: 1\n b: 2\n`,
      'params.manifests: deps.yml line 7: not valid YAML: bad indentation of a mapping entry',
    ],
    [
      'a document that is a list',
      `- 1\n- 2\n`,
      'params.manifests: deps.yml document 1 (line 1): not a Kubernetes object ' +
        '(expected a mapping with apiVersion, kind and metadata)',
    ],
    [
      'a document that is a string',
      `${configMap('a')}---\njust text\n`,
      'params.manifests: deps.yml document 2 (line 6): not a Kubernetes object ' +
        '(expected a mapping with apiVersion, kind and metadata)',
    ],
    [
      'a document that is a number after `...`',
      `${configMap('a')}...\n---\n42\n`,
      'params.manifests: deps.yml document 2 (line 7): not a Kubernetes object ' +
        '(expected a mapping with apiVersion, kind and metadata)',
    ],
    [
      'only empty documents',
      '---\n# nothing here\n---\n...\n',
      'params.manifests: deps.yml holds no Kubernetes object (only empty documents or Lists)',
    ],
    ['an empty file', '', 'params.manifests: deps.yml holds no Kubernetes object (only empty documents or Lists)'],
    [
      'a List without items',
      'apiVersion: v1\nkind: List\n',
      'params.manifests: deps.yml document 1 (line 1): List without a list of items',
    ],
    [
      'a List item that is not an object',
      'apiVersion: v1\nkind: List\nitems: [x]\n',
      'params.manifests: deps.yml document 1 (line 1): not a Kubernetes object ' +
        '(expected a mapping with apiVersion, kind and metadata)',
    ],
    [
      'a kind that is not a name',
      'apiVersion: v1\nkind: "Config\\nMap"\nmetadata: {name: a}\n',
      'params.manifests: deps.yml document 1 (line 1): kind "Config\\nMap" is not a kind name',
    ],
    [
      'an apiVersion that is not one',
      'apiVersion: "v1 beta"\nkind: ConfigMap\nmetadata: {name: a}\n',
      'params.manifests: deps.yml document 1 (line 1): apiVersion "v1 beta" is not a group/version',
    ],
    [
      'labels as a list',
      `${configMap('a')}  labels: [a, b]\n`,
      'params.manifests: deps.yml document 1 (line 1): metadata.labels must map strings to strings',
    ],
    [
      'a long name, cut short',
      configMap('a'.repeat(300)),
      `params.manifests: deps.yml document 1 (line 1): metadata.name "${'a'.repeat(64)}…" is not a valid object name`,
    ],
    [
      'a namespace that is not a string',
      `${configMap('a')}  namespace: [x]\n`,
      'params.manifests: deps.yml document 1 (line 1): configmap/a names namespace a list, ' +
        'but the release goes to "staging" (remove metadata.namespace)',
    ],
    [
      'a document too dense to parse',
      `${configMap('a')}---\n${configMap('dense')}data: [${'1,'.repeat(300_000)}]\n`,
      'params.manifests: deps.yml line 5: the document holds more than 300000 nodes ' +
        '(counting the commas, colons, dashes, brackets and lines that start one)',
    ],
    [
      'an error in a later document names its line in the file',
      `${configMap('a')}---\n${configMap('b')}---\n${configMap('c')}data: {k: !Tag v}\n`,
      'params.manifests: deps.yml line 15: the tag "!Tag" is not supported ' +
        '(Kubernetes manifests are plain YAML: remove the tag, or quote the value)',
    ],
    [
      'an error in a document after directives',
      `%YAML 1.2\n---\n${configMap('a')}---\n${configMap('b')}data: {k: k, k: k}\n`,
      'params.manifests: deps.yml line 12: the key "k" appears twice in one mapping',
    ],
  ])('%s', (_name, content, message) => {
    expect(() => parse(content)).toThrow(new BadRequestError(message));
  });

  test('document numbers and lines count across the pieces the file is parsed in', () => {
    const text = `# c\n---\n---\n${configMap('a')}...\n---\n\n${configMap('b')}---\n- 1\n`;
    expect(() => parse(text)).toThrow(
      new BadRequestError(
        'params.manifests: deps.yml document 4 (line 16): not a Kubernetes object ' +
          '(expected a mapping with apiVersion, kind and metadata)',
      ),
    );
  });

  test('a block scalar ends at a `---` line, in pieces as in the whole', () => {
    const text = `${configMap('a')}data:\n  script: |\n    echo one\n---\n    echo two\n`;
    expect(() => parse(text)).toThrow(
      new BadRequestError(
        'params.manifests: deps.yml document 2 (line 9): not a Kubernetes object ' +
          '(expected a mapping with apiVersion, kind and metadata)',
      ),
    );
  });

  test('a file name with a newline is quoted, so the error stays one line', () => {
    expect(() => parse('- 1\n', 'a\nb.yml')).toThrow(
      new BadRequestError(
        'params.manifests: "a\\nb.yml" document 1 (line 1): not a Kubernetes object ' +
          '(expected a mapping with apiVersion, kind and metadata)',
      ),
    );
  });

  test('the release together is bounded: many documents just under the document limit', () => {
    const big = configMap('x', `data:\n  k: "${'v'.repeat(2 * 1024 * 1024)}"\n`);
    const files = ['a', 'b', 'c', 'd', 'e'].map((n) => ({
      path: `${n}.yml`,
      content: big.replace('name: x', `name: ${n}`),
    }));
    expect(() => parseExtraManifests(files, 'staging')).toThrow(
      new BadRequestError(
        'params.manifests: d.yml document 1 (line 1): the extra manifests together are larger than 8 MiB ' +
          '(with aliases expanded)',
      ),
    );
  });

  test('the release together is bounded in nodes: documents each under the limit, over it together', () => {
    const dense = (n: string) => configMap(n, `data: [${'1,'.repeat(250_000)}]\n`);
    const files = ['a', 'b', 'c'].map((n) => ({
      path: `${n}.yml`,
      content: `${configMap(`${n}-first`)}---\n${dense(n)}`,
    }));
    expect(() => parseExtraManifests(files, 'staging')).toThrow(
      new BadRequestError(
        'params.manifests: c.yml line 5: the extra manifests together hold more than 600000 nodes ' +
          '(counting the commas, colons, dashes, brackets and lines that start one)',
      ),
    );
  });

  test('the limits are the documented ones', () => {
    expect(manifestLimits).toEqual({
      documentBytes: 3 * 1024 * 1024,
      releaseBytes: 8 * 1024 * 1024,
      aliases: 1000,
      depth: 100,
      mergedKeys: 10_000,
      nodes: 300_000,
      releaseNodes: 600_000,
    });
  });
});

describe('YAML that people really write is read as kubectl reads it', () => {
  const cm = (name: string, data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data,
  });

  test('merge keys (<<) with one mapping and with a list, local keys winning', () => {
    const text =
      `${configMap('a')}data:\n  <<: &base {x: "1", y: "2"}\n  y: "3"\n---\n` +
      `${configMap('b')}data:\n  <<: [{x: "1"}, {z: "4"}]\n`;
    expect(parse(text)).toEqual([cm('a', { x: '1', y: '3' }), cm('b', { x: '1', z: '4' })]);
  });

  test('an anchor defined again inside its own collection: the alias takes the latest (no cycle)', () => {
    const text = `${configMap('a')}data: &x\n  one: &x value\n  two: *x\n`;
    expect(parse(text)).toEqual([cm('a', { one: 'value', two: 'value' })]);
  });

  test('anchors and aliases within a document, modest ones expanded', () => {
    const text = `${configMap('a')}data:\n  one: &v value\n  two: *v\n`;
    expect(parse(text)).toEqual([cm('a', { one: 'value', two: 'value' })]);
  });

  test('CRLF line ends, a BOM at the start, `---` and `...` markers, comments and empty documents', () => {
    const text =
      `\uFEFF# header\r\n---\r\n${configMap('a', 'data:\n  k: v\n').replaceAll('\n', '\r\n')}...\r\n` +
      `---\r\n---\r\n${configMap('b', 'data: {k: w}\n').replaceAll('\n', '\r\n')}`;
    expect(parse(text)).toEqual([cm('a', { k: 'v' }), cm('b', { k: 'w' })]);
  });

  test('a List, and a document naming the release namespace', () => {
    const text =
      `apiVersion: v1\nkind: List\nitems:\n- ${JSON.stringify(cm('a', { k: 'v' }))}\n---\n` +
      `${configMap('b')}  namespace: staging\n`;
    expect(parse(text).map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });

  test('a document at 2 MiB (a large ConfigMap) is accepted', () => {
    expect(parse(configMap('big', `data:\n  k: "${'v'.repeat(2 * 1024 * 1024)}"\n`))).toHaveLength(1);
  });
});
