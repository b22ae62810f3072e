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
import { dirname, join } from 'node:path';

export type XattrBinding = Pick<typeof import('@napi-rs/xattr'), 'getAttributeSync' | 'listAttributesSync'>;

const requireHere = createRequire(import.meta.url);
/** The glibc addon package, and its one file (the package's `main`), per platform. */
const DIRECT: Record<string, readonly [string, string]> = {
  'linux-x64': ['@napi-rs/xattr-linux-x64-gnu', 'xattr.linux-x64-gnu.node'],
  'linux-arm64': ['@napi-rs/xattr-linux-arm64-gnu', 'xattr.linux-arm64-gnu.node'],
};

let binding: XattrBinding | undefined;

/**
 * The addon from the node_modules an installed package (and a checkout) has beside its dist/: the bundle
 * (dist/cli/hook.cjs) two levels down, this module compiled by tsc (dist/adapters/live) three. Loaded with
 * process.dlopen, as require does for a .node file, without require's search of every node_modules up
 * the tree, its package.json read and realpath (about a millisecond of the hook's call); any other layout
 * goes through require.
 */
function fromOwnNodeModules(pkg: string, file: string): XattrBinding | undefined {
  // A file URL that needs no unescaping (node:url would cost more than this saves); else require's way.
  const url = /^file:\/\/(\/[A-Za-z0-9/._-]+)$/.exec(import.meta.url);
  if (!url) return undefined;
  const here = dirname(url[1]!);
  for (const up of ['../..', '../../..']) {
    const m = { exports: {} as unknown };
    try {
      process.dlopen(m, join(here, up, 'node_modules', pkg, file));
    } catch {
      continue;
    }
    return m.exports as XattrBinding;
  }
  return undefined;
}

function load(): XattrBinding {
  const direct = DIRECT[`${process.platform}-${process.arch}`];
  if (direct !== undefined) {
    const own = fromOwnNodeModules(direct[0], direct[1]);
    if (own) return own;
    try {
      return requireHere(direct[0]) as XattrBinding;
    } catch {
      // Fall through to the package's own platform detection.
    }
  }
  return requireHere('@napi-rs/xattr') as XattrBinding;
}

export const xattr = (): XattrBinding => (binding ??= load());
