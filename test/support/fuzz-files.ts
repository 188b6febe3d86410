// Generators for the files fuzz suite (test/contract/files-fuzz.test.ts): what a put reads from its sources dir —
// extra manifests, the registry-image dir's repository/tag/digest, namespace_file — generated hostile, odd or valid.
// YAML is emitted from generated trees (anchors, aliases, merge keys, tags, odd scalars, block and flow styles), then
// wrapped (BOM, CRLF, `---`/`...`, empty documents, Lists) or mutated byte by byte. Nothing here imports the code
// under test: whether a case is valid is decided by construction, and `either` cases only have to end cleanly.
import fc from 'fast-check';

/** `invalid`: must exit 2 before any connection; `valid`: must pass every check and try the cluster (exit 3). */
export type Expectation = 'invalid' | 'valid' | 'either';

export interface FileCase {
  category: string;
  detail?: string;
  /** Files under the case's own dir in the sources dir (`gen/<id>/`); a string is UTF-8, a Buffer raw bytes. */
  files: Record<string, string | Buffer | { symlink: string } | { dir: true }>;
  /** Params of the put; `@DIR@` becomes the case's dir relative to the sources dir. */
  params: Record<string, unknown>;
  expect: Expectation;
  /** What an exit-2 error line must name: a path below the case dir, or a params field. */
  names: string;
}

// ---------- YAML trees and their emitter ----------

type Tree =
  | { t: 'scalar'; text: string; anchor?: boolean; tag?: string }
  | { t: 'map'; entries: [string, Tree][]; flow: boolean; anchor?: boolean; tag?: string; merge?: boolean }
  | { t: 'seq'; items: Tree[]; flow: boolean; anchor?: boolean; tag?: string }
  | { t: 'alias'; pick: number; bad?: 'undefined' | 'cycle' };

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
// Keys that read as strings. `1` and `null` read as other types, which js-yaml turns into strings for the mapping
// but not for a merge key's override check (`{<<: *a, null: x}` is refused as a duplicate): faults only.
const stringKey = fc.oneof(label, fc.constantFrom('key', 'a.b', 'x_y', 'KEY', 'on', 'yes', 'with space'));
const anyKey = fc.oneof(stringKey, fc.constantFrom('1', 'null', '~', '<<', '"quoted"', '? q'));

/** A double-quoted YAML scalar: JSON's escapes, plus the characters YAML wants escaped and JSON leaves raw. */
const quoted = (text: string) =>
  JSON.stringify(text).replace(
    /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** Scalars written so that any YAML 1.2 parser reads them as a scalar (strings, numbers, booleans, nulls). */
const safeScalar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'yes',
    'no',
    'on',
    'off',
    '~',
    'null',
    'true',
    'false',
    '0x1F',
    '0o17',
    '017',
    '1e3',
    '.inf',
    '-.inf',
    '.nan',
    '-1',
    '3.14',
    '2001-12-14',
    '12:30',
    'a-b',
    'é',
    '日本',
    '🙂',
    '""',
    "''",
    '"\\t tab"',
    '"\\u00e9"',
  ),
  label,
  fc.string({ unit: 'grapheme', maxLength: 30 }).map(quoted),
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((s) => `'${s.replaceAll("'", "''")}'`),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);

/** Scalars that are odd or wrong in YAML: control characters, lone surrogates, half-quoted, indicator characters. */
const oddScalar: fc.Arbitrary<string> = fc.oneof(
  safeScalar,
  fc.constantFrom(
    '"unterminated',
    "'unterminated",
    '@at',
    '`tick',
    '%pct',
    '- dash',
    ': colon',
    '? q',
    '| pipe',
    '> gt',
    '#hash',
    '*star',
    '&amp',
    '!bang',
    '[',
    ']',
    '{',
    '}',
    ',',
    'a: b',
    'a #c',
    '"\\q"',
    '"\\x4"',
    '"\\U0001F600"',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => JSON.stringify(s)),
);

const customTag = fc.constantFrom(
  '!!str',
  '!!int',
  '!!float',
  '!!bool',
  '!!null',
  '!!map',
  '!!seq',
  '!!binary',
  '!!timestamp',
  '!!set',
  '!!omap',
  '!Ref',
  '!Sub',
  '!GetAtt',
  '!<tag:example.com,2000:x>',
  '!',
  '!e!x',
  '!!merge',
);

