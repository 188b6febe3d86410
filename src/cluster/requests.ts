// One request to the API server as the client makes it: the URL, headers and JSON body; the answer's body parsed
// (or kept as text); a request that failed on the network or was answered 429/5xx sent again, within bounds, with a
// line for each retry; and a refusal turned into one of our errors.
import {
  describeNetworkError,
  errorForStatus,
  isRetryableNetworkError,
  StepTimeoutError,
  type ApiStatus,
  type CredentialOrigin,
} from './errors.js';
import type { Transport } from './transport.js';
import { ResourceError } from '../errors.js';
import type { Logger } from '../log.js';
import { abortReason } from '../time.js';

export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** The Accept header (default: plain JSON). */
  accept?: string;
  /** What we were doing, for messages: "apply deployment/web in namespace staging". */
  what: string;
  idempotent: boolean;
  /** The body as text, never parsed (a container log that happens to be JSON is still a log). */
  text?: true;
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface RequestOptions {
  server: string;
  transport: Transport;
  userAgent: string;
  log: Logger;
  signal?: AbortSignal;
  /** Retries of idempotent requests on 429/5xx/connection errors. */
  retries: number;
  sleep: (ms: number) => Promise<void>;
  /** Where the credentials came from, for the message of a 401 (may need the exec plugin's answer). */
  credentialOrigin: () => Promise<CredentialOrigin>;
}

export interface Requests {
  /** One request, once: the answer whatever its status; a network failure as it came. */
  send(call: Call): Promise<Answer>;
  /** The answer's body on 2xx (undefined on 404 when `accept404`), else the error of its status. */
  json<T>(call: Call, accept404?: boolean): Promise<T | undefined>;
  /** The error for a status the API server answered; a 401 names where our credentials came from. */
  statusError(status: number, body: ApiStatus | string | undefined, what: string): Promise<ResourceError>;
  /** A network failure as one of our errors; an abort as its reason. */
  networkError(error: unknown): Error;
}

export function createRequests(options: RequestOptions): Requests {
  const { server, signal } = options;
  const send = (call: Call) => sendOnce(options, call);

  const networkError = (error: unknown): Error => {
    if (signal?.aborted) return abortReason(signal);
    // Ours already (an exec plugin that failed): as it is.
    if (error instanceof ResourceError) return error;
    return describeNetworkError(error, server);
  };

  async function statusError(status: number, body: ApiStatus | string | undefined, what: string) {
    const origin = status === 401 ? await options.credentialOrigin() : undefined;
    return errorForStatus(status, body, what, server, origin);
  }

  async function json<T>(call: Call, accept404 = false): Promise<T | undefined> {
    const { status, body } = await withRetries(options, call, send);
    if (status >= 200 && status < 300) return body as T;
    if (status === 404 && accept404) return undefined;
    throw await statusError(status, body as ApiStatus | string | undefined, call.what);
  }

  return { send, json, statusError, networkError };
}

async function sendOnce(options: RequestOptions, call: Call): Promise<Answer> {
  const url = new URL(options.server.replace(/\/+$/, '') + call.path);
  for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const accept = call.accept ?? (call.text ? 'text/plain, application/json' : 'application/json');
  const headers: Record<string, string> = { Accept: accept, 'User-Agent': options.userAgent };
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  if (payload !== undefined) headers['Content-Type'] = call.contentType ?? 'application/json';
  const response = await options.transport.request(call.method, url, headers, payload, options.signal);
  let body: unknown = response.text;
  // A refusal is a Status object even then: only a successful text answer stays text.
  if (call.text && response.status >= 200 && response.status < 300) return { ...response, body };
  try {
    body = response.text ? JSON.parse(response.text) : undefined;
  } catch {
    /* not JSON: keep the text for the message */
  }
  return { status: response.status, body, headers: response.headers };
}

/** `call` sent until it is answered with other than 429/5xx, or may not be sent again. */
async function withRetries(options: RequestOptions, call: Call, send: (call: Call) => Promise<Answer>) {
  const { signal, server, retries } = options;
  // A step that timed out is tried once more at most: check and in end within about twice request_timeout.
  let timeouts = 0;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    let outcome: Answer | undefined;
    let failure: unknown;
    try {
      outcome = await send(call);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      failure = error;
    }
    const timedOut = failure instanceof StepTimeoutError ? failure : undefined;
    if (timedOut) timeouts++;
    const retryable = outcome
      ? outcome.status === 429 || outcome.status >= 500
      : isRetryableNetworkError(failure) && timeouts < 2;
    // A request cut before it was sent (connect, TLS) is safe to send again, idempotent or not.
    const resendable = call.idempotent || outcome?.status === 429 || timedOut?.beforeSending === true;
    if (!retryable || !resendable || attempt >= retries) {
      if (outcome) return outcome;
      // Ours already (an exec plugin that failed): as it is.
      if (failure instanceof ResourceError) throw failure;
      throw describeNetworkError(failure, server);
    }
    const delay = retryDelay(outcome, attempt);
    const why = outcome ? `the API server answered ${outcome.status}` : describeNetworkError(failure, server).message;
    options.log.info(
      `retrying ${call.what} in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 2} of ${retries + 1}): ${why}`,
    );
    await options.sleep(delay);
  }
}

/** The server's Retry-After (at most 10 s), else exponential from half a second up to 8 s. */
function retryDelay(outcome: Answer | undefined, attempt: number): number {
  const retryAfter = Number(outcome?.headers['retry-after']);
  return Number.isFinite(retryAfter) && retryAfter > 0
    ? Math.min(retryAfter * 1000, 10_000)
    : Math.min(500 * 2 ** attempt, 8000);
}
