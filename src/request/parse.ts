// Turns zod issues into one line that names each field path and never repeats the value (it may be a secret).
import type { z } from 'zod';
import { BadRequestError } from '../errors.js';
import { checkRequestSchema, inRequestSchema, outRequestSchema } from './schemas.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

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
      return `expected ${issue.expected === 'record' || issue.expected === 'object' ? 'an object' : issue.expected}, got ${typeName(issue.input)}`;
    case 'unrecognized_keys': {
      const keys = (issue.keys as string[]).map((k) => quote(k)).join(', ');
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
    }
    case 'too_small':
      return issue.origin === 'string' ? `must be at least ${issue.minimum} characters` : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${issue.maximum} characters` : `must be at most ${issue.maximum}`;
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

function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw, { error: (issue) => describe(issue) });
  if (!result.success) throw new BadRequestError(formatIssues(result.error.issues));
  return result.data;
}

export const parseCheckRequest = (raw: unknown) => parseWith(checkRequestSchema, raw);
export const parseInRequest = (raw: unknown) => parseWith(inRequestSchema, raw);
export const parseOutRequest = (raw: unknown) => parseWith(outRequestSchema, raw);
