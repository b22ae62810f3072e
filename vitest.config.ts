import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Differential suites build real trees and spawn helpers; two cores do not gain from more forks.
    pool: 'forks',
    // The shipped command's parsed-policy cache goes here, not into the ~/.cache of whoever runs the tests.
    env: { VIRT_SECLABEL_CACHE_DIR: fileURLToPath(new URL('./.tmp/test-policy-cache', import.meta.url)) },
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
  },
});
