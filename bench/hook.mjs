#!/usr/bin/env node
/**
 * Hook bench: the whole process libvirtd waits for at each start, for a 4-disk domain whose disks all
 * carry relabel='no' (the most work the hook does): the installed qemu.d script (sh, then node running
 * `virt-seclabel hook`) at `prepare begin` (DAC) and at `start begin` (SELinux with the generated
 * label, Debian's policy via --policy), side by side with `node -e ''` (Node's own start-up, the floor
 * any Node hook pays) and with the script for an operation it ignores (`stopped end`: sh only).
 * Four real files on this host, in .tmp/bench-hook. Median and p90 of --runs N (default 20) each,
 * plus each median as a ratio of Node's start-up. Nothing is asserted: read the numbers.
 *
 * Usage: npm run build && node bench/hook.mjs [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--runs');
const runs = Number(i > 0 ? process.argv[i + 1] : 20);
const cli = join(root, 'dist', 'cli', 'main.js');
const policy = '/etc/selinux/default/policy/policy.33';
const tmp = join(root, '.tmp', 'bench-hook');

rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
chmodSync(tmp, 0o755);
const files = ['a', 'b', 'c', 'd'].map((n) => {
  const f = join(tmp, `${n}.img`);
  writeFileSync(f, Buffer.alloc(65536));
  chmodSync(f, 0o644);
  return f;
});
const disk = (f, t, model) => `    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${f}'>
        <seclabel model='${model}' relabel='no'/>
      </source>
      <target dev='${t}' bus='virtio'/>
      <readonly/>
    </disk>
`;
const domain = (model, seclabel = '') => `<domain type='kvm'>
  <name>bench-hook</name>
  <devices>
${files.map((f, n) => disk(f, `vd${'abcd'[n]}`, model)).join('')}  </devices>
${seclabel}</domain>
`;
const label = 'system_u:system_r:svirt_t:s0:c10,c20';
const generated = `  <seclabel type='dynamic' model='selinux' relabel='yes'><label>${label}</label></seclabel>\n`;

// The installed script, with this checkout's CLI (and, for start begin, the options of the SELinux half).
const { renderHookScript } = await import(pathToFileURL(join(root, 'dist', 'hook', 'script.js')).href);
const wrapper = (name, extra) => {
  const bin = join(tmp, `${name}-bin`);
  writeFileSync(bin, `#!/bin/sh\nexec ${process.execPath} ${cli} "$@" ${extra}\n`);
  chmodSync(bin, 0o755);
  const script = join(tmp, name);
  writeFileSync(script, renderHookScript(bin));
  chmodSync(script, 0o755);
  return script;
};
const dacScript = wrapper('hook-dac', '--hook-config /nonexistent');
const selinuxScript = wrapper('hook-selinux', `--hook-config /nonexistent --models dac,selinux --policy ${policy}`);

function time(cmd, args, input) {
  const t = [];
  for (let r = 0; r < runs; r++) {
    const s = performance.now();
    const p = spawnSync(cmd, args, { input, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', HOME: '/root' } });
    t.push(performance.now() - s);
    if (p.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${p.status}: ${p.stderr}`);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], p90: t[Math.floor(t.length * 0.9)] };
}

const floor = time(process.execPath, ['-e', '']);
const rows = [
  ["node -e '' (Node start-up)", floor],
  ['hook script, stopped end (ignored)', time('sh', [dacScript, 'bench-hook', 'stopped', 'end', '-'], domain('dac'))],
  ['hook script, prepare begin, 4 DAC relabel=no', time('sh', [dacScript, 'bench-hook', 'prepare', 'begin', '-'], domain('dac'))],
  ['hook script, start begin, 4 SELinux relabel=no', time('sh', [selinuxScript, 'bench-hook', 'start', 'begin', '-'], domain('selinux', generated))],
];
console.log(`hook bench: ${runs} runs each, whole process, milliseconds`);
for (const [name, r] of rows)
  console.log(`${name.padEnd(50)} median ${r.median.toFixed(1).padStart(7)}  p90 ${r.p90.toFixed(1).padStart(7)}  ${(r.median / floor.median).toFixed(2)}x node start-up`);
rmSync(tmp, { recursive: true, force: true });
