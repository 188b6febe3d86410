// The requests of check and in, from raw JSON to what their commands take (the entrypoints call these; out's request
// becomes a plan in plan.ts). Out's schema is not imported here, so that check's and in's bundles neither hold it nor
// build it at start-up.
import { parseWith } from './issues.js';
import { namespaceOfSource, type SourceNamespace } from './namespace.js';
import { checkRequestSchema, inRequestSchema, type Source, type Version } from './schemas.js';

export interface CheckRequest {
  source: Source;
  /** The version Concourse last saw (absent or null on the first check). */
  version?: Version | null;
  /** Where the releases are, as the source says (resolved by commands/context.ts's releaseNamespace). */
  namespace: SourceNamespace;
}

export interface InRequest {
  source: Source;
  /** The version to get: it names the release's namespace itself. */
  version: Version;
}

/** check's request, validated; every error is a BadRequestError naming the field. */
export function parseCheckRequest(raw: unknown): CheckRequest {
  const { source, version } = parseWith(checkRequestSchema, raw);
  return { source, version, namespace: namespaceOfSource(source) };
}

/** in's request, validated (its params take nothing yet, and are still checked to be empty). */
export function parseInRequest(raw: unknown): InRequest {
  const { source, version } = parseWith(inRequestSchema, raw);
  return { source, version };
}
