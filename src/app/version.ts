/**
 * The package version `--version` prints and snapshots record. The shipped bundle has it fixed at build
 * time (scripts/bundle.mjs defines VIRT_SECLABEL_VERSION), so it reads no file. A tsc build (tests emit
 * one wherever they like, e.g. .tmp/precommit-dist/) finds virt-seclabel's package.json by walking up
 * from this module.
 */
import { readFileSync } from 'node:fs';

declare const VIRT_SECLABEL_VERSION: string | undefined;

export function packageVersion(): string {
  if (typeof VIRT_SECLABEL_VERSION === 'string') return VIRT_SECLABEL_VERSION;
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'virt-seclabel' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no readable package.json here: keep walking up
    }
  }
  return 'unknown';
}
