// Stands in for jsonpath-plus where client-node's azure/gcp auth providers import it (their only use: JSONPath() on
// a token helper's output), and loads the real one on first use.
/* eslint-disable @typescript-eslint/no-require-imports */
export const JSONPath = (...args) => require('jsonpath-plus').JSONPath(...args);
