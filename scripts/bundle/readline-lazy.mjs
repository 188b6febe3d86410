// Stands in for node:readline in the bundles, and loads it on first use: only a watch (a put's rollout wait) splits a
// response into lines, yet importing it loaded readline, readline/promises and the keypress decoder at every start.
// Every name the bundled code uses is here; the build fails on another (esbuild: "No matching export").
/* eslint-disable @typescript-eslint/no-require-imports */
export const createInterface = (...args) => require('node:readline').createInterface(...args);
