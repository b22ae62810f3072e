#!/usr/bin/env node
/**
 * Domains-mode bench (issue 21, item 6): `virt-seclabel --all-domains --check` on 10, 100 and 500
 * defined domains, side by side in one run with
 *   loop  the shell loop a person would write: `for d in $(virsh list --all --name); do
 *         virsh dumpxml --inactive $d; done` (a virsh per domain, plus the list);
 *   old   the build before the batched client (a virsh for dominfo and one for dumpxml per domain),
 *         built from git into .tmp/bench-domains/old-REV (`--old-rev REV`, default b4446a1);
 *   new   this checkout's dist/cli/main.js (a virsh per 250 domains, plus one to list them).
 * Rounds interleave the three, so a load spike hits all of them; medians of wall time (what a person or
 * a Cockpit page waits; most of the work is in virsh and libvirtd, not in the measured process) and of
 * the client side's CPU (the process and the children it waited for). Targets: new ≤ 0.4× loop at 100
 * domains, and a flat cost per domain: the marginal cost per domain from 10 to 100 and from 100 to 500
 * is printed next to the per-domain average. old and new must print the same report (checked).
 *
 * The domains are one-disk TCG definitions (a world-readable ISO, so each decision annotates), defined
 * and never started, on a private libvirtd (scripts/libvirtd-private-start.sh: its own mount namespace,
 * sockets and definitions; stopped and removed at the end). Needs root, libvirtd, virsh and unshare.
 *
 * Not in bench/run.mjs: it needs root and takes about 15 minutes on a loaded 2-core machine (the old
 * build's 500-domain rounds dominate).
 *
 * Usage: npm run build && node bench/domains.mjs [--runs N] [--sizes 10,100,500] [--old-rev REV]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '5'));
const sizes = arg('--sizes', '10,100,500').split(',').map(Number);
const oldRev = arg('--old-rev', 'b4446a1');
const tmp = join(root, '.tmp', 'bench-domains');

if (process.getuid?.() !== 0) {
  console.error('bench/domains.mjs: needs root (it starts a private libvirtd)');
  process.exit(1);
}

/** The implementation before the batched client, built once from git (tsc + the shipped bundle). */
function oldBuild() {
  const dir = join(tmp, `old-${oldRev}`);
  const main = join(dir, 'dist/cli/main.js');
  if (existsSync(main)) return main;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', root, oldRev, dir]);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: dir, stdio: 'inherit' });
  return main;
}

