#!/usr/bin/env node
/**
 * The shipped program, made by esbuild from src/ after tsc (bench/startup.mjs measures each choice):
 *   dist/cli/program.cjs  the command line (src/cli/commands.ts) and everything it imports, one CommonJS
 *                         file: one compile and no ES module graph to resolve and link, which measured
 *                         faster than ~100 ES modules, than one ES module, and than lazily loaded ES chunks;
 *                         command modules still run their top level only when their command runs
 *   dist/cli/main.js      the bin entry (src/cli/main.ts), an ES module that answers --version itself and
 *                         otherwise loads program.cjs with V8's code cache;
 *   dist/cli/program.cjs.v8cache  that cache, written by a warm-up run at build time.
 * main.js overwrites the one tsc wrote, so every test that spawns dist/cli/main.js runs the build that
 * ships; the rest of tsc's output stays for tests and benches that import single modules.
 * @napi-rs/xattr stays external: it loads a native addon by platform.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outdir = join(root, 'dist', 'cli');
rmSync(join(outdir, 'chunks'), { recursive: true, force: true }); // the layout of earlier builds
rmSync(join(outdir, 'main.js.map'), { force: true }); // tsc's map of the main.js this replaces

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/xattr'],
  // The version is fixed at build time: --version and snapshots read no file.
  define: { VIRT_SECLABEL_VERSION: JSON.stringify(pkg.version) },
  legalComments: 'eof',
  logLevel: 'warning',
};

const program = await build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'commands.ts')],
  outfile: join(outdir, 'program.cjs'),
  format: 'cjs',
  metafile: true,
  // CommonJS has no import.meta; the bundled ES modules (yargs' platform shim) get this file's URL.
  define: { ...common.define, 'import.meta.url': '__vslImportMetaUrl' },
  banner: { js: "const __vslImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

/**
 * main.ts's `import('./commands.js')` becomes the loading of program.cjs, run only past the --version
 * check: compiled as CommonJS is (Module.wrap), but through vm.Script with V8's code cache
 * (program.cjs.v8cache, written below), which is how Node 20 offers a code cache at all (no
 * module.enableCompileCache before Node 22). V8 checks the cache against the source and its own version
 * and flags and ignores it when they differ (another Node, an edited program.cjs): then this is a plain
 * compile, as without a cache.
 */
const loader = (cacheSha256) => `import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
// Required here, not imported: esbuild hoists imports to main.js's top, and --version should not load them.
const { createHash } = createRequire(import.meta.url)('node:crypto');
const { Script } = createRequire(import.meta.url)('node:vm');
const file = fileURLToPath(new URL('./program.cjs', import.meta.url));
// V8 checks a cache's header but not its payload (a damaged one crashes the process), so only the
// exact file this build wrote is used.
let cachedData;
try {
  const c = readFileSync(file + '.v8cache');
  if (createHash('sha256').update(c).digest('hex') === ${JSON.stringify(cacheSha256)}) cachedData = c;
} catch {}
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
const m = { exports: {} };
script.runInThisContext()(m.exports, createRequire(file), m, file, dirname(file));
export const { runCommandLine } = m.exports;
`;
let cacheSha256 = '';
const commandsFromProgram = {
  name: 'commands-from-program',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\.js$/ }, () => ({ path: 'program', namespace: 'virt-seclabel' }));
    b.onLoad({ filter: /.*/, namespace: 'virt-seclabel' }, () => ({ contents: loader(cacheSha256), loader: 'js' }));
  },
};

// The code cache: a child compiles program.cjs exactly as the loader does, runs the commands a short run
// spends its time in (annotate and explain of the bundled demo; one query where this machine has a policy),
// so the functions they call are compiled too, and writes what V8 then has. Output is discarded.
rmSync(join(outdir, 'program.cjs.v8cache'), { force: true });
const WARM_UP = `const fs = require('node:fs'), vm = require('node:vm'), Module = require('node:module'), path = require('node:path');
const [file, cacheFile, root] = process.argv.slice(1);
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file });
const m = { exports: {} };
script.runInThisContext()(m.exports, Module.createRequire(file), m, file, path.dirname(file));
const demo = ['--facts', root + '/samples/demo/host.json', root + '/samples/demo/web01.xml'];
const runs = [demo, ['explain', ...demo]];
const policy = '/etc/selinux/default/policy/policy.33';
if (fs.existsSync(policy)) runs.push(['query', '-s', 'system_u:system_r:svirt_t:s0:c1,c2', '-t', 'system_u:object_r:public_content_t:s0', '-c', 'file', '-p', 'read,open', '--policy', policy]);
process.stdout.write = process.stderr.write = () => true;
(async () => {
  for (const argv of runs) await m.exports.runCommandLine(argv);
  fs.writeFileSync(cacheFile, script.createCachedData());
})();
`;
const warm = spawnSync(process.execPath, ['-e', WARM_UP, join(outdir, 'program.cjs'), join(outdir, 'program.cjs.v8cache'), root], { encoding: 'utf8' });
if (warm.status !== 0 || !existsSync(join(outdir, 'program.cjs.v8cache'))) {
  // A missing cache only costs start-up time; the build still ships a working program.
  console.warn(`bundle: no V8 code cache written (${warm.status}): ${warm.stderr.trim().split('\n').pop() ?? ''}`);
}
else cacheSha256 = createHash('sha256').update(readFileSync(join(outdir, 'program.cjs.v8cache'))).digest('hex');
await build({ ...common, entryPoints: [join(root, 'src', 'cli', 'main.ts')], outfile: join(outdir, 'main.js'), format: 'esm', plugins: [commandsFromProgram] });

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
