#!/usr/bin/env node
/**
 * The shipped program, made by esbuild from src/ after tsc (bench/startup.mjs measures each choice):
 *   dist/cli/program.cjs  the command line (src/cli/program.ts) and everything it imports, one CommonJS
 *                         file: one compile and no ES module graph to resolve and link, which measured
 *                         faster than ~100 ES modules, than one ES module, and than lazily loaded ES chunks;
 *                         command modules still run their top level only when their command runs
 *   dist/cli/main.js      the bin entry (src/cli/main.ts), CommonJS too, that answers --version itself and
 *                         otherwise loads program.cjs with V8's code cache;
 *   dist/cli/program.cjs.v8cache  that cache, written by a warm-up run at build time;
 *   dist/cli/package.json marks dist/cli CommonJS inside this ES module package.
 * main.js overwrites the one tsc wrote, so every test that spawns dist/cli/main.js runs the build that
 * ships; tsc's other dist/cli files are removed (they would be misread as CommonJS), and the rest of its
 * output stays for tests and benches that import single modules.
 * @napi-rs/xattr and its per-platform addon packages stay external: native code, loaded by platform
 * (src/adapters/live/xattr.ts requires the glibc addon directly).
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cjsOptions } from './esbuild-cjs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outdir = join(root, 'dist', 'cli');

/** A digest of every source file and the lock file, in path order: what the bundle is made of. */
function buildId() {
  const h = createHash('sha256');
  const files = readdirSync(join(root, 'src'), { recursive: true }).filter((f) => f.endsWith('.ts')).sort();
  for (const f of [...files.map((f) => join('src', f)), 'package-lock.json'].filter((f) => existsSync(join(root, f)))) {
    h.update(`${f}\0`).update(readFileSync(join(root, f))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}
rmSync(join(outdir, 'chunks'), { recursive: true, force: true }); // the layout of earlier builds
rmSync(join(outdir, 'main.js.map'), { force: true }); // tsc's map of the main.js this replaces

const BUILD_ID = buildId();
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/xattr', '@napi-rs/xattr-*'],
  // The version is fixed at build time: --version and snapshots read no file. The build identity keys
  // the parsed-policy cache (src/app/policy-cache-env.ts): any change to the sources is another reader.
  define: { VIRT_SECLABEL_VERSION: JSON.stringify(pkg.version), VIRT_SECLABEL_BUILD_ID: JSON.stringify(BUILD_ID) },
  legalComments: 'eof',
  logLevel: 'warning',
};

/**
 * Packages that yargs pulls in only to lay out help and error text, yet set up at their top level on
 * every start: string-width (through yargs, cliui and wrap-ansi) builds an Intl.Segmenter, which loads
 * ICU's break-iterator data (three copies, about 8 ms), and yargs' platform shim imports node:assert
 * (about 3 ms). Each import of them gets a stand-in with the same named functions that loads the real
 * module on first call; esbuild keeps a required ES module's top level in a lazy initialiser, and a
 * required builtin is loaded when required, so either runs only then.
 */
const LAZY = { 'string-width': ['default'], assert: ['notStrictEqual', 'strictEqual'] };
/**
 * yargs asserts on every run; node:assert is needed only to throw. An assertion that holds returns before
 * loading it (node:assert compares with Object.is and wants both arguments, as these checks do).
 */
const PASSES = {
  strictEqual: 'if (a.length >= 2 && Object.is(a[0], a[1])) return;\n  ',
  notStrictEqual: 'if (a.length >= 2 && !Object.is(a[0], a[1])) return;\n  ',
};
/** The stand-in module for a lazy import: each named function loads the real module at its first call. */
function lazyStandIn(args) {
  const load = `real ??= require(${JSON.stringify(args.path)})`;
  const fns = args.pluginData.exports.map((name) => name === 'default'
    ? `export default function lazyDefault(...a) {\n  ${load};\n  return real.default(...a);\n}\n`
    : `export function ${name}(...a) {\n  ${PASSES[name] ?? ''}${load};\n  return real.${name}(...a);\n}\n`);
  return { contents: `let real;\n${fns.join('')}`, loader: 'js', resolveDir: args.path.startsWith('node:') ? root : dirname(args.path) };
}
const lazyImports = {
  name: 'lazy-imports',
  setup(b) {
    const names = Object.keys(LAZY).join('|');
    b.onResolve({ filter: new RegExp(`^(${names})$`) }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const builtin = args.path === 'assert';
      const real = builtin ? { path: 'node:assert', errors: [] } : await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-import', pluginData: { exports: LAZY[args.path] } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-import' }, lazyStandIn);
  },
};

