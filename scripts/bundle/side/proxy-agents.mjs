// assets/lib/proxy-agents.cjs: the proxy agents, for a proxy from the environment or a kubeconfig's proxy-url.
export { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
export { SocksProxyAgent } from 'socks-proxy-agent';
export { SocksClient } from 'socks';