interface TreeOptions {
  scalar: fc.Arbitrary<string>;
  /** Allow tags, aliases to undefined or open anchors, duplicate keys, merges of anything. */
  faults: boolean;
}

function treeArb({ scalar, faults }: TreeOptions): fc.Arbitrary<Tree> {
  const { tree } = fc.letrec<{ tree: Tree; scalarNode: Tree; map: Tree; seq: Tree; alias: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('scalarNode'),
      tie('map'),
      tie('seq'),
      tie('alias'),
    ),
    scalarNode: fc.record(
      {
        t: fc.constant('scalar' as const),
        text: scalar,
        anchor: fc.boolean(),
        ...(faults ? { tag: fc.option(customTag, { nil: undefined, freq: 8 }) } : {}),
      },
      { requiredKeys: ['t', 'text'] },
    ) as fc.Arbitrary<Tree>,
    map: fc.record(
      {
        t: fc.constant('map' as const),
        entries: faults
          ? fc.array(fc.tuple(anyKey, tie('tree')), { maxLength: 4 })
          : fc.uniqueArray(fc.tuple(stringKey, tie('tree')), { maxLength: 4, selector: ([k]) => k }),
        flow: fc.boolean(),
        anchor: fc.boolean(),
        merge: fc.boolean(),
        ...(faults ? { tag: fc.option(customTag, { nil: undefined, freq: 10 }) } : {}),
      },
      { requiredKeys: ['t', 'entries', 'flow'] },
    ) as fc.Arbitrary<Tree>,
    seq: fc.record(
      {
        t: fc.constant('seq' as const),
        items: fc.array(tie('tree'), { maxLength: 4 }),
        flow: fc.boolean(),
        anchor: fc.boolean(),
        ...(faults ? { tag: fc.option(customTag, { nil: undefined, freq: 10 }) } : {}),
      },
      { requiredKeys: ['t', 'items', 'flow'] },
    ) as fc.Arbitrary<Tree>,
    alias: fc.record(
      {
        t: fc.constant('alias' as const),
        pick: fc.nat(),
        ...(faults
          ? { bad: fc.option(fc.constantFrom('undefined' as const, 'cycle' as const), { nil: undefined, freq: 6 }) }
          : {}),
      },
      { requiredKeys: ['t', 'pick'] },
    ) as fc.Arbitrary<Tree>,
  }));
  return tree;
}

/**
 * YAML text for a tree, in block style where it may be and flow where the tree says (or where it must: inside flow).
 * Anchors get fresh names; an alias names an anchor whose node is complete (else it becomes a scalar) — unless
 * the tree asks for a fault. A merge key (`<<`) names a complete mapping anchor.
 */
class Emitter {
  private anchors: { name: string; map: boolean }[] = [];
  private openAnchors: string[] = [];
  private next = 0;

  constructor(private readonly faults: boolean) {}

  private props(node: { anchor?: boolean; tag?: string }): { prefix: string; name?: string } {
    const name = node.anchor ? `a${this.next++}` : undefined;
    return { prefix: `${name ? `&${name} ` : ''}${node.tag ? `${node.tag} ` : ''}`, name };
  }

  private alias(node: Extract<Tree, { t: 'alias' }>): string {
    if (node.bad === 'undefined') return '*nowhere';
    if (node.bad === 'cycle' && this.openAnchors.length)
      return `*${this.openAnchors[node.pick % this.openAnchors.length]}`;
    if (!this.anchors.length) return 'plain';
    return `*${this.anchors[node.pick % this.anchors.length]!.name}`;
  }

  private mergeLine(node: Extract<Tree, { t: 'map' }>): string | undefined {
    if (!node.merge) return undefined;
    const maps = this.anchors.filter((a) => a.map);
    if (this.faults && !maps.length && this.anchors.length) return `<<: *${this.anchors[0]!.name}`;
    return maps.length ? `<<: *${maps[maps.length - 1]!.name}` : undefined;
  }