/**
 * The hook bundle's own stand-ins: modules its imports reach but a prepare or start begin never runs. The
 * AppArmor engine (the profile reader, virt-aa-helper's output) is wired into every host context, yet the
 * hook never judges AppArmor (docs/libvirt-files.md §9); loaded on first call, its module set-up stays off
 * the hook's start (bench/hook-start.mjs). Keyed by source path; the same stand-in as lazyImports'.
 */
const HOOK_LAZY = { [join(root, 'src', 'app', 'apparmor-engine.ts')]: ['lazyAppArmor'] };
const hookLazyModules = {
  name: 'hook-lazy-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData?.real || args.namespace === 'lazy-import') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { real: true } });
      if (real.errors.length > 0 || !(real.path in HOOK_LAZY)) return undefined;
      return { path: real.path, namespace: 'lazy-import', pluginData: { exports: HOOK_LAZY[real.path] } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-import' }, lazyStandIn);
  },
};

const program = await build({
  ...common,
  plugins: [lazyImports],
  entryPoints: [join(root, 'src', 'cli', 'program.ts')],
  outfile: join(outdir, 'program.cjs'),
  ...cjsOptions(common.define),
  metafile: true,
});

/**
 * The hook as libvirt's script calls it (`hook -- NAME OP SUB-OP EXTRA`, src/cli/hook-fast.ts): main.ts sends
 * exactly that argv to a bundle of its own, without yargs and the other commands (about half the bytes of
 * program.cjs to read and compile at every VM start that has something to check; bench/hook-start.mjs).
 */
await build({
  ...common,
  plugins: [hookLazyModules],
  entryPoints: [join(root, 'src', 'cli', 'hook-fast.ts')],
  outfile: join(outdir, 'hook.cjs'),
  ...cjsOptions(common.define),
  minify: true,
});

/**
 * Both bundles are shipped already wrapped as CommonJS wraps a module (Module.wrap: a function of exports,
 * require, module, __filename, __dirname), and the loader below compiles the file's text as it is. Wrapping
 * at load time made a two-part string that V8 copies whole into one before it compiles (about 1.3 ms for
 * hook.cjs, on every VM start the hook checks, and more for program.cjs); the text V8 compiles is the same.
 * Only the loader and the warm-ups below run these files: `require` of one gives an empty module.
 */
for (const f of ['program.cjs', 'hook.cjs']) writeFileSync(join(outdir, f), Module.wrap(readFileSync(join(outdir, f), 'utf8')));

/**
 * main.ts's `import('./program.js')` becomes the loading of program.cjs, run only past the --version
 * check: compiled as CommonJS is (the file is already wrapped, above), but through vm.Script with V8's code
 * cache (program.cjs.v8cache, written below), which is how Node 20 offers a code cache at all (no
 * module.enableCompileCache before Node 22). V8 checks the cache against the source and its own version
 * and flags and ignores it when they differ (another Node, an edited program.cjs): then this is a plain
 * compile, as without a cache.
 * main.js itself is CommonJS too (dist/cli/package.json says so): an ES module entry would start Node's
 * ES module loader, about 5 ms of every run.
 * `cacheFile`: an expression for the cache's path and the length and CRC-32 it must have (hook.cjs has one
 * cache per operation, below).
 */
