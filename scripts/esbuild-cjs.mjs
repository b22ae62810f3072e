/**
 * What an esbuild CommonJS output of this project's ES module source needs: CommonJS has no import.meta,
 * so `import.meta.url` (yargs' platform shim, version.ts, temp-name.ts) becomes this file's own URL.
 * node:url's pathToFileURL costs about 2 ms of every run (the module and the call), which the hook pays on
 * every VM start; a path of only these characters needs no escaping, so 'file://' + path is exactly its
 * href (test/ship/import-meta-url.test.ts checks the two agree), and any other path still goes through node:url.
 * Shared by the shipped build (scripts/bundle.mjs) and the bench's variants of it (bench/startup.mjs), so
 * that a variant differs from what ships only in what it means to measure.
 */
export const IMPORT_META_URL = "const __vslImportMetaUrl = /^[A-Za-z0-9/._-]+$/.test(__filename) ? 'file://' + __filename : require('node:url').pathToFileURL(__filename).href;";

export function cjsOptions(define) {
  return {
    format: 'cjs',
    define: { ...define, 'import.meta.url': '__vslImportMetaUrl' },
    banner: { js: IMPORT_META_URL },
  };
}
