/**
 * The parsed-policy cache directory (src/adapters/live/policy-cache-dir.ts): where the environment puts it, that only
 * a private directory and private regular files of this user are ever read, atomic private writes, and
 * the bound on how many entries it keeps.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheDirFrom, KEEP, openCacheDir } from '../../src/adapters/live/policy-cache-dir.js';

const isRoot = process.geteuid?.() === 0;
const entry = (n: number) => `policy-${1000 + n}-0000000${n % 10}.bin`;
const parts = (text: string) => [Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))];

describe('cacheDirFrom', () => {
  it('prefers VIRT_SECLABEL_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache; off when told or homeless', () => {
    expect(cacheDirFrom({ VIRT_SECLABEL_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(cacheDirFrom({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/virt-seclabel');
    expect(cacheDirFrom({ HOME: '/h' })).toBe('/h/.cache/virt-seclabel');
    expect(cacheDirFrom({ VIRT_SECLABEL_NO_CACHE: '1', VIRT_SECLABEL_CACHE_DIR: '/c', HOME: '/h' })).toBeUndefined();
    // Relative paths would depend on where the hook or a git hook happens to run: not used.
    expect(cacheDirFrom({ VIRT_SECLABEL_CACHE_DIR: 'rel', HOME: '/h' })).toBeUndefined();
    expect(cacheDirFrom({ XDG_CACHE_HOME: 'rel', HOME: '/h' })).toBe('/h/.cache/virt-seclabel');
    expect(cacheDirFrom({ HOME: '/' })).toBeUndefined();
    expect(cacheDirFrom({})).toBeUndefined();
  });
});

describe('openCacheDir', () => {
  let base: string;
  let dir: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'vsl-cache-'));
    dir = join(base, 'nested', 'virt-seclabel');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('creates the directory 0700 on first write, writes 0600 entries whole, reads them back', () => {
    const store = openCacheDir(dir);
    expect(store.read(entry(1))).toBeUndefined();
    expect(existsSync(dir)).toBe(false); // a read creates nothing
    expect(store.write(entry(1), parts('hello world'))).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, entry(1))).mode & 0o777).toBe(0o600);
    expect(Buffer.from(store.read(entry(1))!).toString()).toBe('hello world');
    expect(readdirSync(dir)).toEqual([entry(1)]); // no temp file left behind
  });

  it('a read marks the entry as just used (its mtime), which decides what pruning keeps', () => {
    const store = openCacheDir(dir, 3);
    for (let n = 1; n <= 3; n++) {
      store.write(entry(n), parts(`entry ${n}`));
      const t = new Date(Date.UTC(2026, 0, n));
      utimesSync(join(dir, entry(n)), t, t);
    }
    store.read(entry(1)); // the oldest becomes the newest
    store.write(entry(4), parts('entry 4'));
    expect(readdirSync(dir).sort()).toEqual([entry(1), entry(3), entry(4)].sort());
  });

  it(`keeps at most ${KEEP} entries by default, and drops temp files left by a killed run`, () => {
    const store = openCacheDir(dir);
    for (let n = 1; n <= KEEP + 3; n++) {
      store.write(entry(n), parts(`entry number ${n}`));
      const t = new Date(Date.UTC(2026, 0, n));
      utimesSync(join(dir, entry(n)), t, t);
    }
    const stale = join(dir, `.${entry(1)}.abcdef.tmp`);
    writeFileSync(stale, 'half');
    utimesSync(stale, new Date(0), new Date(0));
    const fresh = join(dir, `.${entry(2)}.012345.tmp`); // another run may be writing it right now
    writeFileSync(fresh, 'half');
    store.write(entry(99), parts('last'));
    const left = readdirSync(dir);
    expect(left.filter((n) => n.endsWith('.bin')).length).toBe(KEEP);
    expect(left).toContain(entry(99));
    expect(left).not.toContain(`.${entry(1)}.abcdef.tmp`);
    expect(left).toContain(`.${entry(2)}.012345.tmp`);
    // Files that are not the cache's own are never touched.
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    store.write(entry(98), parts('x'));
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('does not use a directory or entry others can write, nor a symlinked entry', () => {
    const store = openCacheDir(dir);
    store.write(entry(1), parts('payload'));
    chmodSync(dir, 0o770);
    expect(store.read(entry(1))).toBeUndefined();
    expect(store.write(entry(2), parts('payload'))).toBe(false);
    chmodSync(dir, 0o700);
    chmodSync(join(dir, entry(1)), 0o666);
    expect(store.read(entry(1))).toBeUndefined();
    chmodSync(join(dir, entry(1)), 0o600);
    expect(store.read(entry(1))).toBeDefined();
    const elsewhere = join(base, 'planted');
    writeFileSync(elsewhere, 'planted', { mode: 0o600 });
    symlinkSync(elsewhere, join(dir, entry(3)));
    expect(store.read(entry(3))).toBeUndefined();
  });

  it.skipIf(!isRoot)('does not use a directory or entry another user owns', () => {
    const store = openCacheDir(dir);
    store.write(entry(1), parts('payload'));
    chownSync(join(dir, entry(1)), 65534, 65534);
    expect(store.read(entry(1))).toBeUndefined();
    chownSync(join(dir, entry(1)), 0, 0);
    chownSync(dir, 65534, 65534);
    expect(store.read(entry(1))).toBeUndefined();
    expect(store.write(entry(2), parts('payload'))).toBe(false);
  });

  it.skipIf(!isRoot)('creates no directory inside another user\'s (sudo with their HOME kept)', () => {
    chownSync(base, 65534, 65534); // their home
    const store = openCacheDir(join(base, '.cache', 'virt-seclabel'));
    expect(store.write(entry(1), parts('payload'))).toBe(false);
    expect(readdirSync(base)).toEqual([]);
    chownSync(base, 0, 0);
    expect(store.write(entry(1), parts('payload'))).toBe(true);
  });

  it('a directory it cannot create is no cache, not an error', () => {
    writeFileSync(join(base, 'nested'), 'a file where the directory would go');
    const store = openCacheDir(dir);
    expect(store.write(entry(1), parts('payload'))).toBe(false);
    expect(store.read(entry(1))).toBeUndefined();
  });
});