const loader = ({ name, exported, crc, cacheFile }) => `const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
${crcOfCache(crc)}
const file = join(__dirname, '${name}');
// V8 checks a cache's header but not its payload (a damaged one crashes the process), so only the exact
// file this build wrote is used: its length and CRC-32 (zlib's, in C: a SHA-256 would load node:crypto,
// 2 ms more, against damage rather than an attacker, who could as well edit the bundle). A Node 20 older
// than 20.15 has no zlib.crc32 and compiles without the cache.
${cacheFile}
let cachedData;
try {
  const c = readFileSync(cache.file);
  if (typeof ${crc} === 'function' && c.length === cache.length && ${crc}(c) === cache.crc32) cachedData = c;
} catch {}
const script = new Script(readFileSync(file, 'utf8'), { filename: file, cachedData });
const m = { exports: {} };
script.runInThisContext()(m.exports, Module.createRequire(file), m, file, __dirname);
export const { ${exported} } = m.exports;
`;
const programCacheFile = (c) => `const cache = { file: file + '.v8cache', length: ${c.length}, crc32: ${c.crc32} };`;
/**
 * main.ts sends hook.cjs only \`hook -- NAME prepare|start SUB-OP EXTRA\`, and its argv is process.argv from
 * index 2, so the operation is process.argv[5]. A prepare begin judges DAC only and a start begin SELinux
 * only (PHASE_MODEL, src/hook/invocation.ts), and each has its own cache, warmed by that operation alone:
 * V8 deserializes every function a cache holds, used or not, so one cache for both cost each call the
 * other's compiled code.
 */
const hookCacheFile = (caches) => `const phase = process.argv[5] === 'prepare' ? 'prepare' : 'start';
const cache = { file: file + '.' + phase + '.v8cache', ...${JSON.stringify(caches)}[phase] };`;
/**
 * zlib's CRC-32 without node:zlib's JS module, which loads Node's whole stream stack (about 3 ms of the
 * hook's call, on every VM start) only to reach one C function: the binding node:zlib itself calls, the same
 * function on the same bytes (test/ship/code-cache.test.ts compares them). process.binding is deprecated in
 * the documentation only (DEP0111, no warning for zlib in Node 20); it warns under --pending-deprecation, so
 * then, or when the binding or its crc32 is missing (another Node), this falls back to node:zlib's crc32.
 */
const crcOfCache = (crc) => `const ${crc} = (() => {
  const pending = process.execArgv.includes('--pending-deprecation') || /--pending-deprecation/.test(process.env.NODE_OPTIONS || '') || !!process.env.NODE_PENDING_DEPRECATION;
  if (!pending && typeof process.binding === 'function') {
    try {
      const zlib = process.binding('zlib');
      if (typeof zlib.crc32 === 'function') return (data) => zlib.crc32(data, 0) >>> 0;
    } catch {}
  }
  return require('node:zlib').crc32;
})();`;
let cache = { length: -1, crc32: -1 };
const hookCaches = { prepare: { length: -1, crc32: -1 }, start: { length: -1, crc32: -1 } };
const programLoader = {
  name: 'program-loader',
  setup(b) {
    b.onResolve({ filter: /^\.\/program\.js$/ }, () => ({ path: 'program', namespace: 'virt-seclabel' }));
    b.onResolve({ filter: /^\.\/hook-fast\.js$/ }, () => ({ path: 'hook', namespace: 'virt-seclabel' }));
    b.onLoad({ filter: /.*/, namespace: 'virt-seclabel' }, (args) => ({
      contents: args.path === 'hook'
        ? loader({ name: 'hook.cjs', exported: 'runHook, wroteNothing', crc: 'hookCrc32', cacheFile: hookCacheFile(hookCaches) })
        : loader({ name: 'program.cjs', exported: 'runCommandLine', crc: 'crc32', cacheFile: programCacheFile(cache) }),
      loader: 'js',
      resolveDir: outdir,
    }));
  },
};

