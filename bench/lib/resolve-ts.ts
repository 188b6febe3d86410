// Loaded with `node --import ./bench/lib/resolve-ts.ts`: Node 24 strips the types of .ts files itself, but the code
// imports its siblings as `./x.js` (what tsc's NodeNext resolution wants); this maps such a specifier from a .ts file
// to the .ts file beside it when no .js file is there. Nothing else: no transpiling, no other extensions.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const fromTs = context.parentURL?.startsWith('file:') && context.parentURL.endsWith('.ts');
      if (!fromTs || !specifier.startsWith('.') || !specifier.endsWith('.js')) throw error;
      return nextResolve(`${specifier.slice(0, -'.js'.length)}.ts`, context);
    }
  },
});
