// The three requests' parsers in one place (for tests and tools). The scripts import their own parser's pieces
// directly (commands/check.ts, commands/in.ts, request/plan.ts), so that check's bundle holds neither out's schema
// nor builds it at start-up.
import { parseWith } from './issues.js';
import { outRequestSchema } from './out-schema.js';
import { checkRequestSchema, inRequestSchema } from './schemas.js';

export { formatIssues, formatPath, quote } from './issues.js';

export const parseCheckRequest = (raw: unknown) => parseWith(checkRequestSchema, raw);
export const parseInRequest = (raw: unknown) => parseWith(inRequestSchema, raw);
export const parseOutRequest = (raw: unknown) => parseWith(outRequestSchema, raw);
