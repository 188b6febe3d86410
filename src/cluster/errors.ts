// Maps what the network and the API server say to our error classes, with messages a user can act on.
import { ApiRejectedError, ClusterConnectionError, type ResourceError } from '../errors.js';

export interface ApiStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

const tlsTrust = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE']);
const retryableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

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
  const code = errorCode(error);
  return code !== undefined && retryableCodes.has(code);
}

export function describeNetworkError(error: unknown, server: string): ResourceError {
  const code = errorCode(error) ?? '';
  if (code === 'ECONNREFUSED') return new ClusterConnectionError(`cannot reach the cluster at ${server}: connection refused`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ClusterConnectionError(`cannot reach the cluster at ${server}: host name not found`);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return new ClusterConnectionError(`lost the connection to the cluster at ${server} (${code})`);
  if (code.includes('TIMEOUT') || code === 'ETIMEDOUT') return new ClusterConnectionError(`the cluster at ${server} did not answer in time (${code})`);
  if (tlsTrust.has(code)) {
    return new ClusterConnectionError(`TLS: the API server's certificate at ${server} is not trusted: it is not signed by source.cluster_ca (${code})`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return new ClusterConnectionError(`TLS: the API server's certificate does not name the host of ${server} (${code})`);
  if (code === 'CERT_HAS_EXPIRED') return new ClusterConnectionError(`TLS: the API server's certificate at ${server} has expired`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return new ClusterConnectionError(`TLS handshake with ${server} failed (${code})`);
  return new ClusterConnectionError(`cannot talk to the cluster at ${server}: ${code || innermostMessage(error)}`);
}

export function errorForStatus(status: number, body: ApiStatus | string | undefined, what: string, server: string): ResourceError {
  const detail = typeof body === 'string' ? body.slice(0, 300) : body?.message;
  if (status === 401) {
    return new ClusterConnectionError(`the cluster at ${server} did not accept our credentials (401 Unauthorized) when trying to ${what}: check source.token or source.admin_cert/admin_key`);
  }
  if (status === 403) return new ApiRejectedError(`forbidden (403) to ${what}: ${detail ?? 'no reason given'}`, status);
  if (status === 429 || status >= 500) {
    return new ClusterConnectionError(`the API server at ${server} failed to ${what}: ${status}${detail ? ` ${detail}` : ''}`);
  }
  const reason = typeof body === 'object' && body?.reason ? `${body.reason}, ` : '';
  return new ApiRejectedError(`the API server refused to ${what} (${reason}${status}): ${detail ?? 'no reason given'}`, status);
}