  /** A node inside flow context (and for block values that are scalars or flow collections). */
  flow(node: Tree): string {
    if (node.t === 'alias') return this.alias(node);
    const { prefix, name } = this.props(node);
    if (node.t === 'scalar') {
      if (name) this.anchors.push({ name, map: false });
      return `${prefix}${node.text}`;
    }
    if (name) this.openAnchors.push(name);
    let body: string;
    if (node.t === 'map') {
      const merge = this.mergeLine(node);
      body = `{${[...(merge ? [merge] : []), ...node.entries.map(([k, v]) => `${k}: ${this.flow(v)}`)].join(', ')}}`;
    } else {
      body = `[${node.items.map((v) => this.flow(v)).join(', ')}]`;
    }
    if (name) {
      this.openAnchors.pop();
      this.anchors.push({ name, map: node.t === 'map' });
    }
    return `${prefix}${body}`;
  }

  /** `key:` or `-` followed by the node, at `indent`; block collections go on the following lines. */
  block(lead: string, node: Tree, indent: number): string {
    const pad = ' '.repeat(indent);
    const blockCollection =
      (node.t === 'map' && !node.flow && node.entries.length > 0) ||
      (node.t === 'seq' && !node.flow && node.items.length > 0);
    if (!blockCollection) return `${pad}${lead} ${this.flow(node)}\n`;
    const { prefix, name } = this.props(node as { anchor?: boolean; tag?: string });
    if (name) this.openAnchors.push(name);
    let body = '';
    if (node.t === 'map') {
      const merge = this.mergeLine(node);
      if (merge) body += `${pad}  ${merge}\n`;
      for (const [k, v] of node.entries) body += this.block(`${k}:`, v, indent + 2);
    } else if (node.t === 'seq') {
      for (const v of node.items) body += this.block('-', v, indent + 2);
    }
    if (name) {
      this.openAnchors.pop();
      this.anchors.push({ name, map: node.t === 'map' });
    }
    return `${pad}${lead}${prefix ? ` ${prefix.trimEnd()}` : ''}\n${body}`;
  }
}

/** A namespaced object around a generated tree (under `data`, or `spec` for a non-ConfigMap). */
export function emitObject(name: string, tree: Tree, faults: boolean, labels: Record<string, string> = {}): string {
  const emitter = new Emitter(faults);
  const labelLines = Object.entries(labels)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`)
    .join('');
  return (
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n` +
    `${labelLines ? `  labels:\n${labelLines}` : ''}${emitter.block('data:', tree, 0)}`
  );
}

// ---------- wrappers that keep a file's meaning ----------

type Wrap = (docs: string[]) => string;
const wraps: [string, Wrap][] = [
  ['plain', (docs) => docs.join('---\n')],
  ['--- before each', (docs) => docs.map((d) => `---\n${d}`).join('')],
  ['... after each', (docs) => docs.map((d) => `${d}...\n`).join('---\n')],
  ['comments and empty documents', (docs) => `# generated\n---\n---\n${docs.join('---\n# between\n---\n')}...\n`],
  ['CRLF line ends', (docs) => docs.join('---\n').replaceAll('\n', '\r\n')],
  ['a BOM at the start', (docs) => `\uFEFF${docs.join('---\n')}`],
  ['a BOM, CRLF and ---', (docs) => `\uFEFF---\r\n${docs.join('---\n').replaceAll('\n', '\r\n')}`],
  ['no newline at the end', (docs) => docs.join('---\n').replace(/\n$/, '')],
];

// ---------- byte-level mutations ----------

const interesting = [
  0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x23, 0x26, 0x27, 0x2a, 0x2c, 0x2d, 0x3a, 0x3c, 0x3e, 0x3f, 0x40, 0x5b, 0x5d,
  0x7b, 0x7c, 0x7d, 0x7f, 0x80, 0xc3, 0xef, 0xbb, 0xbf, 0xfe, 0xff,
];
const insertions = [
  '---\n',
  '...\n',
  '\t',
  '<<: *a\n',
  '&a ',
  '*a',
  '!Tag ',
  '\uFEFF',
  '\r\n',
  ': ',
  '- ',
  '{',
  '[',
  '"',
  "'",
  '|\n',
  '%YAML 1.1\n',
  '? ',
  '#',
  '\u2028',
  '\u0085',
];

