// assets/lib/jsonpath-plus.cjs: for the azure and gcp auth providers' token helpers in the client library.
export { JSONPath } from 'jsonpath-plus';
