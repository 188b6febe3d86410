// Deterministic, kubectl-compatible YAML: stable key order, no server-set fields, YAML 1.1-safe quoting.
import {
  CORE_SCHEMA,
  EVENT_ID,
  YAMLException,
  constructFromEvents,
  dump,
  mergeTag,
  parseEvents,
  type AliasEvent,
  type Event,
} from 'js-yaml';
import type { KubeObject } from '../kube/object.js';

const first = ['apiVersion', 'kind', 'metadata', 'name', 'namespace'];
function compareKeys(a: string, b: string): number {
  const ia = first.indexOf(a);
  const ib = first.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? first.length : ia) - (ib < 0 ? first.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

const serverSetMetadata = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'ownerReferences',
];

/** The object as a user would commit it: without status and the fields the server sets. */
export function stripServerFields(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object as KubeObject & { status?: unknown };
  const metadata = { ...rest.metadata };
  for (const key of serverSetMetadata) delete metadata[key];
  if (metadata.annotations) {
    const annotations = { ...metadata.annotations };
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    delete annotations['deployment.kubernetes.io/revision'];
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...rest, metadata };
}

/** A copy with every mapping's keys in our stable order (dump keeps insertion order). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compareKeys(a, b));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)]));
}

/** Multi-document YAML; strings YAML 1.1 would read as something else ("yes", "0777") are quoted for kubectl. */
export function toYaml(objects: KubeObject[]): string {
  return objects
    .map(
      (object) =>
        '---\n' + dump(sortedKeys(stripServerFields(object)), { lineWidth: -1, noRefs: true, quoteStyle: 'double' }),
    )
    .join('');
}

// ---------- reading user YAML, bounded ----------

/** Limits on what one manifests file may expand to. Real manifests stay far below each of them. */
export interface YamlLimits {
  /** Bytes of one document with its aliases expanded (about its size as JSON). */
  documentBytes: number;
  /** Aliases (`*name`) in one document. */
  aliases: number;
  /** Nesting depth of collections. */
  depth: number;
  /** Keys copied by merge keys (`<<`) in one document. */
  mergedKeys: number;
  /** Nodes in one document, counted before parsing by the characters that can start one (an upper bound). */
  nodes: number;
  /** Nodes of all the texts read with one budget (see readYamlDocuments), counted the same way. */
  releaseNodes: number;
}

/** A problem at a line of the text (1-based); the caller names the file. */
export class YamlProblem extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export interface YamlDocument {
  /** 1-based, counting empty documents too (as `---` separates them). */
  index: number;
  /** 1-based line of the document's first node; undefined for an empty document. */
  line: number | undefined;
  value: unknown;
  /** Bytes with aliases expanded (see YamlLimits.documentBytes). */
  expandedBytes: number;
}

// Core schema (YAML 1.2, what kubectl's parser reads too for these types) plus merge keys, which people use.
const manifestSchema = CORE_SCHEMA.withTags(mergeTag);

/** 1-based line numbers of positions; linear over a walk whose positions mostly grow. */
function lineCounter(text: string): (position: number) => number {
  let at = 0;
  let line = 1;
  return (position) => {
    if (position < at) [at, line] = [0, 1];
    for (let i = text.indexOf('\n', at); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
      line++;
      at = i + 1;
    }
    return line;
  };
}
const lineAt = (text: string, position: number) => lineCounter(text)(position);

