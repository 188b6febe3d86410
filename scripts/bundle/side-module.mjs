// Loads one of the side modules (assets/lib/NAME.cjs, beside the script bundles: /opt/resource/lib/ in the image) that
// hold the packages only a rare path runs. The bundles are CommonJS, so `require` and `__dirname` are the bundle's.
/* eslint-disable @typescript-eslint/no-require-imports */
const loaded = new Map();
export function sideModule(name) {
  let module = loaded.get(name);
  if (module === undefined) {
    const file = require('node:path').join(__dirname, `${name}.cjs`);
    try {
      module = require(file);
    } catch (error) {
      if (error?.code !== 'MODULE_NOT_FOUND') throw error;
      const missing = new Error(`${file} is missing: the side modules must be installed beside the script bundles`);
      missing.code = 'MODULE_NOT_FOUND';
      throw missing;
    }
    loaded.set(name, module);
  }
  return module;
}
