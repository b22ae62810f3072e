/**
 * The package version `--version` prints. The shipped bundle has it fixed at build time
 * (scripts/bundle.mjs defines VIRT_SECLABEL_VERSION), so printing it reads no file; the unbundled tsc
 * build reads it from package.json, two directories above dist/cli/.
 */
import { readFileSync } from 'node:fs';

declare const VIRT_SECLABEL_VERSION: string | undefined;

export function packageVersion(): string {
  if (typeof VIRT_SECLABEL_VERSION === 'string') return VIRT_SECLABEL_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