type Mutation = (bytes: Buffer) => Buffer;
const mutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
  fc
    .tuple(fc.nat(), fc.constantFrom(...interesting))
    .map(([at, byte]): [string, Mutation] => [
      'set a byte',
      (b) =>
        b.length
          ? Buffer.concat([b.subarray(0, at % b.length), Buffer.from([byte]), b.subarray((at % b.length) + 1)])
          : b,
    ]),
  fc.tuple(fc.nat(), fc.nat(7)).map(([at, bit]): [string, Mutation] => [
    'flip a bit',
    (b) => {
      if (!b.length) return b;
      const c = Buffer.from(b);
      c[at % c.length]! ^= 1 << bit;
      return c;
    },
  ]),
  fc
    .tuple(fc.nat(), fc.constantFrom(...insertions))
    .map(([at, text]): [string, Mutation] => [
      'insert a token',
      (b) => Buffer.concat([b.subarray(0, at % (b.length + 1)), Buffer.from(text), b.subarray(at % (b.length + 1))]),
    ]),
  fc
    .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }))
    .map(([at, bytes]): [string, Mutation] => [
      'insert random bytes',
      (b) => Buffer.concat([b.subarray(0, at % (b.length + 1)), Buffer.from(bytes), b.subarray(at % (b.length + 1))]),
    ]),
  fc
    .tuple(fc.nat(), fc.integer({ min: 1, max: 40 }))
    .map(([at, n]): [string, Mutation] => [
      'delete a range',
      (b) => Buffer.concat([b.subarray(0, at % (b.length + 1)), b.subarray((at % (b.length + 1)) + n)]),
    ]),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 60 })).map(([at, n]): [string, Mutation] => [
    'duplicate a range',
    (b) => {
      const from = at % (b.length + 1);
      return Buffer.concat([b.subarray(0, from + n), b.subarray(from, from + n), b.subarray(from + n)]);
    },
  ]),
  fc.nat().map((at): [string, Mutation] => ['truncate', (b) => b.subarray(0, at % (b.length + 1))]),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]): [string, Mutation] => [
    'swap two lines',
    (b) => {
      const lines = b.toString('latin1').split('\n');
      const x = i % lines.length;
      const y = j % lines.length;
      [lines[x], lines[y]] = [lines[y]!, lines[x]!];
      return Buffer.from(lines.join('\n'), 'latin1');
    },
  ]),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })).map(([i, n]): [string, Mutation] => [
    're-indent a line',
    (b) => {
      const lines = b.toString('latin1').split('\n');
      const x = i % lines.length;
      lines[x] = n === 1 ? `\t${lines[x]}` : n === 2 ? ` ${lines[x]}` : lines[x]!.replace(/^ {1,2}/, '');
      return Buffer.from(lines.join('\n'), 'latin1');
    },
  ]),
);
const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });
const mutate = (text: string | Buffer, ms: [string, Mutation][]) =>
  ms.reduce((b, [, m]) => m(b), Buffer.isBuffer(text) ? text : Buffer.from(text));

// ---------- the categories ----------

export interface FileCategory {
  name: string;
  count: number;
  arb: fc.Arbitrary<FileCase>;
}

const manifestCase = (
  category: string,
  content: string | Buffer,
  expect: Expectation,
  detail?: string,
  file = 'm.yml',
): FileCase => ({
  category,
  detail,
  files: { [file]: content },
  params: { image_ref: 'registry.example.com/web:1', manifests: [`@DIR@/${file}`] },
  expect,
  names: file,
});

const objectName = (prefix: string) => label.map((l) => `${prefix}-${l}`);

