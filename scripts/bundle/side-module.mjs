// Loads one of the side modules (assets/lib/NAME.cjs, beside the script: /opt/resource/lib/ in the image) that hold
// the packages only a rare path runs. The script bundles are CommonJS, so `require` and `__dirname` are the bundle's.
/* eslint-disable @typescript-eslint/no-require-imports */
const loaded = new Map();
export function sideModule(name) {
  let module = loaded.get(name);
  if (module === undefined) {
    const file = require('node:path').join(__dirname, 'lib', `${name}.cjs`);
    try {
      module = require(file);
    } catch (error) {
      if (error?.code !== 'MODULE_NOT_FOUND') throw error;
      const missing = new Error(`${file} is missing: the side modules of lib/ must be installed beside the scripts`);
      missing.code = 'MODULE_NOT_FOUND';
      throw missing;
    }
    loaded.set(name, module);
  }
  return module;
}
