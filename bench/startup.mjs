#!/usr/bin/env node
/**
 * Start-up bench: whole processes, measured side by side in one run (rounds interleave every command,
 * so a load spike hits them all), medians of CPU time (user+sys, what a loaded 2-core machine distorts
 * least) and wall time. Prints each issue-15 target with its ratio:
 *   - `virt-seclabel --version` ≤ 1.3× `node -e 0`;
 *   - annotate of a 2-disk domain, --models dac,selinux --policy <Debian default> ≤ 2.5× `node -e 0`;
 *   - one `query` ≤ 1/10 of `sesearch` and ≤ 3× the libsepol helper, on the default and the MLS policy.
 * Then the means, each measured on its own as a separate build of the same source (.tmp/bench-startup/);
 * all but `shipped` run with VIRT_SECLABEL_NO_CACHE=1 (no parsed-policy cache):
 *   modules      one ES module file per source module (what tsc alone ships; ~100 modules at start);
 *   esm-onefile  one esbuild ES module bundle;
 *   esm-chunks   an ES module entry with each lazily imported command module in its own chunk;
 *   eager        the shipped program.cjs, but loaded before --version is looked at;
 *   esm-entry    the shipped program.cjs and cache, loaded from an ES module entry (as shipped before);
 *   eager-deps   as no-codecache, but program.cjs bundled without the stand-ins that load string-width
 *                and node:assert on first use (scripts/bundle.mjs, lazyImports);
 *   no-codecache the shipped loader and program.cjs without dist/cli/program.cjs.v8cache (the shipped
 *                build has it: V8's code cache, written by a warm-up run in scripts/bundle.mjs);
 *   no-policy-cache  dist/cli/main.js without the parsed-policy cache: the policy is read on every run;
 *   shipped      dist/cli/main.js: small CommonJS entry (answers --version), one CommonJS bundle compiled
 *                with V8's code cache, the policy's model taken from the parsed-policy cache (warm: every
 *                run after the first with the same policy bytes; `first run` rows show the run that fills it).
 * Node 20.20 has no module.enableCompileCache / NODE_COMPILE_CACHE (Node 22); --snapshot-blob would need
 * node flags the npm bin cannot pass, so neither is measured here.
 *
 * Usage: npm run build && node bench/startup.mjs [--runs N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import Module from 'node:module';
import { crc32 } from 'node:zlib';
import { cjsOptions } from '../scripts/esbuild-cjs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = join(root, '.tmp', 'bench-startup');
const node = process.execPath;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '11'));
const DEFAULT = '/etc/selinux/default/policy/policy.33';
const MLS = '/etc/selinux/mls/policy/policy.33';
const SOURCE = 'system_u:system_r:svirt_t:s0:c12,c345';
const TARGET = 'system_u:object_r:public_content_t:s0';

/**
 * The child's own rusage, in microseconds (GNU time prints 10 ms steps, too coarse here): a small
 * Python runner forks, execs and wait4()s it, then prints user+sys, wall and peak RSS to fd 3.
 */
const RUNNER = `
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
os.write(3, ("%f %f %d %d" % (ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss, os.waitstatus_to_exitcode(status))).encode())
`;

function measure([cmd, ...args], input, env) {
  const r = spawnSync('python3', ['-c', RUNNER, cmd, ...args], { input, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const [cpu, wall, rssKB, status] = String(r.output[3]).split(' ').map(Number);
  if (status !== 0 && status !== 1) throw new Error(`${cmd} ${args.join(' ')}: exit ${status}: ${r.stderr}`);
  return { wallMs: wall * 1000, cpuMs: cpu * 1000, rssMB: rssKB / 1024, stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs every command once per round, `runs` rounds; returns medians by name. */
function sideBySide(commands) {
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of Object.entries(commands)) {
      c.before?.();
      samples[k].push(measure(c.argv, c.input, c.env));
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, xs]) => [
      k,
      { cpuMs: median(xs.map((x) => x.cpuMs)), wallMs: median(xs.map((x) => x.wallMs)), rssMB: Math.max(...xs.map((x) => x.rssMB)), stdout: xs.at(-1).stdout },
    ]),
  );
}

