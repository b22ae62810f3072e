#!/usr/bin/env node
/**
 * What the AppArmor rows cost (issue 24): `explain --json` over N one-disk domain files with
 * `--models dac` and with `--models dac,apparmor`, interleaved rounds, medians of wall time. The apparmor
 * side runs the host's virt-aa-helper once per domain (dry run) and reads /etc/apparmor.d once per domain;
 * the ratio and the marginal cost per domain are printed, next to virt-aa-helper's own time per run.
 * Needs this host's virt-aa-helper and the apparmor package's abstractions; changes nothing on the host
 * (the domain files are written under .tmp/bench-apparmor).
 *
 * Usage: npm run build && node bench/apparmor.mjs [--runs N] [--sizes 1,10]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '5'));
const sizes = arg('--sizes', '1,10').split(',').map(Number);
const VAH = '/usr/lib/libvirt/virt-aa-helper';
if (!existsSync(VAH) || !existsSync('/etc/apparmor.d/abstractions/base')) {
  console.error(`bench/apparmor: needs ${VAH} and the apparmor package`);
  process.exit(2);
}
const tmp = join(root, '.tmp', 'bench-apparmor');
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const uuid = (n) => `be0c0000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const files = (n) =>
  Array.from({ length: n }, (_, i) => {
    const f = join(tmp, `d${n}-${i}.xml`);
    writeFileSync(f, `<domain type='kvm'>\n  <name>bench-${i}</name>\n  <uuid>${uuid(i)}</uuid>\n  <memory>65536</memory>\n  <os><type arch='x86_64'>hvm</type></os>\n  <devices>\n    <disk type='file' device='cdrom'><source file='/usr/share/qemu/OVMF.fd'/><target dev='sda'/><readonly/></disk>\n  </devices>\n</domain>\n`);
    return f;
  });
const main = join(root, 'dist', 'cli', 'main.js');
const time = (args, input) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(args[0], args.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0 && args[0] !== VAH) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const vahMs = [];
const xml1 = files(1);
for (let i = 0; i < runs; i++) vahMs.push(time([VAH, '-d', '-c', '-u', `libvirt-${uuid(0)}`], spawnSync('cat', xml1, { encoding: 'utf8' }).stdout));
console.log(`virt-aa-helper -d -c alone: ${median(vahMs).toFixed(0)} ms per run`);
const per = {};
for (const n of sizes) {
  const fs = files(n);
  const dac = [];
  const aa = [];
  for (let i = 0; i < runs; i++) {
    dac.push(time([process.execPath, main, 'explain', '--json', '--models', 'dac', ...fs]));
    aa.push(time([process.execPath, main, 'explain', '--json', '--models', 'dac,apparmor', ...fs]));
  }
  per[n] = { dac: median(dac), aa: median(aa) };
  console.log(`${n} domain(s): dac ${per[n].dac.toFixed(0)} ms, dac+apparmor ${per[n].aa.toFixed(0)} ms, ratio ${(per[n].aa / per[n].dac).toFixed(2)}x, apparmor adds ${((per[n].aa - per[n].dac) / n).toFixed(0)} ms per domain`);
}
if (sizes.length > 1) {
  const [a, b] = [sizes[0], sizes[sizes.length - 1]];
  console.log(`marginal apparmor cost per domain from ${a} to ${b}: ${((per[b].aa - per[b].dac - (per[a].aa - per[a].dac)) / (b - a)).toFixed(0)} ms`);
}
rmSync(tmp, { recursive: true, force: true });
