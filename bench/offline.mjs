#!/usr/bin/env node
/**
 * Offline bench: `annotate --check --facts` over 500 domain files against one snapshot in one process,
 * versus the same command over one file. Target: 500 files take at most 3x the time of one (the snapshot
 * is read once, and the decisions for files sharing disks reuse the engines' answers).
 *
 * The snapshot is the bundled demo (samples/demo/host.json, a Fedora-like SELinux hypervisor, DAC and
 * SELinux active); the 500 domains are variations of its web01.xml (each a different subset of its disks,
 * in a different order, under a different name), so every file gets real DAC and SELinux decisions.
 * Two measurements, median of --runs N (default 5) each: a whole `node dist/cli/main.js` process
 * (start-up included: what a pre-commit hook pays), and the same work in this process (open the
 * snapshot, build the context, run annotate --check), wall and CPU time, which start-up and a loaded
 * machine do not blur.
 *
 * Usage: npm run build && node bench/offline.mjs [--runs N] [--files N] [--dist DIR]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The shipped command's parsed-policy cache in the bench's own directory, not the user's: runs after the
// first take the model from it, as a user's do (bench/startup.mjs measures the first run on its own).
process.env.VIRT_SECLABEL_CACHE_DIR ||= join(root, '.tmp', 'bench-policy-cache');
function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
const runs = Number(arg('--runs', 5));
const count = Number(arg('--files', 500));
const dist = arg('--dist', join(root, 'dist'));
const cli = join(dist, 'cli', 'main.js');
const facts = join(root, 'samples', 'demo', 'host.json');
const tmp = join(root, '.tmp', 'bench-offline');

// ---- the domains: web01.xml's disks, a different non-empty subset and order per file ----
const web01 = readFileSync(join(root, 'samples', 'demo', 'web01.xml'), 'utf8');
const disks = web01.match(/ {4}<disk [\s\S]*?<\/disk>\n/g);
if (!disks || disks.length < 2) throw new Error('samples/demo/web01.xml: no disks found');
const head = web01.slice(web01.indexOf('<domain'), web01.indexOf('    <disk '));
const tail = web01.slice(web01.lastIndexOf('</disk>\n') + '</disk>\n'.length);

let seed = 12345;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const files = [];
for (let i = 0; i < count; i++) {
  const chosen = disks.filter(() => random() < 0.6);
  if (chosen.length === 0) chosen.push(disks[i % disks.length]);
  chosen.sort(() => random() - 0.5);
  const xml = head.replace('<name>web01</name>', `<name>vm${String(i).padStart(3, '0')}</name>`) + chosen.join('') + tail;
  const f = join(tmp, `vm${String(i).padStart(3, '0')}.xml`);
  writeFileSync(f, xml);
  files.push(f);
}

function timeRun(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'annotate', '--check', '--facts', facts, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  // --check exits 1 when something would change; anything else is a failure of the bench itself.
  if (r.status !== 1) throw new Error(`exit ${r.status}: ${r.stderr.slice(0, 500)}`);
  if (/not in the snapshot/.test(r.stderr)) throw new Error('the snapshot does not cover the bench domains');
  return { ms, lines: r.stderr.split('\n').filter((l) => l.includes(': warning: disk ')).length };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

timeRun([files[0]]); // warm the file cache
const one = [];
const many = [];
let lines = 0;
for (let r = 0; r < runs; r++) {
  one.push(timeRun([files[0]]).ms);
  const m = timeRun(files);
  many.push(m.ms);
  lines = m.lines;
}
// ---- in-process: what the command does after node has started ----
const mod = (p) => import(pathToFileURL(join(dist, p)).href);
const { openHost } = await mod('app/open-view.js');
const { createHostContext } = await mod('app/host-context.js');
const { runAnnotate } = await mod('cli/annotate.js');
const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
async function inProcess(names) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const host = openHost({ connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: {}, facts });
  if (!host.ok) throw new Error(host.error);
  const ctx = createHostContext(host.value.view, host.value.opts, host.value.env);
  if (!ctx.ok) throw new Error(ctx.error);
  const code = await runAnnotate(names, { inPlace: false, check: true, diff: false, pruneStale: false }, ctx.value, { stdin: process.stdin, stdout: sink(), stderr: sink() });
  if (code !== 1) throw new Error(`in-process exit ${code}`);
  const cpu = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}
await inProcess(files); // JIT warm-up is part of a real run too, but not of the comparison
const ipOne = [];
const ipMany = [];
for (let r = 0; r < runs; r++) {
  ipOne.push(await inProcess([files[0]]));
  ipMany.push(await inProcess(files));
}

const oneMs = median(one);
const manyMs = median(many);
const ratio = manyMs / oneMs;
console.log(`offline bench: annotate --check --facts samples/demo/host.json, median of ${runs} runs (whole processes)`);
console.log(`  1 file:      ${oneMs.toFixed(0)} ms`);
console.log(`  ${count} files:  ${manyMs.toFixed(0)} ms  (${lines} check lines, ${((manyMs - oneMs) / (count - 1)).toFixed(2)} ms per extra file)`);
console.log(`  ratio:       ${ratio.toFixed(2)}x  (target <= 3x: ${ratio <= 3 ? 'met' : 'NOT met'})`);
const ipo = median(ipOne.map((x) => x.ms));
const ipm = median(ipMany.map((x) => x.ms));
console.log(`in process (after start-up): 1 file ${ipo.toFixed(1)} ms (cpu ${median(ipOne.map((x) => x.cpuMs)).toFixed(1)} ms), ${count} files ${ipm.toFixed(1)} ms (cpu ${median(ipMany.map((x) => x.cpuMs)).toFixed(1)} ms), ${(ipm / count).toFixed(2)} ms per file`);
console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores)`);
rmSync(tmp, { recursive: true, force: true });
process.exitCode = ratio <= 3 ? 0 : 1;