/** The same source built the other ways (see the header), each a dist-like tree under .tmp/. */
async function buildVariants() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const common = { platform: 'node', format: 'esm', target: 'node20', logLevel: 'error', define: { VIRT_SECLABEL_VERSION: JSON.stringify(pkg.version) } };
  const banner = { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" };
  const srcFiles = readdirSync(join(root, 'src'), { recursive: true }).filter((f) => f.endsWith('.ts'));
  await build({ ...common, entryPoints: srcFiles.map((f) => join(root, 'src', f)), outdir: join(tmp, 'modules'), outbase: join(root, 'src'), bundle: false });
  const bundled = { ...common, bundle: true, external: ['@napi-rs/xattr'], banner };
  await build({ ...bundled, entryPoints: [join(root, 'src/cli/main.ts')], outfile: join(tmp, 'esm-onefile/cli/main.js') });
  await build({ ...bundled, entryPoints: { main: join(root, 'src/cli/main.ts') }, outdir: join(tmp, 'esm-chunks/cli'), splitting: true, chunkNames: 'chunks/[name]-[hash]' });
  const program = JSON.stringify(join(root, 'dist/cli/program.cjs'));
  const run = "runCommandLine(process.argv.slice(2)).then((c) => { process.exitCode = c; });\n";
  // program.cjs is shipped wrapped as CommonJS wraps a module (scripts/bundle.mjs): compiled as it is, then called.
  writeFileSync(join(tmp, 'eager.mjs'), `import { createRequire } from 'node:module';\nimport { readFileSync } from 'node:fs';\nimport { dirname } from 'node:path';\nimport { Script } from 'node:vm';\nconst file = ${program};\nconst m = { exports: {} };\nnew Script(readFileSync(file, 'utf8'), { filename: file }).runInThisContext()(m.exports, createRequire(file), m, file, dirname(file));\nconst { runCommandLine } = m.exports;\n${run}`);
  // The shipped loader without its V8 code cache (dist/cli/program.cjs.v8cache), to show what the cache gives.
  for (const v of ['no-codecache', 'eager-deps']) {
    mkdirSync(join(tmp, v, 'cli'), { recursive: true });
    for (const f of ['main.js', 'program.cjs', 'package.json']) copyFileSync(join(root, 'dist/cli', f), join(tmp, v, 'cli', f));
  }
  await build({
    ...common, ...cjsOptions(common.define), bundle: true, external: ['@napi-rs/xattr'],
    entryPoints: [join(root, 'src/cli/program.ts')], outfile: join(tmp, 'eager-deps/cli/program.cjs'),
  });
  // Wrapped as the shipped program.cjs is, for the shipped loader.
  writeFileSync(join(tmp, 'eager-deps/cli/program.cjs'), Module.wrap(readFileSync(join(tmp, 'eager-deps/cli/program.cjs'), 'utf8')));
  // The entry as an ES module, as shipped before: Node starts its ES module loader for it.
  const cache = readFileSync(join(root, 'dist/cli/program.cjs.v8cache'));
  writeFileSync(join(tmp, 'esm-entry.mjs'), `import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
if (process.argv.length === 3 && process.argv[2] === '--version') process.stdout.write(${JSON.stringify(pkg.version + '\n')});
else {
  const file = ${program};
  const c = readFileSync(file + '.v8cache');
  const cachedData = c.length === ${cache.length} && crc32(c) === ${crc32(cache)} ? c : undefined;
  const script = new Script(readFileSync(file, 'utf8'), { filename: file, cachedData });
  const m = { exports: {} };
  script.runInThisContext()(m.exports, createRequire(file), m, file, dirname(file));
  ${run.trim().replace('runCommandLine(', 'm.exports.runCommandLine(')}
}
`);
  return {
    modules: join(tmp, 'modules/cli/main.js'),
    'esm-onefile': join(tmp, 'esm-onefile/cli/main.js'),
    'esm-chunks': join(tmp, 'esm-chunks/cli/main.js'),
    eager: join(tmp, 'eager.mjs'),
    'esm-entry': join(tmp, 'esm-entry.mjs'),
    'eager-deps': join(tmp, 'eager-deps/cli/main.js'),
    'no-codecache': join(tmp, 'no-codecache/cli/main.js'),
    'no-policy-cache': join(root, 'dist/cli/main.js'),
    shipped: join(root, 'dist/cli/main.js'),
  };
}