/** Short, one-line, quoted: user text in a message (it may be long or hold control characters). */
export function shown(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

function position(event: Event): number {
  if ('tagStart' in event && event.tagStart !== -1) return event.tagStart;
  if ('anchorStart' in event && event.anchorStart !== -1) return event.anchorStart;
  if ('valueStart' in event && event.valueStart !== -1) return event.valueStart;
  if ('start' in event) return event.start;
  return -1;
}

/** An anchor's size with its aliases expanded; `open` while its collection is (an alias to it then is a cycle). */
type Anchor = { bytes: number; collection: boolean; open: boolean };

/**
 * The anchor the document's `count`th alias refers to (undefined when unknown); refuses one alias too many and an
 * alias to a collection that contains it.
 */
function aliasedAnchor(
  text: string,
  event: AliasEvent,
  anchors: Map<string, Anchor>,
  count: number,
  limits: YamlLimits,
  lineOf: (position: number) => number,
): Anchor | undefined {
  const name = text.slice(event.anchorStart, event.anchorEnd);
  if (count > limits.aliases) {
    throw new YamlProblem(lineOf(position(event)), `more than ${limits.aliases} aliases (*name) in one document`);
  }
  const anchor = anchors.get(name);
  if (anchor?.open) {
    const message = `the alias ${shown(`*${name}`)} refers to a collection that contains it (a cycle)`;
    throw new YamlProblem(lineOf(position(event)), message);
  }
  return anchor;
}

/**
 * Walks the parser's events and measures each document as if its aliases were copied out (as JSON.stringify and the
 * API request do), refusing a document over the limits at the line where it crosses them: an alias chain of a few
 * hundred bytes would otherwise expand to gigabytes. Also refuses an alias to the collection it sits in (a cycle).
 */
function measure(text: string, events: Event[], limits: YamlLimits): { line: number | undefined; bytes: number }[] {
  const documents: { line: number | undefined; bytes: number }[] = [];
  // The latest definition of each anchor, as the constructor resolves aliases.
  let anchors = new Map<string, Anchor>();
  // `entries` counts a mapping's keys and values so far: an even count means the next node is a key.
  let open: { bytes: number; anchor?: Anchor; mapping: boolean; entries: number }[] = [];
  let total = 0;
  let aliases = 0;
  let line: number | undefined;
  const lineOf = lineCounter(text);
  const anchorOf = (e: { anchorStart: number; anchorEnd: number }) =>
    e.anchorStart === -1 ? undefined : text.slice(e.anchorStart, e.anchorEnd);
  /** Counts a node into the document's total and its parent's size; a collection's own frame holds its bytes. */
  const add = (bytes: number, event: Event, collection: boolean, ownFrame = false) => {
    total += bytes;
    if (total > limits.documentBytes) {
      throw new YamlProblem(
        lineOf(position(event)),
        `the document is larger than ${mib(limits.documentBytes)} with its aliases expanded`,
      );
    }
    const parent = open.at(-1);
    if (!parent) return;
    if (!ownFrame) parent.bytes += bytes;
    if (parent.mapping && parent.entries++ % 2 === 0 && collection) {
      throw new YamlProblem(lineOf(position(event)), 'a mapping key that is itself a list or a mapping');
    }
  };
  for (const event of events) {
    if (line === undefined && event.type !== EVENT_ID.DOCUMENT && event.type !== EVENT_ID.POP)
      line = lineOf(position(event));
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        anchors = new Map();
        open = [];
        total = 0;
        aliases = 0;
        line = undefined;
        break;
      case EVENT_ID.SCALAR: {
        const bytes = event.valueEnd - event.valueStart + 3; // quotes and a separator, as JSON has them
        const anchor = anchorOf(event);
        if (anchor !== undefined) anchors.set(anchor, { bytes, collection: false, open: false });
        add(bytes, event, false);
        break;
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        add(3, event, true, true);
        const name = anchorOf(event);
        const anchor = name === undefined ? undefined : { bytes: 0, collection: true, open: true };
        if (name !== undefined) anchors.set(name, anchor!);
        open.push({ bytes: 3, anchor, mapping: event.type === EVENT_ID.MAPPING, entries: 0 });
        break;
      }
      case EVENT_ID.ALIAS: {
        const anchor = aliasedAnchor(text, event, anchors, ++aliases, limits, lineOf);
        // An unknown alias counts nothing here; the constructor refuses it with its line.
        add(anchor?.bytes ?? 0, event, anchor?.collection ?? false);
        break;
      }
      case EVENT_ID.POP: {
        const frame = open.pop();
        if (frame) {
          if (frame.anchor) Object.assign(frame.anchor, { bytes: frame.bytes, open: false });
          const parent = open.at(-1);
          if (parent) parent.bytes += frame.bytes;
        } else {
          documents.push({ line, bytes: total });
        }
        break;
      }
    }
  }
  return documents;
}

const mib = (bytes: number) =>
  bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;

/** js-yaml's reasons, reworded for someone who wrote a manifest; `at` is the text from the problem on. */
function explain(reason: string, at: string, lineText: string, limits: YamlLimits): string {
  const token = at.match(/^[^\s,:[\]{}]*/)![0];
  if (/tab characters/.test(reason) || /^ *\t/.test(lineText))
    return 'a tab in the indentation (YAML indents with spaces only)';
  if (reason === 'duplicated mapping key')
    return `the key ${shown(at.match(/^[^:\n]*/)![0].trim())} appears twice in one mapping`;
  let m = /^unknown (?:scalar |mapping |sequence )?tag !<(.*)>$/.exec(reason);
  if (m)
    return (
      `the tag ${shown(token || m[1]!)} is not supported ` +
      '(Kubernetes manifests are plain YAML: remove the tag, or quote the value)'
    );
  m = /^cannot resolve a node with !<(.*)> explicit tag$/.exec(reason);
  if (m) return `the value does not fit its tag ${shown(token || m[1]!)}`;
  m = /^unidentified alias "(.*)"$/.exec(reason);
  if (m) return `the alias ${shown(`*${m[1]}`)} names no anchor (${shown(`&${m[1]}`)}) before it in this document`;
  if (/^cannot merge mappings/.test(reason)) return 'a merge key (<<) must name a mapping or a list of mappings';
  if (/maxTotalMergeKeys/.test(reason))
    return `more than ${limits.mergedKeys} keys copied by merge keys (<<) in one document`;
  if (/abnormal merge sequence size/.test(reason)) return 'more than 100 mappings merged by one merge key (<<)';
  if (/maxDepth/.test(reason)) return `nested more than ${limits.depth} levels deep`;
  if (/null byte|non-printable|valid JSON character/.test(reason))
    return 'a control character that is not text (is this a binary file?)';
  if (/complex keys/.test(reason)) return 'a mapping key that is itself a list or a mapping';
  if (/recursive alias/.test(reason)) return 'an alias refers to a collection that contains it (a cycle)';
  return `not valid YAML: ${reason.length > 200 ? `${reason.slice(0, 200)}…` : reason}`;
}

