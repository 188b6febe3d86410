// Stands in for node:child_process in the bundles, and loads it on first use: only an exec credential plugin (and
// two auth providers' token helpers in the client library) starts a process, yet importing it ran at every start.
// Every name the bundled code uses is here; the build fails on another (esbuild: "No matching export").
/* eslint-disable @typescript-eslint/no-require-imports */
const real = () => require('node:child_process');
export const spawn = (...args) => real().spawn(...args);
export const spawnSync = (...args) => real().spawnSync(...args);
export const execSync = (...args) => real().execSync(...args);
export default { spawn, spawnSync, execSync };
