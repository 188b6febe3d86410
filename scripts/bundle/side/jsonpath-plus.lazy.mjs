// Stands in for jsonpath-plus where client-node's azure/gcp auth providers import it (their only use: JSONPath() on
// a token helper's output), and loads it on first use from the side module assets/lib/jsonpath-plus.cjs.
import { sideModule } from '../side-module.mjs';

export const JSONPath = (...args) => sideModule('jsonpath-plus').JSONPath(...args);