// The code cache: a child compiles program.cjs exactly as the loader does, runs the commands a short run
// spends its time in (annotate and explain of the bundled demo; one query where this machine has a policy),
// so the functions they call are compiled too, and writes what V8 then has. Output is discarded.
rmSync(join(outdir, 'program.cjs.v8cache'), { force: true });
const WARM_UP = `const fs = require('node:fs'), vm = require('node:vm'), Module = require('node:module'), path = require('node:path');
const [file, cacheFile, root] = process.argv.slice(1);
const script = new vm.Script(fs.readFileSync(file, 'utf8'), { filename: file });
const m = { exports: {} };
script.runInThisContext()(m.exports, Module.createRequire(file), m, file, path.dirname(file));
const demo = ['--facts', root + '/samples/demo/host.json', root + '/samples/demo/web01.xml'];
const runs = [demo, ['explain', ...demo]];
const policy = '/etc/selinux/default/policy/policy.33';
// Twice: the first reads the policy and stores it in the parsed-policy cache (a scratch one), the second
// takes it from there, so both paths are compiled.
const query = ['query', '-s', 'system_u:system_r:svirt_t:s0:c1,c2', '-t', 'system_u:object_r:public_content_t:s0', '-c', 'file', '-p', 'read,open', '--policy', policy];
if (fs.existsSync(policy)) runs.push(query, query);
process.stdout.write = process.stderr.write = () => true;
(async () => {
  for (const argv of runs) await m.exports.runCommandLine(argv);
  fs.writeFileSync(cacheFile, script.createCachedData());
})();
`;
const warmCache = join(root, '.tmp', 'bundle-warm-up-cache');
rmSync(warmCache, { recursive: true, force: true });
const warm = spawnSync(process.execPath, ['-e', WARM_UP, join(outdir, 'program.cjs'), join(outdir, 'program.cjs.v8cache'), root], {
  encoding: 'utf8',
  env: { ...process.env, VIRT_SECLABEL_NO_CACHE: '', VIRT_SECLABEL_CACHE_DIR: warmCache },
});
rmSync(warmCache, { recursive: true, force: true });
if (warm.status !== 0 || !existsSync(join(outdir, 'program.cjs.v8cache'))) {
  // A missing cache only costs start-up time; the build still ships a working program.
  console.warn(`bundle: no V8 code cache written (${warm.status}): ${warm.stderr.trim().split('\n').pop() ?? ''}`);
}
else {
  const written = readFileSync(join(outdir, 'program.cjs.v8cache'));
  cache = { length: written.length, crc32: crc32(written) };
}

