// Maps what the network and the API server say to our error classes, with messages a user can act on.
import { ApiRejectedError, ClusterConnectionError, type ResourceError } from '../errors.js';

export interface ApiStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

/** A step of one request over the network; each is bounded by source.request_timeout. */
export type NetworkStep = 'connect' | 'tls' | 'headers' | 'body' | 'watch';

/** A step of a request got no answer within its bound (the request was cut). */
export class StepTimeoutError extends Error {
  readonly code = 'KDR_STEP_TIMEOUT';
  constructor(
    readonly step: NetworkStep,
    readonly boundMs: number,
    /** The proxy the connection went through (redacted), if any. */
    readonly proxy?: string,
  ) {
    super(`${step} timed out after ${boundMs}ms`);
  }
  /** Nothing reached the server yet: safe to retry any request, idempotent or not. */
  get beforeSending(): boolean {
    return this.step === 'connect' || this.step === 'tls';
  }
}

/** The proxy could not be reached or refused the tunnel. */
export class ProxyFailure extends Error {
  readonly code: string;
  constructor(
    readonly proxy: string,
    readonly detail: string,
    cause: unknown,
    /** The socket error behind it, when the cause does not carry it as a code (a SOCKS failure). */
    code?: string,
  ) {
    super(`proxy ${proxy}: ${detail}`, { cause });
    this.code = errorCode(cause) ?? code ?? 'KDR_PROXY';
  }
}

/** "1s", "1.5s", "30s", "2m". */
export function formatBound(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${ms}ms`;
}

function describeTimeout(error: StepTimeoutError, server: string): string {
  const bound = formatBound(error.boundMs);
  switch (error.step) {
    case 'connect':
      return error.proxy
        ? `no tunnel to ${server} through the proxy ${error.proxy} within ${bound}`
        : `no connection to ${server} within ${bound} (TCP connect)`;
    case 'tls':
      return `no answer to the TLS handshake from ${server} within ${bound}`;
    case 'headers':
      return `no response from ${server} within ${bound} (the request was sent; no response headers came)`;
    case 'body':
      return `the response body from ${server} did not arrive within ${bound} (stalled or trickling)`;
    case 'watch':
      return `the watch on ${server} got no response within ${bound}`;
  }
}

const tlsTrust = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
]);
const retryableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** The innermost error code of a fetch failure (undici wraps the socket error in `cause`). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  let code: string | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    const c = (current as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
    current = (current as { cause?: unknown }).cause;
  }
  return code;
}

function innermostMessage(error: unknown): string {
  let message = String(error);
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error && current.message) message = current.message;
    current = (current as { cause?: unknown }).cause;
  }
  return message;
}

export function isRetryableNetworkError(error: unknown): boolean {
  if (error instanceof StepTimeoutError) return true;
  const code = errorCode(error);
  return code !== undefined && retryableCodes.has(code);
}

export function describeNetworkError(error: unknown, server: string): ResourceError {
  if (error instanceof StepTimeoutError) return new ClusterConnectionError(describeTimeout(error, server));
  if (error instanceof ProxyFailure)
    return new ClusterConnectionError(
      `cannot reach the cluster at ${server} through the proxy ${error.proxy}: ${error.detail}`,
    );
  const code = errorCode(error) ?? '';
  if (code === 'ECONNREFUSED')
    return new ClusterConnectionError(`cannot reach the cluster at ${server}: connection refused`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new ClusterConnectionError(`cannot reach the cluster at ${server}: host name not found`);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')
    return new ClusterConnectionError(`lost the connection to the cluster at ${server} (${code})`);
  if (code.includes('TIMEOUT') || code === 'ETIMEDOUT')
    return new ClusterConnectionError(`the cluster at ${server} did not answer in time (${code})`);
  if (tlsTrust.has(code)) {
    return new ClusterConnectionError(
      `TLS: the API server's certificate at ${server} is not trusted: it is not signed by source.cluster_ca (${code})`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return new ClusterConnectionError(
      `TLS: the API server's certificate does not name the host of ${server} (${code})`,
    );
  if (code === 'CERT_HAS_EXPIRED')
    return new ClusterConnectionError(`TLS: the API server's certificate at ${server} has expired`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))
    return new ClusterConnectionError(`TLS handshake with ${server} failed (${code})`);
  return new ClusterConnectionError(`cannot talk to the cluster at ${server}: ${code || innermostMessage(error)}`);
}

/** Where the credentials sent with the requests came from: a 401 names it, and what to check. */
export type CredentialOrigin =
  | { kind: 'source'; credential: 'token' | 'client certificate' }
  | { kind: 'service-account'; tokenFile: string }
  | { kind: 'exec'; command: string; user: string; credential: 'token' | 'client certificate' }
  | { kind: 'kubeconfig'; user: string; credential: 'token' | 'client certificate' | 'none' | 'other' };

const quoted = (text: string) => JSON.stringify(text);

/** What a 401 means for credentials of this origin. */
export function unauthorizedHint(origin: CredentialOrigin | undefined): string {
  switch (origin?.kind) {
    case undefined:
      return 'check source.token or source.admin_cert/admin_key';
    case 'source':
      return origin.credential === 'token'
        ? 'source.token was refused: is it expired or revoked, or its ServiceAccount deleted?'
        : "source.admin_cert was refused: is it signed by the cluster's client CA?";
    case 'service-account':
      return (
        `the ServiceAccount token at ${origin.tokenFile} was refused: ` + 'is it expired or its ServiceAccount deleted?'
      );
    case 'exec':
      return (
        `the ${origin.credential} from the exec credential plugin ${quoted(origin.command)} of kubeconfig user ` +
        `${quoted(origin.user)} was refused: does the cluster know the identity the plugin signs in as ` +
        '(e.g. is it mapped in aws-auth), with the credentials in its env?'
      );
    case 'kubeconfig': {
      const user = `kubeconfig user ${quoted(origin.user)}`;
      if (origin.credential === 'token') return `the token of ${user} was refused: is it expired or revoked?`;
      if (origin.credential === 'client certificate')
        return `the client certificate of ${user} was refused: is it signed by the cluster's client CA?`;
      if (origin.credential === 'none')
        return `${user} has no credentials (token, client-certificate-data or exec): the request was anonymous`;
      return `check the credentials of ${user}`;
    }
  }
}

export function errorForStatus(
  status: number,
  body: ApiStatus | string | undefined,
  what: string,
  server: string,
  credentials?: CredentialOrigin,
): ResourceError {
  const detail = typeof body === 'string' ? body.slice(0, 300) : body?.message;
  if (status === 401) {
    return new ClusterConnectionError(
      `the cluster at ${server} did not accept our credentials (401 Unauthorized) when trying to ${what}: ` +
        unauthorizedHint(credentials),
    );
  }
  if (status === 403) return new ApiRejectedError(`forbidden (403) to ${what}: ${detail ?? 'no reason given'}`, status);
  if (status === 429 || status >= 500) {
    return new ClusterConnectionError(
      `the API server at ${server} failed to ${what}: ${status}${detail ? ` ${detail}` : ''}`,
    );
  }
  const reason = typeof body === 'object' && body?.reason ? `${body.reason}, ` : '';
  return new ApiRejectedError(
    `the API server refused to ${what} (${reason}${status}): ${detail ?? 'no reason given'}`,
    status,
  );
}
