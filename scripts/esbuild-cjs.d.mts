/** Types for scripts/esbuild-cjs.mjs, which the tests import (test/ship/import-meta-url.test.ts). */
export declare const IMPORT_META_URL: string;
export declare function cjsOptions(define: Record<string, string>): { format: 'cjs'; define: Record<string, string>; banner: { js: string } };
