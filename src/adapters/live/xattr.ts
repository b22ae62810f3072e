/**
 * @napi-rs/xattr's two calls, loaded on first use and straight from this platform's prebuilt addon.
 *
 * The package's own entry (index.js) finds the addon by first asking whether libc is musl: it reads
 * /usr/bin/ldd, tries a file that is not there, then resolves the per-platform package. On the hook's
 * path (every annotated VM start) that costs a few milliseconds of the budget bench/hook-start.mjs
 * measures. glibc Linux on x64 and arm64 is where libvirt runs, so those packages are required directly;
 * anything else, or a direct load that fails (not installed, a musl host, a loader error), goes through
 * the package's entry exactly as before, with its own error if nothing loads.
 */
import { createRequire } from 'node:module';

export type XattrBinding = Pick<typeof import('@napi-rs/xattr'), 'getAttributeSync' | 'listAttributesSync'>;

const requireHere = createRequire(import.meta.url);
const DIRECT: Record<string, string> = {
  'linux-x64': '@napi-rs/xattr-linux-x64-gnu',
  'linux-arm64': '@napi-rs/xattr-linux-arm64-gnu',
};

let binding: XattrBinding | undefined;

function load(): XattrBinding {
  const direct = DIRECT[`${process.platform}-${process.arch}`];
  if (direct !== undefined) {
    try {
      return requireHere(direct) as XattrBinding;
    } catch {
      // Fall through to the package's own platform detection.
    }
  }
  return requireHere('@napi-rs/xattr') as XattrBinding;
}

export const xattr = (): XattrBinding => (binding ??= load());
