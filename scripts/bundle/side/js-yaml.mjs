// assets/lib/js-yaml.cjs: check reads YAML only for a source.kubeconfig (in and out bundle js-yaml: they write YAML).
export { load } from 'js-yaml';