/**
 * The documents of a YAML text, bounded: each document is parsed on its own (the parser's events for a dense
 * document cost about 200 bytes a node, so a file must not be parsed whole), after a count of the characters that
 * can start a node bounds the parser's work, and measured with its aliases expanded before it is built.
 * `budget` carries the node count left across the texts of one release.
 * Throws YamlProblem for anything it refuses. A byte order mark is accepted at the start only (not at a later line's
 * start).
 */
export function readYamlDocuments(
  text: string,
  limits: YamlLimits,
  budget = { left: limits.releaseNodes },
): YamlDocument[] {
  // Files joined with `cat` carry their BOMs to line starts, where one would become part of a key.
  const bom = text.indexOf('\n\uFEFF');
  if (bom !== -1) {
    const message = 'a byte order mark (U+FEFF) starts a line inside the file (save the files as UTF-8 without BOM)';
    throw new YamlProblem(lineAt(text, bom + 1), message);
  }
  const documents: YamlDocument[] = [];
  for (const chunk of documentChunks(text)) {
    const lineOffset = chunk.line - 1;
    const nodes = nodeStarts(chunk.text);
    if (nodes > limits.nodes) {
      throw new YamlProblem(
        chunk.line,
        `the document holds more than ${limits.nodes} nodes ` +
          '(counting the commas, colons, dashes, brackets and lines that start one)',
      );
    }
    budget.left -= nodes;
    if (budget.left < 0) {
      throw new YamlProblem(
        chunk.line,
        `the extra manifests together hold more than ${limits.releaseNodes} nodes ` +
          '(counting the commas, colons, dashes, brackets and lines that start one)',
      );
    }
    try {
      for (const doc of readChunk(chunk.text, limits)) {
        documents.push({
          ...doc,
          index: documents.length + 1,
          line: doc.line === undefined ? undefined : doc.line + lineOffset,
        });
      }
    } catch (error) {
      if (error instanceof YamlProblem) throw new YamlProblem(error.line + lineOffset, error.message);
      throw error;
    }
  }
  return documents;
}

/**
 * The text cut before each `---` line. Such a line ends any scalar (YAML forbids it inside one), and anchors do not
 * reach across documents, so the pieces parse as the whole would. With directives (`%YAML`, `%TAG`), which belong to
 * the document after them, the text stays whole.
 */
function documentChunks(text: string): { text: string; line: number }[] {
  if (/^%/m.test(text)) return [{ text, line: 1 }];
  const chunks: { text: string; line: number }[] = [];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let start = 0;
  let line = 1;
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    if (m.index === 0 || (m.index === 1 && text.charCodeAt(0) === 0xfeff)) continue;
    const piece = text.slice(start, m.index);
    chunks.push({ text: piece, line });
    line += countLines(piece);
    start = m.index;
  }
  chunks.push({ text: text.slice(start), line });
  return chunks;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * An upper bound of the nodes a text can hold: each starts after one of `,[{:-?` or a line break. It counts these in
 * scalars and comments too (telling those apart takes a parser, whose memory is what this bounds).
 */
export function nodeStarts(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2c || c === 0x5b || c === 0x7b || c === 0x3a || c === 0x2d || c === 0x3f || c === 0x0a) n++;
  }
  return n;
}

function readChunk(text: string, limits: YamlLimits): YamlDocument[] {
  let events: Event[];
  let measured: ReturnType<typeof measure>;
  let values: unknown[];
  try {
    events = parseEvents(text, { maxDepth: limits.depth });
    measured = measure(text, events, limits);
    values = constructFromEvents(events, {
      source: text,
      schema: manifestSchema,
      maxTotalMergeKeys: limits.mergedKeys,
    });
  } catch (error) {
    if (error instanceof YamlProblem) throw error;
    if (!(error instanceof YAMLException)) throw error;
    const mark = error.mark;
    const at = mark ? text.slice(mark.position, mark.position + 200) : '';
    const lineStart = mark ? text.lastIndexOf('\n', mark.position - 1) + 1 : 0;
    const lineEnd = text.indexOf('\n', lineStart);
    const lineText = mark ? text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd) : '';
    throw new YamlProblem(mark ? mark.line + 1 : 1, explain(error.reason, at, lineText, limits));
  }
  return values.map((value, i) => ({
    index: i + 1,
    line: measured[i]?.line,
    value,
    expandedBytes: measured[i]?.bytes ?? 0,
  }));
}
