/**
 * The shipped loader compiles program.cjs with V8's code cache (scripts/bundle.mjs). The cache is only
 * ever a start-up saving: the build's cache must be one this Node accepts, and a cache V8 rejects
 * (damaged, or written for other source) must leave the program's behaviour exactly as it is.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Module from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const DIST = join(REPO, 'dist/cli');
// Under the repository, so the copy resolves @napi-rs/xattr from its node_modules as dist/ does.
const COPY = join(REPO, '.tmp/code-cache-test');
const DEMO = ['explain', '--json', '--facts', join(REPO, 'samples/demo/host.json'), join(REPO, 'samples/demo/web01.xml')];
const scratch: string[] = [];
afterAll(() => {
  for (const d of [COPY, ...scratch]) rmSync(d, { recursive: true, force: true });
});

const run = (main: string) => spawnSync(process.execPath, [main, ...DEMO], { encoding: 'utf8' });

describe('V8 code cache of the shipped program', () => {
  // The bundles are shipped wrapped as CommonJS wraps a module, and compiled as they are (scripts/bundle.mjs).
  const CACHES: [string, string][] = [['program.cjs', 'program.cjs.v8cache'], ['hook.cjs', 'hook.cjs.prepare.v8cache'], ['hook.cjs', 'hook.cjs.start.v8cache']];
  it('the build wrote caches this Node accepts: program.cjs, and hook.cjs for prepare and for start', () => {
    for (const [bundle, cache] of CACHES) {
      const file = join(DIST, bundle);
      const script = new Script(readFileSync(file, 'utf8'), { filename: file, cachedData: readFileSync(join(DIST, cache)) });
      expect(script.cachedDataRejected, cache).toBe(false);
    }
  });

  it('the loader accepts exactly the caches the build wrote (their lengths and CRC-32s are in main.js)', () => {
    const main = readFileSync(join(DIST, 'main.js'), 'utf8');
    // esbuild prints numbers in their shortest form: a cache of exactly 740000 bytes is written 74e4 (seen in CI).
    const n = '([\\d.e+]+)';
    const program = new RegExp(`file\\d* \\+ "\\.v8cache", length: ${n}, crc32: ${n}`).exec(main);
    const hook = new RegExp(`"prepare": \\{ "length": ${n}, "crc32": ${n} \\}, "start": \\{ "length": ${n}, "crc32": ${n} \\}`).exec(main);
    expect(program, 'main.js checks program.cjs.v8cache by length and CRC-32').not.toBeNull();
    expect(hook, "main.js checks each of hook.cjs's caches by length and CRC-32").not.toBeNull();
    const expected = (f: string) => { const c = readFileSync(join(DIST, f)); return [c.length, crc32(c)]; };
    expect(program!.slice(1, 3).map(Number)).toEqual(expected('program.cjs.v8cache'));
    expect(hook!.slice(1, 5).map(Number)).toEqual([...expected('hook.cjs.prepare.v8cache'), ...expected('hook.cjs.start.v8cache')]);
  });

  it("the loaders' CRC-32 (zlib's C function through its binding) is node:zlib's, on every cache", () => {
    const binding = (process as unknown as { binding(m: string): { crc32(d: Uint8Array, v: number): number } }).binding('zlib');
    for (const [, f] of CACHES) {
      const cache = readFileSync(join(DIST, f));
      expect(binding.crc32(cache, 0) >>> 0, f).toBe(crc32(cache));
    }
  });

  // The hook's call on every VM start: the cache is checked without node:zlib's module (which loads the
  // stream stack), unless deprecations are to be shown, when the binding would warn on libvirt's log.
  it("the hook's quiet call loads no node:zlib module, and under --pending-deprecation stays silent", () => {
    mkdirSync(COPY, { recursive: true });
    // The disk outside the repository: its .tmp may be 0700 (CI's is), which the qemu user could not search.
    const disks = mkdtempSync(join(tmpdir(), 'vsl-code-cache-'));
    chmodSync(disks, 0o755);
    scratch.push(disks);
    const iso = join(disks, 'hook.iso');
    writeFileSync(iso, '');
    chmodSync(iso, 0o644);
    const xml = `<domain type='kvm'><name>cc</name><devices><disk type='file' device='cdrom'><source file='${iso}'><seclabel model='dac' relabel='no'/></source><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>`;
    const preload = join(COPY, 'modules-at-exit.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, process.moduleLoadList.join('\\n')));`);
    const hook = (env: Record<string, string>) => {
      const out = join(COPY, 'modules.txt');
      const r = spawnSync(process.execPath, ['--require', preload, join(DIST, 'main.js'), 'hook', '--', 'cc', 'prepare', 'begin', '-'], {
        input: xml, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MODULES_OUT: out, ...env },
      });
      return { ...r, modules: readFileSync(out, 'utf8').split('\n') };
    };
    const quiet = hook({});
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.modules).not.toContain('NativeModule zlib');
    // Node's own start loads internal/streams/utils; node:zlib would bring readable, writable, duplex, ...
    expect(quiet.modules.filter((m) => /^NativeModule (stream|internal\/streams\/(readable|writable|duplex))$/.test(m))).toEqual([]);
    const pending = hook({ NODE_PENDING_DEPRECATION: '1' });
    expect(pending.status, pending.stderr).toBe(0);
    expect(pending.stderr).toBe('');
    expect(pending.modules).toContain('NativeModule zlib');
  });

  // main.ts sends prepare and start to hook.cjs, each with the cache warmed by that operation alone; migrate
  // and restore (whose filter hook.cjs does not hold) through the full command line, program.cjs.
  it('each hook call compiles with the cache of its own operation; migrate and restore with the full program', () => {
    mkdirSync(COPY, { recursive: true });
    const preload = join(COPY, 'caches-read.cjs');
    writeFileSync(preload, `const fs = require('node:fs'); const read = fs.readFileSync; const seen = [];
fs.readFileSync = function (p, ...rest) { if (typeof p === 'string' && p.endsWith('.v8cache')) seen.push(require('node:path').basename(p)); return read.call(this, p, ...rest); };
process.on('exit', () => fs.writeFileSync(process.env.CACHES_OUT, seen.join('\\n')));`);
    const out = join(COPY, 'caches.txt');
    const xml = "<domain type='kvm'><name>cc</name><devices><disk type='file' device='cdrom'><source file='/nonexistent/cc.iso'/><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>";
    const cachesRead = (op: string) => {
      const r = spawnSync(process.execPath, ['--require', preload, join(DIST, 'main.js'), 'hook', '--', 'cc', op, 'begin', '-'], {
        input: xml, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CACHES_OUT: out },
      });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    expect(cachesRead('prepare')).toBe('hook.cjs.prepare.v8cache');
    expect(cachesRead('start')).toBe('hook.cjs.start.v8cache');
    expect(cachesRead('migrate')).toBe('program.cjs.v8cache');
    expect(cachesRead('restore')).toBe('program.cjs.v8cache');
  });

  it('a damaged cache, or one for other source, is ignored: the same output and exit code', () => {
    const shipped = run(join(DIST, 'main.js'));
    expect(shipped.status, shipped.stderr).toBe(0);
    mkdirSync(join(COPY, 'cli'), { recursive: true });
    for (const f of ['main.js', 'program.cjs', 'package.json']) copyFileSync(join(DIST, f), join(COPY, 'cli', f));
    const good = readFileSync(join(DIST, 'program.cjs.v8cache'));
    const damaged = Buffer.from(good);
    for (let i = 64; i < damaged.length; i += 997) damaged[i] = damaged[i]! ^ 0xff;
    const oneBit = Buffer.from(good);
    oneBit[oneBit.length >> 1] = oneBit[oneBit.length >> 1]! ^ 0x01;
    const otherSource = new Script(Module.wrap('module.exports = { runCommandLine: async () => 0 };')).createCachedData();
    for (const cache of [damaged, oneBit, otherSource, Buffer.alloc(0), good.subarray(0, 100)]) {
      writeFileSync(join(COPY, 'cli', 'program.cjs.v8cache'), cache);
      const r = run(join(COPY, 'cli', 'main.js'));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(shipped.stdout);
      expect(r.stderr).toBe(shipped.stderr);
    }
  });
});
