// Turns zod issues into one line that names each field path and never repeats the value (it may be a secret).
// Shared by the request parsers of check, in and out; each script imports only its own schemas (see parse.ts).
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { BadRequestError } from '../errors.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

// zod/mini ships no messages of its own: the English ones of full zod, for any issue neither the schema nor
// describe() below words.
z.config(en());

/** A user-given string in a message: quoted and cut short (a 1 MiB key would make the line unreadable). */
export function quote(text: string, max = 64): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Wording for the generic issues; schema-level messages (refinements) take precedence over this. */
function describe(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return (
        `expected ${issue.expected === 'record' || issue.expected === 'object' ? 'an object' : issue.expected}, ` +
        `got ${typeName(issue.input)}`
      );
    case 'unrecognized_keys': {
      const keys = (issue.keys as string[]).map((k) => quote(k)).join(', ');
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
    }
    case 'too_small':
      return issue.origin === 'string'
        ? `must be at least ${issue.minimum} characters`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${issue.maximum} characters`
        : `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'invalid key';
    default:
      return undefined;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${quote(String(part))}]`;
  }
  return out;
}

export function formatIssues(issues: readonly Issue[]): string {
  const lines = issues.map((issue) => {
    const where = formatPath(issue.path);
    return `${where || 'request'}: ${issue.message}`;
  });
  return [...new Set(lines)].join('; ');
}

/** Parses `raw` with `schema`, or throws a BadRequestError with one line naming every wrong field. */
export function parseWith<S extends z.ZodMiniType>(schema: S, raw: unknown): z.output<S> {
  const result = z.safeParse(schema, raw, { error: (issue) => describe(issue) });
  if (!result.success) throw new BadRequestError(formatIssues(result.error.issues));
  return result.data;
}
