/**
 * The CommonJS bundles' import.meta.url (scripts/esbuild-cjs.mjs): 'file://' + path when the path needs no
 * escaping, node:url's pathToFileURL otherwise. Both must give exactly the URL Node's own gives, or
 * version.ts would miss package.json and createRequire would resolve from the wrong place.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_META_URL } from '../../scripts/esbuild-cjs.mjs';

const REPO = join(import.meta.dirname, '../..');
const COPIES = join(REPO, '.tmp/import-meta-url-test');
const scratch: string[] = [];
afterAll(() => {
  for (const d of [COPIES, ...scratch]) rmSync(d, { recursive: true, force: true });
});

const bannerUrl = (filename: string): string =>
  runInNewContext(`${IMPORT_META_URL}; __vslImportMetaUrl`, { __filename: filename, require: (id: string) => (id === 'node:url' ? { pathToFileURL } : undefined) }) as string;

describe("the bundles' import.meta.url", () => {
  it("equals pathToFileURL's href for plain and for escaped paths", () => {
    const paths = ['/usr/lib/node_modules/virt-seclabel/dist/cli/main.js', '/opt/v-s_1.2/dist/cli/hook.cjs', '/a b/main.js', '/x#y/main.js',
      '/p%41/main.js', '/q?r/main.js', '/é/main.js', '/t\tu/main.js', '/n\nl/main.js', '/back\\slash/main.js', '/a+b@c~d/main.js', '/'];
    for (const p of paths) expect(bannerUrl(p), p).toBe(pathToFileURL(p).href);
  });

  // The xattr addon is found through createRequire(import.meta.url) (adapters/live/xattr.ts): an ACL in
  // the reason shows it loaded. The copies live under the repository, so its node_modules resolve as dist's.
  it.skipIf(process.getuid?.() !== 0)('the built program reads ACLs from a directory whose name needs escaping, as from dist/', () => {
    // The disk outside the repository: its .tmp may be 0700 (CI's is), which nobody could search.
    const work = mkdtempSync(join(tmpdir(), 'vsl-import-meta-url-'));
    chmodSync(work, 0o755);
    scratch.push(work);
    const iso = join(work, 'a.iso');
    writeFileSync(iso, '');
    chmodSync(iso, 0o600);
    execFileSync('setfacl', ['-m', 'u:65534:r', iso]);
    const xml = join(work, 'd.xml');
    writeFileSync(xml, `<domain type='kvm'><name>imu</name><devices><disk type='file' device='cdrom'><source file='${iso}'/><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>\n`);
    const explain = (main: string) => spawnSync(process.execPath, [main, 'explain', '--user', 'nobody', '--models', 'dac', xml], { encoding: 'utf8' });
    const shipped = explain(join(REPO, 'dist/cli/main.js'));
    expect(shipped.status, shipped.stderr).toBe(0);
    expect(shipped.stdout).toContain('by ACL user:65534');
    for (const name of ['plain-dir', 'with space', 'hash#and%percent']) {
      const dir = join(COPIES, name);
      mkdirSync(dir, { recursive: true });
      cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
      const r = explain(join(dir, 'dist/cli/main.js'));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(shipped.stdout);
    }
  });
});
