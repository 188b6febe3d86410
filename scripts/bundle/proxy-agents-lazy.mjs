// Stands in for the proxy packages where @kubernetes/client-node's config.js imports them, and loads the real ones
// on first use: only a kubeconfig with a proxy-url needs them, yet importing them ran their module code (socks,
// ip-address, hpagent…) at every start. The require() calls below resolve to the real packages in the bundle.
/* eslint-disable @typescript-eslint/no-require-imports */
export class HttpProxyAgent {
  constructor(options) {
    const { HttpProxyAgent: Real } = require('hpagent');
    return new Real(options);
  }
}
export class HttpsProxyAgent {
  constructor(options) {
    const { HttpsProxyAgent: Real } = require('hpagent');
    return new Real(options);
  }
}
export class SocksProxyAgent {
  constructor(proxy, options) {
    const { SocksProxyAgent: Real } = require('socks-proxy-agent');
    return new Real(proxy, options);
  }
}
export const SocksClient = {
  createConnection: (...args) => require('socks').SocksClient.createConnection(...args),
};