// The hook bundle's code caches, the same way, one per operation, each in a child of its own: for prepare, a
// `prepare begin` of a domain whose one disk (a scratch file) carries a DAC relabel='no'; for start, a
// `start begin` with an SELinux one, through the hook's own entry. On a build machine without an SELinux
// kernel that judges nothing (the model is not active), so the SELinux check would be compiled at every
// SELinux host's call (about 13 M instructions, bench/hook-callgrind.sh): where Debian's policy is installed,
// the start child then judges the disk as an SELinux host does, with the policy store `hook install` writes:
// the live view behind a stand-in for selinuxfs and the disk's labels, and a store of the build's own uid
// (src/commands/hook-check.ts, HookWarmUp). It only compiles code: whatever it answers, nothing of it is
// kept but the compiled functions.
rmSync(join(outdir, 'hook.cjs.v8cache'), { force: true }); // one cache for both operations, as earlier builds wrote
const WARM_UP_HOOK = `const fs = require('node:fs'), vm = require('node:vm'), Module = require('node:module'), path = require('node:path');
const { Readable, Writable } = require('node:stream');
const [file, cacheFile, phase, disk, seDir] = process.argv.slice(1);
const script = new vm.Script(fs.readFileSync(file, 'utf8'), { filename: file });
const m = { exports: {} };
script.runInThisContext()(m.exports, Module.createRequire(file), m, file, path.dirname(file));
const label = "<seclabel type='dynamic' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:s0:c10,c20</label><imagelabel>system_u:object_r:svirt_image_t:s0:c10,c20</imagelabel></seclabel>";
const xml = (model, domainLabel = '') => "<domain type='kvm'><name>warm-up</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid><memory unit='KiB'>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator><disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='" + disk + "'><seclabel model='" + model + "' relabel='no'/></source><target dev='hdc' bus='ide'/><readonly/></disk></devices>" + domainLabel + "</domain>";
const sink = new Writable({ write: (_c, _e, cb) => cb() });
let said = '';
const told = new Writable({ write: (c, _e, cb) => { said += c; cb(); } });
const SELINUXFS = '/sys/fs/selinux';
const inSelinuxfs = (p) => p === SELINUXFS || p.startsWith(SELINUXFS + '/') ? path.join(seDir, 'selinuxfs', p.slice(SELINUXFS.length)) : p;
const labelOf = (p) => 'system_u:object_r:' + (p === '/' ? 'root_t' : p === disk || p === path.dirname(disk) ? 'public_content_t' : 'var_t') + ':s0';
const view = (live) => ({
  ...live,
  readText: (p) => live.readText(inSelinuxfs(p)),
  // The policy only through the store's projection, as the hook reads it on an SELinux host: a miss, or a
  // question the projection leaves to the whole policy, then says so below instead of warming another path.
  // The status page is read (the store's record names the kernel's instance: the hook's path on a host
  // whose kernel still holds the policy install saw).
  readBinary: (p) => (inSelinuxfs(p) === p || p === SELINUXFS + '/status' ? live.readBinary(inSelinuxfs(p)) : { kind: 'unknown', why: 'the warm-up reads the policy through the store only' }),
  listDir: (p) => live.listDir(inSelinuxfs(p)),
  selinuxLabel: (p) => (live.selinuxLabel(p), { kind: 'ok', value: labelOf(p) }),
});
(async () => {
  const model = phase === 'prepare' ? 'dac' : 'selinux';
  await m.exports.runHook(['warm-up', phase, 'begin', '-'], { stdin: Readable.from([Buffer.from(xml(model))]), stdout: sink, stderr: sink });
  if (seDir && phase === 'start') {
    const warmUp = { hookConfig: path.join(seDir, 'etc', 'hook.conf'), storeOwner: process.getuid(), view, path: inSelinuxfs };
    const code = await m.exports.runHook(['warm-up', 'start', 'begin', '-'], { stdin: Readable.from([Buffer.from(xml('selinux', label))]), stdout: sink, stderr: told }, warmUp);
    if (code !== 0 || said !== '') console.error('the SELinux warm-up did not judge the disk silently: ' + code + ' ' + said.trim());
    m.exports.wroteNothing();
  }
  fs.writeFileSync(cacheFile, script.createCachedData());
})();
`;
/**
 * What the SELinux warm-up reads: a selinuxfs stand-in (enforce, mls, policyvers, the policy) and the
 * policy store `hook install` would write for it, keyed as this build's hook reads it (policy-cache-env.ts).
 * Undefined without Debian's policy, or when the tsc output it is made with fails.
 */
