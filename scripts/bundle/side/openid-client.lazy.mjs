// Stands in for openid-client where client-node's oidc auth provider imports it, and loads it (with oauth4webapi)
// on first use from the side module assets/lib/openid-client.cjs: importing it ran its module code at every start.
// The provider passes its fetch under `customFetch`, a symbol of the real package: the stub's own symbol is mapped
// to the real one when the call is made.
import { sideModule } from '../side-module.mjs';

const real = () => sideModule('openid-client');
export const customFetch = Symbol('openid-client customFetch (side module stand-in)');
const withRealSymbol = (options) => {
  if (!options || !(customFetch in options)) return options;
  const { [customFetch]: fetch, ...rest } = options;
  return { ...rest, [real().customFetch]: fetch };
};
export const discovery = (server, clientId, metadata, clientAuthentication, options) =>
  real().discovery(server, clientId, metadata, clientAuthentication, withRealSymbol(options));
export const refreshTokenGrant = (...args) => real().refreshTokenGrant(...args);
