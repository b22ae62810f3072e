/**
 * What an esbuild CommonJS output of this project's ES module source needs: CommonJS has no import.meta,
 * so `import.meta.url` (yargs' platform shim, version.ts, temp-name.ts) becomes this file's own URL.
 * Shared by the shipped build (scripts/bundle.mjs) and the bench's variants of it (bench/startup.mjs), so
 * that a variant differs from what ships only in what it means to measure.
 */
export function cjsOptions(define) {
  return {
    format: 'cjs',
    define: { ...define, 'import.meta.url': '__vslImportMetaUrl' },
    banner: { js: "const __vslImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  };
}
