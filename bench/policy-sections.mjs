#!/usr/bin/env node
/**
 * Where a cold read of a binary policy spends its time, per policy section (issue 21, item 4: the hook's
 * SELinux call at `start begin` reads the whole policy on every VM start, without the parsed-policy cache).
 *
 * Each round runs a fresh `node` that loads the policy once (dist/selinux/policy/load.js, as the hook
 * does: no cache) under --cpu-prof; the profile's time inside loadPolicy's reader is summed per top-level
 * section function (inclusive: the garbage collection a section causes is sampled inside it). Medians over
 * the rounds, in ms and as a share of the read, next to `node -e 0` and to the floors any design keyed by
 * the policy bytes pays: reading the file, and reading plus hashing it (sha256).
 * With --callgrind, the same four processes once under valgrind (instruction counts: the stable measure
 * on a loaded machine; slow, about a minute each).
 *
 * Usage: npm run build && node bench/policy-sections.mjs [--runs N] [--policy FILE] [--callgrind]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const runs = Number(opt('--runs', 7));
const policy = opt('--policy', '/etc/selinux/default/policy/policy.33');
const load = join(root, 'dist/selinux/policy/load.js');
if (!existsSync(load)) {
  console.log('policy-sections bench skipped: needs a build (npm run build)');
  process.exit(0);
}
if (!existsSync(policy)) {
  console.log(`policy-sections bench skipped: ${policy} is missing`);
  process.exit(0);
}

const loader = `import { readFileSync } from 'node:fs';
const { loadPolicy } = await import(${JSON.stringify(load)});
const p = loadPolicy(readFileSync(${JSON.stringify(policy)}));
if (!p.ok) { console.error(p.error); process.exit(1); }`;
const floors = {
  'node -e 0': ['-e', '0'],
  'read the file': ['--input-type=module', '-e', `import { readFileSync } from 'node:fs'; readFileSync(${JSON.stringify(policy)});`],
  'read + sha256': [
    '--input-type=module',
    '-e',
    `import { readFileSync } from 'node:fs'; import { createHash } from 'node:crypto'; createHash('sha256').update(readFileSync(${JSON.stringify(policy)})).digest();`,
  ],
  'loadPolicy (no cache)': ['--input-type=module', '-e', loader],
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Inclusive µs per child of loadPolicy's `read`, and `read` itself, from one .cpuprofile. */
function sections(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + profile.timeDeltas[i]));
  const incl = (id) => (self.get(id) ?? 0) + (byId.get(id).children ?? []).reduce((a, c) => a + incl(c), 0);
  const out = new Map([['(read itself)', 0]]);
  for (const n of profile.nodes) {
    if (n.callFrame.functionName !== 'read' || !n.callFrame.url.endsWith('/policy/load.js')) continue;
    out.set('(read itself)', out.get('(read itself)') + (self.get(n.id) ?? 0));
    for (const c of n.children ?? []) {
      const name = byId.get(c).callFrame.functionName || '(anonymous)';
      out.set(name, (out.get(name) ?? 0) + incl(c));
    }
  }
  return out;
}

/** CPU ms (user+sys) of one child, from its rusage. */
function cpuOf(args) {
  const t = spawnSync('python3', ['-c', 'import os,sys\npid=os.fork()\nif pid==0: os.execv(sys.argv[1], sys.argv[1:])\n_,s,ru=os.wait4(pid,0)\nprint(ru.ru_utime+ru.ru_stime, os.waitstatus_to_exitcode(s))', process.execPath, ...args], { encoding: 'utf8' });
  const [cpu, status] = t.stdout.trim().split(' ').map(Number);
  if (status !== 0) throw new Error(`node ${args.join(' ')}: exit ${status}: ${t.stderr}`);
  return cpu * 1000;
}

const cpu = Object.fromEntries(Object.keys(floors).map((k) => [k, []]));
const per = new Map();
const reads = [];
for (let i = 0; i < runs; i++) {
  for (const [k, args] of Object.entries(floors)) cpu[k].push(cpuOf(args));
  const dir = mkdtempSync(join(tmpdir(), 'policy-sections-'));
  try {
    const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--input-type=module', '-e', loader], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`profiled load: ${r.stderr}`);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    const s = sections(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    let total = 0;
    for (const [k, v] of s) {
      if (!per.has(k)) per.set(k, []);
      per.get(k).push(v / 1000);
      total += v / 1000;
    }
    reads.push(total);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`policy-sections bench: ${policy} (${readFileSync(policy).length} bytes), ${runs} rounds; load average ${load1}; node ${process.version}`);
const base = median(cpu['node -e 0']);
console.log('\nwhole processes                 cpu ms   / node -e 0');
for (const [k, xs] of Object.entries(cpu)) console.log(`  ${k.padEnd(28)} ${median(xs).toFixed(1).padStart(7)}   ${(median(xs) / base).toFixed(2).padStart(6)}×`);
const readMs = median(reads);
console.log(`\nloadPolicy's reader under --cpu-prof (inclusive, median ms; read total ${readMs.toFixed(1)} ms)`);
for (const [k, xs] of [...per].sort((a, b) => median(b[1]) - median(a[1]))) {
  const m = median(xs);
  console.log(`  ${k.padEnd(28)} ${m.toFixed(1).padStart(7)}   ${((100 * m) / readMs).toFixed(0).padStart(3)} %`);
}

if (argv.includes('--callgrind')) {
  console.log('\ninstructions under callgrind (one run each)');
  for (const [k, args] of Object.entries(floors)) {
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...args], { encoding: 'utf8' });
    const n = /Collected : (\d+)/.exec(r.stderr)?.[1];
    console.log(`  ${k.padEnd(28)} ${n ? (Number(n) / 1e6).toFixed(0).padStart(7) + ' M' : `failed: ${r.stderr.slice(-200)}`}`);
  }
}
