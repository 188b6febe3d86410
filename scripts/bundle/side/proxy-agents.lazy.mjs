// Stands in for the proxy packages (hpagent, socks-proxy-agent, socks) wherever the bundled code imports them, and
// loads them on first use from the side module assets/lib/proxy-agents.cjs: only a proxy needs them, yet importing
// them ran their module code (socks, ip-address, hpagent…) at every start and parsing them cost every start too.
import { sideModule } from '../side-module.mjs';

const agents = () => sideModule('proxy-agents');
export class HttpProxyAgent {
  constructor(options) {
    return new (agents().HttpProxyAgent)(options);
  }
}
export class HttpsProxyAgent {
  constructor(options) {
    return new (agents().HttpsProxyAgent)(options);
  }
}
export class SocksProxyAgent {
  constructor(proxy, options) {
    return new (agents().SocksProxyAgent)(proxy, options);
  }
}
export const SocksClient = {
  createConnection: (...args) => agents().SocksClient.createConnection(...args),
};
