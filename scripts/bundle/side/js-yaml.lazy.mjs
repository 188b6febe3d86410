// Stands in for js-yaml in check's bundle (src/cluster/auth.ts and the client library's KubeConfig read a
// source.kubeconfig with load(), check's only YAML), and loads it on first use from assets/lib/js-yaml.cjs.
import { sideModule } from '../side-module.mjs';

export const load = (...args) => sideModule('js-yaml').load(...args);