async function selinuxWarmUpDir(dir) {
  const POLICY = '/etc/selinux/default/policy/policy.33';
  if (!existsSync(POLICY)) return undefined;
  try {
    const dist = (m) => import(join(root, 'dist', m));
    const [{ loadPolicy }, { projectPolicy }, { encodeEntry, entryLayout, projectionEntryName, RUNNING_COPY, RUNNING_INSTANCE }, { HOOK_CLASSES, formatRecord }] = await Promise.all([
      dist('selinux/policy/load.js'), dist('selinux/policy/projection.js'), dist('selinux/policy/cache-entry.js'), dist('app/hook-policy-store.js'),
    ]);
    const bytes = readFileSync(POLICY);
    const policy = loadPolicy(bytes);
    if (!policy.ok) throw new Error(`${POLICY}: ${policy.error.message}`);
    mkdirSync(join(dir, 'selinuxfs'), { recursive: true });
    writeFileSync(join(dir, 'selinuxfs', 'policy'), bytes);
    writeFileSync(join(dir, 'selinuxfs', 'enforce'), '1');
    writeFileSync(join(dir, 'selinuxfs', 'policyvers'), '33');
    writeFileSync(join(dir, 'selinuxfs', 'mls'), policy.value.mls ? '1' : '0');
    const store = join(dir, 'etc', 'policy-store');
    mkdirSync(store, { recursive: true, mode: 0o700 });
    chmodSync(store, 0o700);
    const key = `virt-seclabel ${pkg.version} build ${BUILD_ID} v8 ${process.versions.v8} projection`;
    const scope = { sourceTypes: ['svirt_t', 'svirt_tcg_t'], classes: [...HOOK_CLASSES] };
    const entry = Buffer.concat(encodeEntry(key, bytes, projectPolicy(policy.value, scope), true));
    writeFileSync(join(store, projectionEntryName()), entry, { mode: 0o600 });
    // The running kernel's copy and the record naming it and the projection (app/hook-policy-store.ts),
    // over a status page of policy load 1: the hook's path while the kernel keeps the policy install read.
    const page = Buffer.alloc(20);
    page.writeUInt32LE(1, 0);
    page.writeUInt32LE(1, 8);
    page.writeUInt32LE(1, 12);
    writeFileSync(join(dir, 'selinuxfs', 'status'), page);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const l = entryLayout(key, entry);
    writeFileSync(join(store, RUNNING_COPY), bytes, { mode: 0o600 });
    writeFileSync(join(store, RUNNING_INSTANCE), formatRecord({ instance: { bootId, policyload: 1 }, projection: { policyLength: l.policyLength, payloadLength: l.payloadLength, payloadCrc: l.payloadCrc } }), { mode: 0o600 });
    return dir;
  } catch (e) {
    console.warn(`bundle: the hook's code cache is warmed without SELinux: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
const warmDisk = join(root, '.tmp', 'bundle-warm-up-disk.iso');
const warmSelinux = join(root, '.tmp', 'bundle-warm-up-selinux');
rmSync(warmSelinux, { recursive: true, force: true });
writeFileSync(warmDisk, '');
const seDir = await selinuxWarmUpDir(warmSelinux);
for (const phase of ['prepare', 'start']) {
  const cacheFile = join(outdir, `hook.cjs.${phase}.v8cache`);
  rmSync(cacheFile, { force: true });
  const warmHook = spawnSync(process.execPath, ['-e', WARM_UP_HOOK, join(outdir, 'hook.cjs'), cacheFile, phase, warmDisk, seDir ?? ''], { encoding: 'utf8' });
  if (warmHook.status !== 0 || !existsSync(cacheFile)) {
    console.warn(`bundle: no V8 code cache written for hook.cjs's ${phase} (${warmHook.status}): ${warmHook.stderr.trim().split('\n').pop() ?? ''}`);
  } else {
    if (warmHook.stderr.trim() !== '') console.warn(`bundle: ${warmHook.stderr.trim()}`);
    const written = readFileSync(cacheFile);
    hookCaches[phase] = { length: written.length, crc32: crc32(written) };
  }
}
rmSync(warmDisk, { force: true });
rmSync(warmSelinux, { recursive: true, force: true });

await build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile: join(outdir, 'main.js'),
  ...cjsOptions(common.define),
  plugins: [programLoader],
});
// Executable, as npm makes a bin when it installs the package: from a checkout, `hook install --binary
// $PWD/dist/cli/main.js` (what install offers when virt-seclabel is not on the script's PATH) then runs.
chmodSync(join(outdir, 'main.js'), 0o755);
// main.js and program.cjs are CommonJS inside a package whose other files are ES modules. tsc's own
// ES module output for src/cli would be misread here and nothing runs it, so it goes.
writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
for (const f of readdirSync(outdir)) {
  if (/\.js(\.map)?$/.test(f) && f !== 'main.js') rmSync(join(outdir, f));
}

// The npm packages inside the bundle, with their licences: the Debian copyright file and the RPM's
// License: tag are built from this list, since none of them is installed separately.
const bundled = new Map();
for (const input of Object.keys(program.metafile.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m || bundled.has(m[1])) continue;
  const dep = JSON.parse(readFileSync(join(root, 'node_modules', m[1], 'package.json'), 'utf8'));
  bundled.set(m[1], { name: m[1], version: dep.version, license: dep.license });
}
writeFileSync(join(outdir, 'bundled-packages.json'), JSON.stringify([...bundled.values()].sort((a, b) => a.name.localeCompare(b.name)), null, 2) + '\n');