/** A 2-disk domain whose files exist here, decided live against the qemu identity nobody:nogroup. */
function twoDiskDomain() {
  const dir = join(tmp, 'images');
  mkdirSync(dir, { recursive: true });
  const disks = ['a.img', 'b.iso'].map((f) => {
    writeFileSync(join(dir, f), 'x');
    return join(dir, f);
  });
  const xml = `<domain type='kvm'>\n  <name>i15-ship-bench</name>\n  <memory>1048576</memory>\n  <os><type arch='x86_64'>hvm</type></os>\n  <devices>\n    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source file='${disks[0]}'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n    <disk type='file' device='cdrom'>\n      <source file='${disks[1]}'/>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n  </devices>\n</domain>\n`;
  writeFileSync(join(tmp, 'vm.xml'), xml);
  return join(tmp, 'vm.xml');
}

const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main() {
  if (!existsSync(join(root, 'dist/cli/program.cjs'))) throw new Error('run `npm run build` first (dist/cli/program.cjs is missing)');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(tmp, 'package.json'));
  const helper = execFileSync('sh', [join(root, 'test/selinux/reference/build-sepol-av.sh')], { encoding: 'utf8' }).trim();
  const vm = twoDiskDomain();
  const annotateArgs = ['--no-config', '--user', 'nobody', '--group', 'nogroup', '--models', 'dac,selinux', '--policy', DEFAULT, vm];
  const annotate = (main) => [node, main, ...annotateArgs];
  const variants = await buildVariants();
  const query = (main, policy) => [node, main, 'query', '--policy', policy, '-s', SOURCE, '-t', TARGET, '-c', 'file', '-p', 'read,open'];
  const sesearch = (policy) => ['sesearch', '--allow', '-s', 'svirt_t', '-t', 'public_content_t', '-c', 'file', '-p', 'read,open', policy];
  const sepol = (policy) => ({ argv: [helper, policy], input: `${SOURCE}\t${TARGET}\tfile\tread,open\n` });

  // The parsed-policy cache (src/selinux/policy/cached-load.ts) in a directory of the bench's own: the
  // shipped rows use it warm, as every run after the first does; `first run` empties its own before each
  // run (read, check and store the policy); every other build runs without it, so that each of their rows
  // adds one means to the previous one and `no-policy-cache` → `shipped` is the cache's own effect.
  const warmCache = { VIRT_SECLABEL_NO_CACHE: '', VIRT_SECLABEL_CACHE_DIR: join(tmp, 'policy-cache') };
  const firstRunDir = join(tmp, 'policy-cache-first-run');
  const firstRun = { env: { VIRT_SECLABEL_NO_CACHE: '', VIRT_SECLABEL_CACHE_DIR: firstRunDir }, before: () => rmSync(firstRunDir, { recursive: true, force: true }) };
  const noCache = { VIRT_SECLABEL_NO_CACHE: '1' };
  const commands = { 'node -e 0': { argv: [node, '-e', '0'] } };
  for (const [v, main] of Object.entries(variants)) {
    const env = v === 'shipped' ? warmCache : noCache;
    commands[`${v}: --version`] = { argv: [node, main, '--version'], env };
    commands[`${v}: annotate`] = { argv: annotate(main), env };
    commands[`${v}: query default`] = { argv: query(main, DEFAULT), env };
  }
  commands['shipped: query mls'] = { argv: query(variants.shipped, MLS), env: warmCache };
  commands['first run: annotate'] = { argv: annotate(variants.shipped), ...firstRun };
  commands['first run: query default'] = { argv: query(variants.shipped, DEFAULT), ...firstRun };
  for (const argv of [annotate(variants.shipped), query(variants.shipped, DEFAULT), query(variants.shipped, MLS)]) measure(argv, undefined, warmCache);
  commands['sesearch default'] = { argv: sesearch(DEFAULT) };
  commands['sesearch mls'] = { argv: sesearch(MLS) };
  commands['libsepol helper default'] = sepol(DEFAULT);
  commands['libsepol helper mls'] = sepol(MLS);
  const m = sideBySide(commands);

  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`start-up: medians of ${runs} interleaved rounds; load average ${load}; node ${process.version}`);
  console.log('\ncommand                              cpu ms   wall ms   peak RSS MB');
  for (const [k, r] of Object.entries(m)) console.log(`${k.padEnd(36)} ${fmt(r.cpuMs, 0).padStart(6)}   ${fmt(r.wallMs, 0).padStart(7)}   ${fmt(r.rssMB, 1).padStart(6)}`);

  const base = m['node -e 0'];
  const row = (name, a, b, limit, cmp) => {
    const rc = a.cpuMs / b.cpuMs;
    const rw = a.wallMs / b.wallMs;
    const ok = cmp === '<=' ? rc <= limit : rc >= limit;
    console.log(`${name.padEnd(52)} ${fmt(rc).padStart(6)} cpu ${fmt(rw).padStart(6)} wall   target ${cmp} ${limit}   ${ok ? 'MET' : `MISSED by ${fmt(Math.abs(rc - limit))}`}`);
  };
  console.log('\ntargets (ratio of CPU medians; wall shown alongside)');
  row('--version / node -e 0', m['shipped: --version'], base, 1.3, '<=');
  row('annotate 2 disks dac,selinux / node -e 0', m['shipped: annotate'], base, 2.5, '<=');
  row('query default / sesearch', m['shipped: query default'], m['sesearch default'], 0.1, '<=');
  row('query default / libsepol helper', m['shipped: query default'], m['libsepol helper default'], 3, '<=');
  row('query mls / sesearch', m['shipped: query mls'], m['sesearch mls'], 0.1, '<=');
  row('query mls / libsepol helper', m['shipped: query mls'], m['libsepol helper mls'], 3, '<=');
  const rssMax = Math.max(...Object.entries(m).filter(([k]) => k.startsWith('shipped') || k.startsWith('first run')).map(([, r]) => r.rssMB));
  console.log(`${'peak RSS of any shipped command (MB)'.padEnd(52)} ${fmt(rssMax, 1).padStart(6)}            target <= 150   ${rssMax <= 150 ? 'MET' : 'MISSED'}`);

  row('annotate, first run (policy read and cached)', m['first run: annotate'], base, 2.5, '<=');
  row('query default, first run / libsepol helper', m['first run: query default'], m['libsepol helper default'], 3, '<=');

  console.log('\nmeans, one at a time (CPU ms, ratio to node -e 0 in brackets)');
  console.log('build            --version        annotate         query default');
  for (const v of Object.keys(variants)) {
    const cell = (k) => `${fmt(m[`${v}: ${k}`].cpuMs, 0).padStart(4)} (${fmt(m[`${v}: ${k}`].cpuMs / base.cpuMs)}×)`.padEnd(17);
    console.log(`${v.padEnd(16)} ${cell('--version')}${cell('annotate')}${cell('query default')}`);
  }
  // Same answers from every build: a means that changed behaviour would not be a speed-up.
  for (const k of ['--version', 'annotate', 'query default']) {
    const outs = new Set([...Object.keys(variants).map((v) => m[`${v}: ${k}`].stdout), ...(m[`first run: ${k}`] ? [m[`first run: ${k}`].stdout] : [])]);
    if (outs.size !== 1) throw new Error(`the builds disagree on ${k}`);
  }
}

await main();