export function fileCategories(realManifests: string[]): FileCategory[] {
  const validTree = treeArb({ scalar: safeScalar, faults: false });
  const oddTree = treeArb({ scalar: oddScalar, faults: true });
  const labels = fc.dictionary(label, label, { maxKeys: 2 });

  const validManifests = fc
    .tuple(
      fc.array(fc.tuple(validTree, labels), { minLength: 1, maxLength: 3 }),
      objectName('cm'),
      fc.nat(wraps.length - 1),
      fc.boolean(),
    )
    .map(([docs, name, w, asList]) => {
      const texts = docs.map(([tree, l], i) => emitObject(`${name}-${i}`, tree, false, l));
      const [wrapName, wrap] = wraps[w]!;
      const body = asList
        ? 'apiVersion: v1\nkind: List\nitems:\n' +
          `${texts.map((t) => `- ${t.replaceAll('\n', '\n  ').trimEnd()}\n`).join('')}`
        : wrap(texts);
      return manifestCase('manifests: valid YAML in many styles', body, 'valid', asList ? 'List' : wrapName);
    });

  const oddManifests = fc
    .tuple(fc.array(oddTree, { minLength: 1, maxLength: 2 }), objectName('odd'), fc.nat(wraps.length - 1))
    .map(([trees, name, w]) => {
      const [wrapName, wrap] = wraps[w]!;
      return manifestCase(
        'manifests: generated YAML with faults (tags, aliases, merge keys, odd scalars)',
        wrap(trees.map((t, i) => emitObject(`${name}-${i}`, t, true))),
        'either',
        wrapName,
      );
    });

  // Alias chains and fan-outs whose expansion passes the limits by far (at least 8^7 leaves), in several shapes.
  const bombs = fc
    .tuple(
      fc.integer({ min: 7, max: 12 }),
      fc.integer({ min: 8, max: 10 }),
      fc.constantFrom('flow', 'block', 'merge', 'many', 'cycle'),
      label,
    )
    .map(([depth, width, shape, leaf]) => {
      let body = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n`;
      if (shape === 'flow') {
        body += `  l0: &l0 ["${leaf}"]\n`;
        for (let i = 1; i <= depth; i++)
          body += `  l${i}: &l${i} [${Array(width)
            .fill(`*l${i - 1}`)
            .join(', ')}]\n`;
      } else if (shape === 'block') {
        body += `  l0: &l0\n    - ${leaf}\n`;
        for (let i = 1; i <= depth; i++)
          body += `  l${i}: &l${i}\n${Array(width)
            .fill(`    - *l${i - 1}\n`)
            .join('')}`;
      } else if (shape === 'merge') {
        body += `  m0: &m0 {k: ${leaf}${'x'.repeat(40)}}\n`;
        for (let i = 1; i <= depth; i++)
          body += `  m${i}: &m${i} {${Array.from({ length: width }, (_, j) => `k${j}: *m${i - 1}`).join(', ')}}\n`;
      } else if (shape === 'many') {
        body += `  v: &v ${leaf}\n  list: [${Array(1001 + depth)
          .fill('*v')
          .join(',')}]\n`;
      } else {
        body += `  loop: &loop\n    self: *loop\n`;
      }
      return manifestCase('manifests: alias bombs and cycles', body, 'invalid', shape);
    });

  const badDocs: [string, string | Buffer][] = [
    ['tab indentation', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n'],
    ['duplicate key', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nkind: Secret\n'],
    ['custom tag', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: !Ref b}\n'],
    [
      'BOM in a later document',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n' +
        '\uFEFFapiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n',
    ],
    ['NUL byte', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: "x\u0000y"}\n'],
    ['not a mapping', '- apiVersion: v1\n  kind: ConfigMap\n'],
    ['a bare string', 'ConfigMap\n'],
    ['only empty documents', '---\n...\n---\n# nothing\n'],
    ['empty file', ''],
    [
      'deep flow nesting',
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
    ],
    [
      'deep block nesting',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' +
        `${Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}k${i}:\n`).join('')}`,
    ],
    ['UTF-16 file', Buffer.from('\uFEFFapiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n', 'utf16le')],
    [
      'Latin-1 bytes',
      Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: "caf\u00e9"}\n', 'latin1'),
    ],
    ['merge of a scalar', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {<<: 1}\n'],
    ['unknown alias', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: *b}\n'],
    ['complex key', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  ? {a: b}\n  : c\n'],
    ['binary garbage', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256))],
    ['a List without items', 'apiVersion: v1\nkind: List\n'],
    ['a kind with a newline', 'apiVersion: v1\nkind: "Config\\nMap"\nmetadata: {name: a}\n'],
    ['a huge name', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${'a'.repeat(100_000)}}\n`],
  ];
  const oddities = fc.tuple(fc.nat(badDocs.length - 1), fc.nat(wraps.length - 1)).map(([i, w]) => {
    const [detail, content] = badDocs[i]!;
    // A wrapper keeps the fault (text only; the byte-level ones stay as they are).
    const body =
      typeof content === 'string' && content !== '' && !detail.includes('BOM') && !detail.includes('empty')
        ? wraps[w]![1]([content])
        : content;
    return manifestCase('manifests: YAML oddities', body, 'invalid', detail);
  });

  const mutated = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...realManifests),
        fc.tuple(validTree, objectName('mut')).map(([t, n]) => emitObject(n, t, false)),
      ),
      mutations,
    )
    .map(([text, ms]) =>
      manifestCase('manifests: byte-level mutations', mutate(text, ms), 'either', ms.map(([n]) => n).join(', ')),
    );

  const oddNames = fc
    .tuple(
      fc.constantFrom('a b.yml', 'ü.yml', 'a\nb.yml', 'tab\there.yml', '-.yml', '"q".yml', 'x'.repeat(200) + '.yml'),
      fc.boolean(),
    )
    .map(([file, valid]) =>
      manifestCase(
        'manifests: odd file names',
        valid ? 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: named}\n' : '- not an object\n',
        valid ? 'valid' : 'invalid',
        JSON.stringify(file),
        file,
      ),
    );

  // The registry-image dir: repository, tag, digest.
  const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);
  const validImageFiles = fc.record({
    repository: fc.constantFrom('registry.example.com/web', 'nginx', 'localhost:5000/a/b', 'ghcr.io/org/app'),
    tag: fc.constantFrom('1.0', 'latest', 'v1.2.3-rc.1'),
    digest,
  });
  const oddValue = fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '\n',
      'sha256:',
      'sha256:xyz',
      'md5:abc',
      'UPPER/Case',
      'a b',
      'x\ny',
      '../..',
      'http://x/y',
      '\u0000',
      '\uFEFFnginx',
      'nginx\r\n',
      ':tag',
      '@sha256:',
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 4000, max: 5000 }).map((n) => 'r'.repeat(n)),
  );
  const imageDir = fc
    .tuple(validImageFiles, fc.constantFrom('repository', 'tag', 'digest'), oddValue, mutations, fc.nat(5))
    .map(([good, field, odd, ms, how]) => {
      const files: FileCase['files'] = {
        'img/repository': good.repository,
        'img/tag': good.tag,
        'img/digest': good.digest,
      };
      let detail: string;
      let expect: Expectation = 'either';
      if (how === 0) {
        files[`img/${field}`] = odd;
        detail = `odd ${field}`;
      } else if (how === 1) {
        files[`img/${field}`] = mutate(good[field], ms);
        detail = `mutated ${field}`;
      } else if (how === 2) {
        files[`img/${field}`] = { dir: true };
        detail = `${field} is a directory`;
        expect = 'invalid';
      } else if (how === 3) {
        files[`img/${field}`] = { symlink: '/etc/hostname' };
        detail = `${field} links outside`;
        expect = 'invalid';
      } else if (how === 4) {
        delete files['img/tag'];
        delete files['img/digest'];
        detail = 'neither tag nor digest';
        expect = 'invalid';
      } else {
        detail = 'valid';
        expect = 'valid';
      }
      return {
        category: 'image dir: repository, tag, digest',
        detail,
        files,
        params: { image: '@DIR@/img' },
        expect,
        names: 'params.image',
      } satisfies FileCase;
    });

  // namespace_file.
  const namespaceFile = fc
    .tuple(fc.oneof(label, fc.constantFrom('ns', 'a'.repeat(63))), fc.nat(3), oddValue, mutations)
    .map(([good, how, odd, ms]) => {
      const content =
        how === 0 ? `${good}\n` : how === 1 ? odd : how === 2 ? mutate(`${good}\n`, ms) : `\uFEFF${good}\r\n`;
      return {
        category: 'namespace_file',
        detail: ['valid', 'odd', 'mutated', 'BOM and CRLF'][how],
        files: { ns: content },
        params: { image_ref: 'registry.example.com/web:1', namespace_file: '@DIR@/ns' },
        expect: how === 0 || how === 3 ? 'valid' : 'either',
        names: 'params.namespace_file',
      } satisfies FileCase;
    });

  return [
    { name: 'manifests: valid YAML in many styles', count: 40, arb: validManifests },
    {
      name: 'manifests: generated YAML with faults (tags, aliases, merge keys, odd scalars)',
      count: 70,
      arb: oddManifests,
    },
    { name: 'manifests: alias bombs and cycles', count: 15, arb: bombs },
    { name: 'manifests: YAML oddities', count: 30, arb: oddities },
    { name: 'manifests: byte-level mutations', count: 75, arb: mutated },
    { name: 'manifests: odd file names', count: 10, arb: oddNames },
    { name: 'image dir: repository, tag, digest', count: 35, arb: imageDir },
    { name: 'namespace_file', count: 25, arb: namespaceFile },
  ];
}
