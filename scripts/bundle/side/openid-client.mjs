// assets/lib/openid-client.cjs: for a kubeconfig user with the client library's oidc auth provider.
export { customFetch, discovery, refreshTokenGrant } from 'openid-client';
