/**
 * The shipped loader compiles program.cjs with V8's code cache (scripts/bundle.mjs). The cache is only
 * ever a start-up saving: the build's cache must be one this Node accepts, and a cache V8 rejects
 * (damaged, or written for other source) must leave the program's behaviour exactly as it is.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
afterAll(() => rmSync(COPY, { recursive: true, force: true }));

const run = (main: string) => spawnSync(process.execPath, [main, ...DEMO], { encoding: 'utf8' });

describe('V8 code cache of the shipped program', () => {
  it('the build wrote a cache this Node accepts for program.cjs', () => {
    const file = join(DIST, 'program.cjs');
    const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData: readFileSync(`${file}.v8cache`) });
    expect(script.cachedDataRejected).toBe(false);
  });

  it('the loader accepts exactly the cache the build wrote (its length and CRC-32 are in main.js)', () => {
    const cache = readFileSync(join(DIST, 'program.cjs.v8cache'));
    // esbuild prints numbers in their shortest form: a cache of exactly 740000 bytes is written 74e4 (seen in CI).
    const m = /c\.length === ([\d.e+]+) && crc32\(c\) === ([\d.e+]+)/.exec(readFileSync(join(DIST, 'main.js'), 'utf8'));
    expect(m, 'main.js checks the cache by length and CRC-32').not.toBeNull();
    expect(Number(m![1])).toBe(cache.length);
    expect(Number(m![2])).toBe(crc32(cache));
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