/** wall (ms), and user+sys (ms) of the process and the children it waited for, by a small Python runner. */
const RUNNER = `
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
os.write(3, ("%f %f %d" % (ru.ru_utime + ru.ru_stime, wall, os.waitstatus_to_exitcode(status))).encode())
`;
function measure(argv) {
  const r = spawnSync('python3', ['-c', RUNNER, ...argv], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const [cpu, wall, status] = String(r.output[3]).split(' ').map(Number);
  return { wallMs: wall * 1000, cpuMs: cpu * 1000, status, stdout: r.stdout, stderr: r.stderr };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const state = mkdtempSync(join(tmp + '-state-'));
const files = mkdtempSync('/tmp/vsl-bench-domains-');
chmodSync(files, 0o755);
const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
const virsh = (...args) => execFileSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

function cleanUp() {
  spawnSync('bash', [join(root, 'scripts/libvirtd-private-stop.sh'), state], { stdio: 'inherit' });
  rmSync(state, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
}

try {
  const old = oldBuild();
  const cli = join(root, 'dist/cli/main.js');
  mkdirSync(tmp, { recursive: true });
  execFileSync('bash', [join(root, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
  const iso = join(files, 'pub.iso');
  writeFileSync(iso, Buffer.alloc(1024 * 1024));
  chmodSync(iso, 0o644);
  const xml = (name) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${iso}'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
  </devices>
</domain>
`;
  let defined = 0;
  const defineUpTo = (n) => {
    const batch = [];
    for (; defined < n; defined++) {
      const f = join(files, `d${defined}.xml`);
      writeFileSync(f, xml(`vsl-bench-${String(defined).padStart(4, '0')}`));
      batch.push(`define ${f}`);
    }
    for (let i = 0; i < batch.length; i += 200) virsh(batch.slice(i, i + 200).join(' ; '));
  };

  const commands = {
    loop: ['bash', '-c', 'for d in $(virsh -c "$1" list --all --name); do virsh -c "$1" dumpxml --inactive "$d"; done', 'loop', uri],
    old: [process.execPath, old, '--all-domains', '--check', '--connect', uri, '--no-config'],
    new: [process.execPath, cli, '--all-domains', '--check', '--connect', uri, '--no-config'],
  };
  const rows = [];
  for (const n of sizes) {
    defineUpTo(n);
    const got = virsh('list', '--all', '--name').split('\n').filter(Boolean).length;
    if (got !== n) throw new Error(`expected ${n} domains defined, libvirt lists ${got}`);
    const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
    for (let r = 0; r < runs; r++) {
      for (const [k, argv] of Object.entries(commands)) {
        const m = measure(argv);
        if (k !== 'loop' && m.status !== 1) throw new Error(`${k} on ${n} domains: exit ${m.status}: ${m.stderr.slice(0, 2000)}`);
        if (k === 'loop' && (m.status !== 0 || m.stdout.split('</domain>').length - 1 !== n)) throw new Error(`loop on ${n} domains: exit ${m.status}`);
        samples[k].push(m);
      }
    }
    const same = samples.old.at(-1).stderr === samples.new.at(-1).stderr && samples.old.at(-1).stdout === samples.new.at(-1).stdout;
    const warnings = samples.new.at(-1).stderr.split('\n').filter((l) => l.includes(': add <seclabel')).length;
    if (!same || warnings !== n) throw new Error(`on ${n} domains old and new differ (same report: ${same}; new annotates ${warnings} of ${n})`);
    const row = { n };
    for (const k of Object.keys(commands)) row[k] = { wallMs: median(samples[k].map((x) => x.wallMs)), cpuMs: median(samples[k].map((x) => x.cpuMs)) };
    rows.push(row);
  }

  const f = (x, d = 1) => x.toFixed(d);
  console.log(`\n--all-domains --check, ${runs} rounds, medians; private libvirtd ${virsh('version', '--daemon').match(/daemon: ([\d.]+)/i)?.[1] ?? ''}`);
  console.log('domains | wall ms: loop / old / new | per domain ms: loop / old / new | client CPU ms: loop / old / new | new/loop | old/loop');
  for (const r of rows) {
    const per = (k) => r[k].wallMs / r.n;
    console.log(
      `${String(r.n).padStart(7)} | ${f(r.loop.wallMs, 0)} / ${f(r.old.wallMs, 0)} / ${f(r.new.wallMs, 0)} | ${f(per('loop'), 2)} / ${f(per('old'), 2)} / ${f(per('new'), 2)}` +
        ` | ${f(r.loop.cpuMs, 0)} / ${f(r.old.cpuMs, 0)} / ${f(r.new.cpuMs, 0)} | ${f(r.new.wallMs / r.loop.wallMs, 3)}× | ${f(r.old.wallMs / r.loop.wallMs, 2)}×`,
    );
  }
  console.log('\nmarginal wall ms per added domain (the slope; flat = the same on each step):');
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1], rows[i]];
    const slope = (k) => (b[k].wallMs - a[k].wallMs) / (b.n - a.n);
    console.log(`  ${a.n} -> ${b.n}: loop ${f(slope('loop'), 2)}, old ${f(slope('old'), 2)}, new ${f(slope('new'), 2)}`);
  }
  const at100 = rows.find((r) => r.n === 100);
  if (at100) console.log(`\ntarget: 100 domains new/loop ${f(at100.new.wallMs / at100.loop.wallMs, 3)}× (≤ 0.4×: ${at100.new.wallMs <= 0.4 * at100.loop.wallMs ? 'met' : 'NOT met'})`);
} finally {
  cleanUp();
}
