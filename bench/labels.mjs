#!/usr/bin/env node
/**
 * `labels` bench: the whole list for one policy (Debian's default by default) as a whole process,
 * `node dist/cli/main.js labels --policy P` (and with --json), next to
 * `sesearch --allow -s svirt_t -c file -p read P`, which only prints the raw rules for one permission of
 * one class (attributes unexpanded, no constraints, no MCS, no other booleans), measured side by side in
 * one run: the commands alternate, each is run --runs N times (default 5), medians are printed, and the
 * ratio labels / sesearch. Also the sizes of both answers, so nobody compares an empty list.
 *
 * Usage: npm run build && node bench/labels.mjs [--runs N] [--policy FILE]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The shipped command's parsed-policy cache in the bench's own directory, not the user's: runs after the
// first take the model from it, as a user's do (bench/startup.mjs measures the first run on its own).
process.env.VIRT_SECLABEL_CACHE_DIR ||= join(root, '.tmp', 'bench-policy-cache');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

const runs = Number(arg('--runs', '5'));
const policy = arg('--policy', '/etc/selinux/default/policy/policy.33');

const commands = [
  { name: 'virt-seclabel labels', argv: [process.execPath, join(root, 'dist/cli/main.js'), 'labels', '--policy', policy] },
  { name: 'virt-seclabel labels --json', argv: [process.execPath, join(root, 'dist/cli/main.js'), 'labels', '--policy', policy, '--json'] },
  { name: 'sesearch --allow -s svirt_t -c file -p read', argv: ['sesearch', '--allow', '-s', 'svirt_t', '-c', 'file', '-p', 'read', policy] },
];

function once(c) {
  const t0 = performance.now();
  const r = spawnSync(c.argv[0], c.argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}): ${r.stderr}`);
  return { ms, out: r.stdout };
}

const times = new Map(commands.map((c) => [c.name, []]));
const outputs = new Map();
for (let i = 0; i < runs; i++) {
  for (const c of commands) {
    const { ms, out } = once(c);
    times.get(c.name).push(ms);
    outputs.set(c.name, out);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const json = JSON.parse(outputs.get('virt-seclabel labels --json'));
const rules = outputs.get('sesearch --allow -s svirt_t -c file -p read').split('\n').filter((l) => l.startsWith('allow')).length;
console.log(`policy ${policy}, ${runs} runs each, alternating, whole-process wall time (median)`);
for (const c of commands) console.log(`  ${c.name.padEnd(46)} ${median(times.get(c.name)).toFixed(0).padStart(6)} ms`);
const ratio = median(times.get('virt-seclabel labels')) / median(times.get('sesearch --allow -s svirt_t -c file -p read'));
console.log(`  ratio labels / sesearch: ${ratio.toFixed(2)}`);
console.log(`  answers: labels lists ${json.usable.length} (use, class, type) entries over ${new Set(json.usable.map((u) => u.type)).size} types and ${json.booleanFlips.length} boolean-flip additions (every boolean flipped); sesearch prints ${rules} raw allow rules`);
