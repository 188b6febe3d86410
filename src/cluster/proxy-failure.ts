// What a proxy's own failure means (refused, unreachable, tunnel refused), named as such: the proxy libraries report
// it in words or as a bare socket error, which would otherwise read as the API server's.
import { ProxyFailure, StepTimeoutError, type NetworkStep } from './errors.js';
import { redactProxyUrl } from './proxy.js';

/** The reply codes of a SOCKS5 server that refuses a CONNECT (RFC 1928, section 6), by the socks library's names. */
const socksReplies: Record<string, string> = {
  Failure: '1: general SOCKS server failure',
  NotAllowed: '2: connection not allowed by ruleset',
  NetworkUnreachable: '3: network unreachable',
  HostUnreachable: '4: host unreachable',
  ConnectionRefused: '5: connection refused',
  TTLExpired: '6: TTL expired',
  CommandNotSupported: '7: command not supported',
  AddressNotSupported: '8: address type not supported',
};

/** What a SOCKS proxy's refusal means (the socks library reports it in words only), or undefined. */
function socksDetail(message: string): string | undefined {
  const rejected = /^Socks5 proxy rejected connection - (\w+)/.exec(message);
  if (rejected) return `the proxy refused the tunnel (SOCKS5 reply ${socksReplies[rejected[1]!] ?? rejected[1]})`;
  if (message.startsWith('Socks5 Authentication failed')) return 'the proxy refused our username and password (SOCKS5)';
  if (message.includes('no accepted authentication type'))
    return 'the proxy accepts none of our authentication methods (SOCKS5: does it need user:password@ in proxy-url?)';
  if (message === 'Socket closed') return 'the proxy closed the connection';
  return undefined;
}

/** A proxy's own failure (refused, unreachable, tunnel refused) named as such; other errors as they are. */
export function proxyAware(error: unknown, proxy: URL | undefined, step: NetworkStep): unknown {
  if (!proxy || step !== 'connect' || error instanceof StepTimeoutError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const refused = /^Bad response: (\d+)/.exec(message);
  // The socks library passes a socket error on as its message alone ("connect ECONNREFUSED 127.0.0.1:1080").
  const given = (error as { code?: unknown }).code;
  const code = typeof given === 'string' ? given : /\b(E[A-Z_]{3,})\b/.exec(message)?.[1];
  const detail = refused
    ? `the proxy refused the tunnel (${refused[1]})`
    : (socksDetail(message) ??
      (code === 'ECONNREFUSED'
        ? 'connection to the proxy refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? "the proxy's host name was not found"
          : (code ?? message)));
  return new ProxyFailure(redactProxyUrl(proxy), detail, error, code);
}
