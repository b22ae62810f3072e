#!/usr/bin/env node
/**
 * SELinux bench: the engine (built, dist/) against sesearch and the libsepol helper on one policy
 * (Debian's default by default), in one run:
 *   - one question as a whole process: `virt-seclabel query -s … -t … -c file -p read`,
 *     `sesearch --allow -s svirt_t -t public_content_t -c file -p read`, the libsepol helper (load + 1 query);
 *   - throughput on 10,000 generated queries: the engine in-process vs the helper fed 10,000 lines
 *     (and how many of the 10,000 answers agree, as a sanity check);
 *   - peak RSS of each process (/usr/bin/time -v's "Maximum resident set size").
 * Prints medians over --runs N (default 5) and the ratios against the targets: one question ≤ 1/20 of
 * sesearch and ≤ the helper; throughput ≥ the helper's; peak RSS ≤ 150 MB.
 *
 * Usage: npm run build && node bench/selinux.mjs [--runs N] [--policy FILE] [--queries N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The shipped command's parsed-policy cache in the bench's own directory, not the user's: runs after the
// first take the model from it, as a user's do (bench/startup.mjs measures the first run on its own).
process.env.VIRT_SECLABEL_CACHE_DIR ||= join(root, '.tmp', 'bench-policy-cache');
const dist = join(root, 'dist');
const tmp = join(root, '.tmp', 'bench-selinux');
const TIME = '/usr/bin/time';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

const SOURCE = 'system_u:system_r:svirt_t:s0:c12,c345';
const TARGET = 'system_u:object_r:public_content_t:s0';

// ---- worker modes: run inside a child process so that its wall time and RSS are its own ----

async function engine() {
  const { loadPolicy } = await import(pathToFileURL(join(dist, 'selinux/policy/load.js')).href);
  const { computeAccess } = await import(pathToFileURL(join(dist, 'selinux/access.js')).href);
  return { loadPolicy, computeAccess };
}

async function workerOne(policyPath) {
  const { loadPolicy, computeAccess } = await engine();
  const p = loadPolicy(readFileSync(policyPath));
  if (!p.ok) throw new Error(p.error.message);
  const a = computeAccess(p.value, { scontext: SOURCE, tcontext: TARGET, tclass: 'file', perms: ['read'] });
  console.log(a.ok ? (a.allowed ? 'allowed' : 'denied') : a.error);
}

async function workerThroughput(policyPath, queriesPath, answersPath) {
  const t0 = performance.now();
  const { loadPolicy, computeAccess } = await engine();
  const p = loadPolicy(readFileSync(policyPath));
  if (!p.ok) throw new Error(p.error.message);
  const queries = readFileSync(queriesPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const t1 = performance.now();
  const out = [];
  for (const q of queries) {
    const a = computeAccess(p.value, q);
    out.push(a.ok ? q.perms.map((perm) => (a.granted.includes(perm) ? '1' : '0')).join('') : 'error');
  }
  const t2 = performance.now();
  writeFileSync(answersPath, out.join('\n') + '\n');
  console.log(JSON.stringify({ setupMs: t1 - t0, queryMs: t2 - t1, count: queries.length }));
}

// ---- measurement ----

/** Runs a command under /usr/bin/time -v; wall time from here (ms resolution), peak RSS from time. */
function measure(cmd, args, input) {
  const rssFile = join(tmp, 'time.out');
  const useTime = existsSync(TIME);
  const t0 = performance.now();
  const r = useTime
    ? spawnSync(TIME, ['-v', '-o', rssFile, cmd, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const report = useTime ? readFileSync(rssFile, 'utf8') : '';
  const num = (re) => Number(re.exec(report)?.[1] ?? NaN);
  // CPU time (user + sys) is what a loaded machine distorts least; wall time is what a user waits.
  const cpuMs = (num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/)) * 1000;
  return { wallMs, cpuMs, rssMB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function repeat(runs, f) {
  const results = Array.from({ length: runs }, f);
  return {
    wallMs: median(results.map((r) => r.wallMs)),
    cpuMs: median(results.map((r) => r.cpuMs)),
    rssMB: Math.max(...results.map((r) => r.rssMB)),
    last: results.at(-1),
  };
}

/** Seeded PRNG (mulberry32) so every run benches the same queries. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function list(helper, policyPath, what) {
  return execFileSync(helper, [policyPath, '--list', what], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** 10,000 questions a disk decision asks, plus random pairs: svirt_t and other system_r domains. */
function generateQueries(helper, policyPath, count) {
  const next = rng(0xbe4c);
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  const types = list(helper, policyPath, 'types').map((r) => r[0]);
  const domains = (list(helper, policyPath, 'roles').find((r) => r[0] === 'system_r')?.[1] ?? 'svirt_t').split(',');
  const classes = new Map(list(helper, policyPath, 'classes').map(([c, p]) => [c, p.split(',')]));
  const virt = ['virt_content_t', 'svirt_image_t', 'public_content_t', 'removable_device_t', 'fixed_disk_device_t', 'nfs_t', 'user_home_t', 'default_t'].filter((t) => types.includes(t));
  const bools = list(helper, policyPath, 'booleans').map((r) => r[0]).filter((b) => b.startsWith('virt_use'));
  const out = [];
  for (let i = 0; i < count; i++) {
    const stype = next() < 0.6 ? 'svirt_t' : pick(domains);
    const ttype = next() < 0.6 ? pick(virt) : pick(types);
    const tclass = pick(['file', 'file', 'blk_file', 'chr_file', 'dir', 'lnk_file']);
    const perms = classes.get(tclass);
    const chosen = [...new Set([pick(perms), pick(perms), pick(['read', 'open', 'getattr'].filter((p) => perms.includes(p)))])];
    const c1 = Math.floor(next() * 1024);
    const c2 = (c1 + 1 + Math.floor(next() * 1023)) % 1024;
    const q = {
      scontext: `system_u:system_r:${stype}:s0:c${Math.min(c1, c2)},c${Math.max(c1, c2)}`,
      tcontext: `system_u:object_r:${ttype}:${next() < 0.7 ? 's0' : `s0:c${Math.min(c1, c2)},c${Math.max(c1, c2)}`}`,
      tclass,
      perms: chosen,
    };
    if (next() < 0.2 && bools.length) q.booleans = { [pick(bools)]: true };
    out.push(q);
  }
  return out;
}

const toTsv = (q) =>
  [q.scontext, q.tcontext, q.tclass, q.perms.join(','), Object.entries(q.booleans ?? {}).map(([b, v]) => `${b}=${v ? 1 : 0}`).join(',')].join('\t');

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

async function main() {
  const runs = Number(arg('--runs', '5'));
  const policyPath = arg('--policy', '/etc/selinux/default/policy/policy.33');
  const count = Number(arg('--queries', '10000'));
  if (!existsSync(join(dist, 'selinux/access.js'))) {
    console.error('bench/selinux.mjs: dist/ is missing: run `npm run build` first');
    process.exit(2);
  }
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const helper = execFileSync('sh', [join(root, 'test/selinux/reference/build-sepol-av.sh')], { encoding: 'utf8' }).trim();
  const self = fileURLToPath(import.meta.url);
  const mainJs = join(dist, 'cli/main.js');

  // One question, whole process.
  const oursArgs = existsSync(mainJs)
    ? [mainJs, 'query', '--policy', policyPath, '-s', SOURCE, '-t', TARGET, '-c', 'file', '-p', 'read']
    : [self, '--worker', 'one', policyPath];
  const ours1 = repeat(runs, () => measure(process.execPath, oursArgs));
  const sesearch = repeat(runs, () => measure('sesearch', ['--allow', '-s', 'svirt_t', '-t', 'public_content_t', '-c', 'file', '-p', 'read', policyPath]));
  const helper1 = repeat(runs, () => measure(helper, [policyPath], `${SOURCE}\t${TARGET}\tfile\tread\n`));

  // Throughput.
  const queries = generateQueries(helper, policyPath, count);
  const jsonl = join(tmp, 'queries.jsonl');
  const answers = join(tmp, 'answers.txt');
  writeFileSync(jsonl, queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  const tsv = queries.map(toTsv).join('\n') + '\n';
  const tRuns = Math.max(1, Math.min(runs, 3));
  const oursN = [];
  for (let i = 0; i < tRuns; i++) {
    const m = measure(process.execPath, [self, '--worker', 'throughput', policyPath, jsonl, answers]);
    oursN.push({ ...m, ...JSON.parse(m.stdout.trim().split('\n').at(-1)) });
  }
  const helperN = repeat(tRuns, () => measure(helper, [policyPath], tsv));
  const ref = helperN.last.stdout.split('\n').filter(Boolean).map((l) => (l.startsWith('ok\t') ? l.split('\t')[1] : 'error'));
  const got = readFileSync(answers, 'utf8').split('\n').filter(Boolean);
  const agree = ref.filter((r, i) => r === got[i]).length;

  const oursWall = median(oursN.map((r) => r.wallMs));
  const oursCpu = median(oursN.map((r) => r.cpuMs));
  const oursQueryMs = median(oursN.map((r) => r.queryMs));
  const oursRss = Math.max(...oursN.map((r) => r.rssMB));
  const qps = (ms) => count / (ms / 1000);
  const both = (m) => `${fmt(m.wallMs)} ms wall, ${fmt(m.cpuMs)} ms cpu`;
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  const ratio = (a, b) => `${fmt(a.wallMs / b.wallMs, 3)} wall, ${fmt(a.cpuMs / b.cpuMs, 3)} cpu`;

  const rows = [
    ['one question: virt-seclabel query (process)', both(ours1), '', ''],
    ['one question: sesearch --allow', both(sesearch), '', ''],
    ['one question: libsepol helper (load + 1)', both(helper1), '', ''],
    ['ours / sesearch', ratio(ours1, sesearch), '<= 0.050', verdict(ours1.wallMs / sesearch.wallMs <= 0.05)],
    ['ours / libsepol helper', ratio(ours1, helper1), '<= 1.000', verdict(ours1.wallMs <= helper1.wallMs)],
    [`throughput ${count}: ours, whole process`, `${fmt(qps(oursWall))} q/s wall, ${fmt(qps(oursCpu))} q/s cpu`, '', ''],
    [`throughput ${count}: ours, queries only`, `${fmt(qps(oursQueryMs))} q/s (${fmt(oursQueryMs)} ms)`, '', ''],
    [`throughput ${count}: libsepol helper`, `${fmt(qps(helperN.wallMs))} q/s wall, ${fmt(qps(helperN.cpuMs))} q/s cpu`, '', ''],
    ['ours / helper throughput (whole process)', `${fmt(helperN.wallMs / oursWall, 3)} wall, ${fmt(helperN.cpuMs / oursCpu, 3)} cpu`, '>= 1.000', verdict(oursWall <= helperN.wallMs)],
    ['peak RSS: ours one question', `${fmt(ours1.rssMB, 1)} MB`, '<= 150', verdict(ours1.rssMB <= 150)],
    [`peak RSS: ours ${count} queries`, `${fmt(oursRss, 1)} MB`, '<= 150', verdict(oursRss <= 150)],
    ['peak RSS: sesearch / helper', `${fmt(sesearch.rssMB, 1)} / ${fmt(helperN.rssMB, 1)} MB`, '', ''],
    [`answers agreeing with libsepol (${count})`, `${agree}/${ref.length}`, `${ref.length}/${ref.length}`, verdict(agree === ref.length)],
  ];
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  console.log(`SELinux bench on ${policyPath}: medians of ${runs} runs (throughput: ${tRuns}); load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(['measure', 'value', 'target', 'result'].map((h, i) => h.padEnd(w[i])).join(' | '));
  for (const r of rows) console.log(r.map((c, i) => String(c ?? '').padEnd(w[i])).join(' | '));
}

if (process.argv[2] === '--worker') {
  const [, , , mode, ...rest] = process.argv;
  await (mode === 'one' ? workerOne(rest[0]) : workerThroughput(rest[0], rest[1], rest[2]));
} else {
  await main();
}
