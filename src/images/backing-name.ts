/**
 * Where a backing name stored in an image points, by the rule QEMU (path_has_protocol,
 * bdrv_make_absolute_filename) and libvirt (virStorageSourceBackinStoreStringIsFile,
 * virStorageSourceNewFromBackingRelative) share: a colon before the first slash means a protocol
 * (`nbd:`, `http://`, `json:{…}`, `fat:`); anything else is a local file, relative names being relative
 * to the directory of the referring image's name *as given* — not of a symlink's target (checked with
 * qemu-img 7.2: a relative backing of a symlinked top image is looked up next to the symlink).
 */

export type BackingLocation =
  | { readonly kind: 'none' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'remote'; readonly protocol: string };

export function locateBacking(name: string, referrer: string): BackingLocation {
  if (name === '') return { kind: 'none' };
  const colon = name.indexOf(':');
  const slash = name.indexOf('/');
  if (colon >= 0 && (slash < 0 || colon < slash)) return { kind: 'remote', protocol: name.slice(0, colon) };
  return { kind: 'file', path: besideReferrer(name, referrer) };
}

/** qemu's path_combine / libvirt's dirname + "/" + rel: plain string joining, no `..` folding. */
export function besideReferrer(name: string, referrer: string): string {
  if (name.startsWith('/')) return name;
  const cut = referrer.lastIndexOf('/');
  if (cut < 0) return name;
  return `${referrer.slice(0, cut + 1)}${name}`;
}
