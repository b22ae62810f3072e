#!/usr/bin/env node
/**
 * What the libvirt hook adds to a VM start (issue 21, item 4), measured side by side in one run:
 *
 * 1. `virsh start` of a small TCG domain (64 MiB, one ISO, no OS) on a private libvirtd
 *    (scripts/libvirtd-private-start.sh: its own mount namespace and hooks directory, so no other daemon
 *    runs the hook), then `virsh destroy`, in interleaved rounds: without the hook (the installed script
 *    made non-executable, libvirtd reloaded: it lists the executable hooks when it loads them) and with it, for a
 *    domain without any relabel='no' and for one whose ISO carries <seclabel model='dac' relabel='no'/>.
 *    Wall time of `virsh start`: the hook runs synchronously inside it.
 * 2. Each hook call on its own, with the XML libvirt really handed the hook for those starts (captured
 *    by a second qemu.d script during one start of each): the installed script for every operation a
 *    start and a destroy run it for, against `sh -c 'cat >/dev/null'` (the least any hook costs); and the
 *    Node call the script makes for an annotated domain (`virt-seclabel hook -- NAME prepare begin -`,
 *    the fast entry) against `node -e 0`, with the same call through the full command line (an option
 *    sends it through yargs and program.cjs) alongside. CPU time (user+sys of the child, wait4) and wall,
 *    medians.
 * 3. SELinux on a policy host: this machine's kernel has no SELinux, so the start-begin call with an
 *    SELinux annotation and the generated <label> is judged against Debian's policy file
 *    (--models dac,selinux --policy …, which goes through the full command line: the fast entry takes no
 *    options). The path walk needs a label on every directory from /, so that call runs chrooted into a
 *    labelled tmpfs root (private mount namespace; /usr, /etc, /work, … bind-mounted in), with `node -e 0`
 *    measured there too. Alongside, the same call with the policy store `hook install` fills (installed with
 *    --hook-config in the private state dir; bound to /etc/virt-seclabel/policy-store inside the chroot, /etc
 *    being an overlay of the host's there), and the fast entry itself (`hook -- NAME start begin -`, no options)
 *    over a selinuxfs stand-in mounted on /sys/fs inside the chroot (enforce, mls, policyvers, the policy
 *    bytes, the booleans at their defaults): what it reads on a real SELinux host. The stand-in answers no
 *    access question; the hook asks none of it (it decides with the engine on the policy it reads).
 * Nothing is asserted; the targets are printed with their ratios.
 *
 * Needs root, libvirtd, virsh, qemu-system-x86_64, unshare, setfattr, python3 and a build.
 * Usage: npm run build && node bench/hook-start.mjs [--runs N] [--calls N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 7);
const calls = arg('--calls', 21);
const cli = join(root, 'dist/cli/main.js');
const node = process.execPath;
const POLICY = '/etc/selinux/default/policy/policy.33';
const LABEL = 'system_u:system_r:svirt_t:s0:c10,c20';

const missing = [];
if (process.getuid?.() !== 0) missing.push('root');
for (const c of ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare', 'setfattr', 'python3'])
  if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) missing.push(c);
if (!existsSync(join(root, 'dist/cli/hook.cjs'))) missing.push('a build (npm run build)');
if (missing.length > 0) {
  console.log(`hook-start bench skipped: needs ${missing.join(', ')}`);
  process.exit(0);
}

/** The child's own rusage in microseconds (as bench/startup.mjs): user+sys, wall, exit code on fd 3. */
const RUNNER = `
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    if len(sys.argv) > 2 and sys.argv[1] == '--stdin':
        fd = os.open(sys.argv[2], os.O_RDONLY); os.dup2(fd, 0); args = sys.argv[3:]
    else:
        args = sys.argv[1:]
    os.execvp(args[0], args)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
os.write(3, ("%f %f %d" % (ru.ru_utime + ru.ru_stime, wall, os.waitstatus_to_exitcode(status))).encode())
`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
/** One measured run; `wrap` prefixes the runner (the chroot). Exit 0 and 10 are the hook's answers. */
function measure({ argv, stdin, env, wrap = [] }) {
  const r = spawnSync(wrap[0] ?? 'python3', [...wrap.slice(1), ...(wrap.length ? ['python3'] : []), '-c', RUNNER, ...(stdin ? ['--stdin', stdin] : []), ...argv], {
    env: env ?? { PATH: wrap.length ? '/usr/sbin:/usr/bin:/sbin:/bin' : '/usr/bin:/bin', LC_ALL: 'C' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const [cpu, wall, status] = String(r.output[3]).split(' ').map(Number);
  if (status !== 0 && status !== 10) throw new Error(`${argv.join(' ')}: exit ${status}: ${r.stderr}`);
  return { cpuMs: cpu * 1000, wallMs: wall * 1000, stderr: r.stderr };
}
/** Every command once per round, `n` rounds; medians by name. */
function sideBySide(commands, n) {
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < n; i++) for (const [k, c] of Object.entries(commands)) samples[k].push(measure(c));
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, { cpuMs: median(xs.map((x) => x.cpuMs)), wallMs: median(xs.map((x) => x.wallMs)), stderr: xs.at(-1).stderr }]));
}

mkdirSync(join(root, '.tmp'), { recursive: true });
const state = mkdtempSync(join(root, '.tmp/bench-hook-start-libvirtd-'));
const work = mkdtempSync('/tmp/bench-hook-start-');
chmodSync(work, 0o755);
const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
const virsh = (...args) => spawnSync('virsh', ['-c', uri, ...args], { encoding: 'utf8' });
const defined = [];
let chrootDir;
let chrootMounts = 'n/a';

function cleanUp() {
  for (const n of defined) {
    virsh('destroy', n);
    virsh('undefine', n);
  }
  spawnSync('bash', [join(root, 'scripts/libvirtd-private-stop.sh'), state], { stdio: 'inherit' });
  rmSync(state, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  if (chrootDir) rmSync(chrootDir, { recursive: true, force: true });
}

try {
  execFileSync('bash', [join(root, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
  const reload = () => {
    execFileSync('kill', ['-HUP', readFileSync(join(state, 'libvirtd.pid'), 'utf8').trim()]);
    execFileSync('sleep', ['1']);
    if (virsh('version').status !== 0) throw new Error('the private libvirtd did not answer after SIGHUP');
  };

  mkdirSync(join(work, 'iso'), { mode: 0o755 });
  // One ISO each: libvirt chowns the plain domain's to the qemu user for good (a read-only disk is never
  // given back), which must not make the annotated one's accessible.
  const isoOf = { plain: join(work, 'iso', 'plain.iso'), dac: join(work, 'iso', 'a.iso') };
  for (const f of Object.values(isoOf)) {
    writeFileSync(f, Buffer.alloc(1 << 20));
    chmodSync(f, 0o644);
  }
  const iso = isoOf.dac;
  const domain = (name, seclabel) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      ${seclabel ? `<source file='${isoOf.dac}'>\n        <seclabel model='dac' relabel='no'/>\n      </source>` : `<source file='${isoOf.plain}'/>`}
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
`;
  const names = { plain: `bench-hook-plain-${process.pid}`, dac: `bench-hook-dac-${process.pid}` };
  for (const [k, n] of Object.entries(names)) {
    writeFileSync(join(work, `${n}.xml`), domain(n, k === 'dac'));
    const d = virsh('define', join(work, `${n}.xml`));
    if (d.status !== 0) throw new Error(`define ${n}: ${d.stderr}`);
    defined.push(n);
  }

  // The hook as a user installs it from this checkout, and a capture script for the XML libvirt hands hooks.
  // --hook-config in the private state: `hook install` fills the hook's policy store next to it (as root),
  // which the bench binds to /etc/virt-seclabel/policy-store inside the chroot (part 3), never on this host.
  const storeDir = join(state, 'etc', 'policy-store');
  const inst = spawnSync(node, [cli, 'hook', 'install', '--hooks-dir', join(state, 'hooks'), '--binary', cli, '--hook-config', join(state, 'etc', 'hook.conf')], { encoding: 'utf8' });
  if (inst.status !== 0) throw new Error(`hook install: ${inst.stderr}`);
  const script = join(state, 'hooks/qemu.d/virt-seclabel');
  const captured = join(work, 'captured');
  mkdirSync(captured);
  const capture = join(state, 'hooks/qemu.d/00-capture');
  writeFileSync(capture, `#!/bin/sh\ncat > '${captured}'/"$1.$2.$3.xml"\n`);
  chmodSync(capture, 0o755);
  reload();
  const startStop = (n) => {
    const t0 = performance.now();
    const s = virsh('start', n);
    const wallMs = performance.now() - t0;
    if (s.status !== 0) throw new Error(`start ${n}: ${s.stderr}`);
    const d = virsh('destroy', n);
    if (d.status !== 0) throw new Error(`destroy ${n}: ${d.stderr}`);
    return wallMs;
  };
  for (const n of Object.values(names)) startStop(n);
  chmodSync(capture, 0o644);
  const ops = readdirSync(captured).filter((f) => f.startsWith(names.plain)).map((f) => f.slice(names.plain.length + 1, -'.xml'.length).split('.'));
  const xmlOf = (n, op) => join(captured, `${n}.${op[0]}.${op[1]}.xml`);

  // "No hook" is the script made non-executable and libvirtd reloaded (SIGHUP): libvirt lists the
  // executable hooks when it (re)loads them. With the ISO locked, the hook refuses the start in the one
  // case, and in the other the start is QEMU's business (its own error, or a start): the switch works.
  let mode = 0o755;
  const hookMode = (m) => {
    if (m === mode) return;
    chmodSync(script, m);
    reload();
    mode = m;
  };
  chmodSync(iso, 0o600);
  for (const [m, hookSpeaks] of [[0o644, false], [0o755, true]]) {
    hookMode(m);
    const r = virsh('start', names.dac);
    if (r.status === 0) virsh('destroy', names.dac);
    if (r.stderr.includes('virt-seclabel:') !== hookSpeaks || (hookSpeaks && r.status === 0))
      throw new Error(`with the script ${m.toString(8)}, a start with a locked ISO gave: ${r.status} ${r.stderr}`);
  }
  chmodSync(iso, 0o644);

  // 1. Whole starts, interleaved: each round both domains with the hook and without, the order alternating.
  const rows = {
    'no hook, no annotation': [names.plain, 0o644],
    'no hook, DAC annotation': [names.dac, 0o644],
    'hook, no annotation': [names.plain, 0o755],
    'hook, DAC annotation': [names.dac, 0o755],
  };
  const starts = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    const order = Object.entries(rows).sort(([, [, a]], [, [, b]]) => (i % 2 ? a - b : b - a));
    for (const [k, [n, m]] of order) {
      hookMode(m);
      starts[k].push(startStop(n));
    }
  }
  hookMode(0o755);
  const start = Object.fromEntries(Object.entries(starts).map(([k, xs]) => [k, median(xs)]));

  // 2. Each call on its own, with the captured XML.
  const env = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };
  const perCall = {
    'node -e 0': { argv: [node, '-e', '0'] },
    "sh -c 'cat >/dev/null' (any hook's floor)": { argv: ['sh', '-c', 'cat >/dev/null'], stdin: xmlOf(names.plain, ['prepare', 'begin', '-']) },
  };
  for (const op of ops) perCall[`script, no annotation, ${op.join(' ')}`] = { argv: ['sh', script, names.plain, ...op, '-'], stdin: xmlOf(names.plain, op), env };
  perCall['script, DAC annotation, prepare begin'] = { argv: ['sh', script, names.dac, 'prepare', 'begin', '-'], stdin: xmlOf(names.dac, ['prepare', 'begin', '-']), env };
  perCall['script, DAC annotation, start begin'] = { argv: ['sh', script, names.dac, 'start', 'begin', '-'], stdin: xmlOf(names.dac, ['start', 'begin', '-']), env };
  perCall['hook -- prepare begin (fast entry), DAC'] = { argv: [node, cli, 'hook', '--', names.dac, 'prepare', 'begin', '-'], stdin: xmlOf(names.dac, ['prepare', 'begin', '-']) };
  perCall['hook --hook-config … (full CLI), DAC'] = {
    argv: [node, cli, 'hook', '--hook-config', '/etc/virt-seclabel/hook.conf', '--', names.dac, 'prepare', 'begin', '-'],
    stdin: xmlOf(names.dac, ['prepare', 'begin', '-']),
  };
  const m = sideBySide(perCall, calls);

  // 3. SELinux against the policy file, chrooted into a labelled root.
  let se;
  if (existsSync(POLICY)) {
    chrootDir = mkdtempSync('/tmp/bench-hook-start-root-');
    chmodSync(chrootDir, 0o755);
    const seXml = join(work, 'selinux.xml');
    writeFileSync(
      seXml,
      readFileSync(xmlOf(names.dac, ['start', 'begin', '-']), 'utf8')
        .replace(/<source file='[^']*'/, "<source file='/srv/iso/a.iso'")
        .replace("<seclabel model='dac' relabel='no'/>", "<seclabel model='selinux' relabel='no'/>")
        .replace('</devices>', `</devices>\n  <seclabel type='dynamic' model='selinux' relabel='yes'>\n    <label>${LABEL}</label>\n    <imagelabel>${LABEL.replace('system_r:svirt_t', 'object_r:svirt_image_t')}</imagelabel>\n  </seclabel>`),
    );
    // A selinuxfs stand-in for the fast entry (which reads the running kernel's policy and booleans from
    // /sys/fs/selinux, and takes no --policy): enforce, mls, policyvers, the policy bytes, the booleans
    // at the policy's defaults. Mounted over /sys/fs inside the chroot only.
    const fakeSelinuxfs = join(work, 'selinuxfs');
    mkdirSync(join(fakeSelinuxfs, 'booleans'), { recursive: true });
    const policyBytes = readFileSync(POLICY);
    writeFileSync(join(fakeSelinuxfs, 'policy'), policyBytes);
    writeFileSync(join(fakeSelinuxfs, 'enforce'), '1');
    writeFileSync(join(fakeSelinuxfs, 'policyvers'), '33');
    const { loadPolicy } = await import(join(root, 'dist/selinux/policy/load.js'));
    const parsed = loadPolicy(policyBytes);
    if (!parsed.ok) throw new Error(`${POLICY}: ${parsed.error.message}`);
    writeFileSync(join(fakeSelinuxfs, 'mls'), parsed.value.mls ? '1' : '0');
    for (const b of parsed.value.bools.byValue) if (b) writeFileSync(join(fakeSelinuxfs, 'booleans', b.name), b.defaultState ? '1 1' : '0 0');
    // The status page (version 1, sequence 0, enforcing 1, policyload 1, deny_unknown 0).
    const page = Buffer.alloc(20);
    page.writeUInt32LE(1, 0);
    page.writeUInt32LE(1, 8);
    page.writeUInt32LE(1, 12);
    writeFileSync(join(fakeSelinuxfs, 'status'), page);
    // What hook install writes on a host whose kernel is the stand-in: the policy's bytes and the kernel's
    // instance next to the entries (the hook reads them while the kernel keeps that policy); the plain store
    // stands for the same store after a policy load or boolean change.
    const storeWithCopy = join(state, 'etc', 'policy-store-copy');
    execFileSync('cp', ['-a', storeDir, storeWithCopy]);
    writeFileSync(join(storeWithCopy, 'running-policy.bin'), policyBytes, { mode: 0o600 });
    // The record names the kernel's instance and the projection install made from those bytes (its head:
    // the policy part's length, the payload's length and CRC), as hook install writes it on such a host.
    const head = readFileSync(join(storeDir, 'projection.bin')).subarray(0, 24);
    const record = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()} 1\nprojection ${head.readUInt32LE(12)} ${head.readUInt32LE(16)} ${head.readUInt32LE(20)}\n`;
    writeFileSync(join(storeWithCopy, 'running-policy.instance'), record, { mode: 0o600 });
    const binds = ['usr', 'work', 'proc', 'dev', 'tmp', 'sys', 'run'].filter((d) => existsSync(`/${d}`));
    // /etc through an overlay, so that /etc/virt-seclabel inside is the bench's own (the policy store, or
    // none) at the cost of one mount: the calls read /proc/self/mountinfo, and binding /etc entry by entry
    // (as this bench did) gave the chroot some 200 mounts, which no host has (this one has about 20; the
    // mount count is printed below), costing the DAC call in the chroot ~10 ms over the same call outside it.
    const inner = `set -e
r=$1 store=$2 selinuxfs=$3
mount -t tmpfs -o mode=0755 tmpfs "$r"
for d in ${binds.join(' ')}; do mkdir "$r/$d"; mount --rbind "/$d" "$r/$d"; done
mkdir "$r/etc" "$r/.etc-overlay"
mount -t tmpfs -o mode=0700 tmpfs "$r/.etc-overlay"
mkdir "$r/.etc-overlay/upper" "$r/.etc-overlay/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$r/.etc-overlay/upper,workdir=$r/.etc-overlay/work" "$r/etc"
rm -rf "$r/etc/virt-seclabel"
mkdir -m 0755 "$r/etc/virt-seclabel"
if [ "$store" != - ]; then mkdir -m 0700 "$r/etc/virt-seclabel/policy-store"; mount --bind "$store" "$r/etc/virt-seclabel/policy-store"; fi
if [ "$selinuxfs" != - ]; then mount -t tmpfs -o mode=0755 tmpfs "$r/sys/fs"; mkdir "$r/sys/fs/selinux"; mount --bind "$selinuxfs" "$r/sys/fs/selinux"; fi
for l in bin lib lib64 sbin; do [ -L "/$l" ] && ln -s "$(readlink "/$l")" "$r/$l"; done
mkdir -p "$r/srv/iso"
cp '${iso}' "$r/srv/iso/a.iso"
chmod 0644 "$r/srv/iso/a.iso"
setfattr -n security.selinux -v system_u:object_r:root_t:s0 "$r"
setfattr -n security.selinux -v system_u:object_r:var_t:s0 "$r/srv"
setfattr -n security.selinux -v system_u:object_r:public_content_t:s0 "$r/srv/iso"
setfattr -n security.selinux -v system_u:object_r:public_content_t:s0 "$r/srv/iso/a.iso"
shift 3
exec chroot "$r" "$@"`;
    const wrapWith = (store, selinuxfs) => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', inner, 'bench-chroot', chrootDir, store ?? '-', selinuxfs ?? '-'];
    const wrap = wrapWith(undefined, undefined);
    if (!existsSync(storeDir)) throw new Error(`hook install did not fill the policy store ${storeDir}: ${inst.stdout}${inst.stderr}`);
    chrootMounts = spawnSync(wrap[0], [...wrap.slice(1), 'sh', '-c', 'wc -l < /proc/self/mountinfo'], { encoding: 'utf8' }).stdout.trim();
    const seArgs = ['--models', 'dac,selinux', '--policy', POLICY, '--', names.dac, 'start', 'begin', '-'];
    se = sideBySide(
      {
        'node -e 0 (chroot)': { argv: [node, '-e', '0'], wrap },
        'hook start begin, SELinux, --policy (full CLI, chroot)': { argv: [node, cli, 'hook', ...seArgs], stdin: seXml, wrap },
        'the same, with the policy store': { argv: [node, cli, 'hook', ...seArgs], stdin: seXml, wrap: wrapWith(storeDir, undefined) },
        'hook -- start begin (fast entry), SELinux, selinuxfs stand-in': { argv: [node, cli, 'hook', '--', names.dac, 'start', 'begin', '-'], stdin: seXml, wrap: wrapWith(undefined, fakeSelinuxfs) },
        'the same, with the policy store ': { argv: [node, cli, 'hook', '--', names.dac, 'start', 'begin', '-'], stdin: seXml, wrap: wrapWith(storeWithCopy, fakeSelinuxfs) },
        'the same, the kernel policy changed since install': { argv: [node, cli, 'hook', '--', names.dac, 'start', 'begin', '-'], stdin: seXml, wrap: wrapWith(storeDir, fakeSelinuxfs) },
        'hook prepare begin, DAC, --models dac (full CLI, chroot)': {
          argv: [node, cli, 'hook', '--models', 'dac', '--', names.dac, 'prepare', 'begin', '-'],
          stdin: xmlOf(names.dac, ['prepare', 'begin', '-']),
          wrap,
        },
      },
      calls,
    );
    for (const k of Object.keys(se)) {
      if (k.includes('SELinux') || k.includes('policy store') || k.includes('changed since install')) {
        if (se[k].stderr !== '') throw new Error(`${k}: the SELinux call did not judge the disk silently: ${se[k].stderr}`);
      }
    }
  }

  // Report.
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`hook-start bench: ${runs} interleaved rounds of virsh start + destroy, ${calls} of each call; load average ${load}; node ${process.version}`);
  console.log(`libvirt runs the hook for: ${ops.map((o) => o.join(' ')).join(', ')}`);
  console.log('\nvirsh start (wall ms, median)');
  for (const [k, v] of Object.entries(start)) console.log(`  ${k.padEnd(34)} ${fmt(v).padStart(8)}`);
  const addPlain = start['hook, no annotation'] - start['no hook, no annotation'];
  const addDac = start['hook, DAC annotation'] - start['no hook, DAC annotation'];
  console.log(`  added by the hook, no annotation  ${fmt(addPlain).padStart(8)}  (${fmt((100 * addPlain) / start['no hook, no annotation'])} % of the start)`);
  console.log(`  added by the hook, DAC annotation ${fmt(addDac).padStart(8)}  (${fmt((100 * addDac) / start['no hook, DAC annotation'])} % of the start)`);

  console.log('\neach call on its own                               cpu ms  wall ms');
  for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(48)} ${fmt(v.cpuMs).padStart(6)}  ${fmt(v.wallMs).padStart(7)}`);
  if (se) for (const [k, v] of Object.entries(se)) console.log(`  ${k.padEnd(48)} ${fmt(v.cpuMs).padStart(6)}  ${fmt(v.wallMs).padStart(7)}`);

  const base = m['node -e 0'];
  const scriptPlain = ops.map((op) => m[`script, no annotation, ${op.join(' ')}`]);
  const perStart = scriptPlain.reduce((a, r) => a + r.wallMs, 0);
  const floor = m["sh -c 'cat >/dev/null' (any hook's floor)"];
  const row = (name, value, target, unit = '') =>
    console.log(`  ${name.padEnd(64)} ${fmt(value, 2).padStart(7)}${unit}  target <= ${target}${unit}  ${value <= target ? 'MET' : `MISSED by ${fmt(value - target, 2)}${unit}`}`);
  console.log('\ntargets');
  const perStartCpu = scriptPlain.reduce((a, r) => a + r.cpuMs, 0);
  row(`no annotation: the script's wall time over the ${ops.length} calls of a start+destroy`, perStart, 10, ' ms');
  row(`  the same, above ${ops.length} runs of 'cat >/dev/null' (what any hook costs here)`, perStart - floor.wallMs * ops.length, 10, ' ms');
  console.log(
    `  (CPU: ${fmt(perStartCpu)} ms, ${fmt(perStartCpu - floor.cpuMs * ops.length)} above the floor; ${fmt(perStart / base.wallMs, 2)}× one node -e 0 in wall time; ` +
      `${fmt((100 * perStart) / start['no hook, no annotation'])} % of the start itself, ${fmt(start['no hook, no annotation'])} ms)`,
  );
  row('DAC annotation: hook -- prepare begin (fast entry) CPU / node -e 0', m['hook -- prepare begin (fast entry), DAC'].cpuMs / base.cpuMs, 1.5);
  console.log(`  (wall ratio ${fmt(m['hook -- prepare begin (fast entry), DAC'].wallMs / base.wallMs, 2)}; through the full command line: CPU ${fmt(m['hook --hook-config … (full CLI), DAC'].cpuMs / base.cpuMs, 2)}×)`);
  if (se) {
    const b = se['node -e 0 (chroot)'];
    console.log(`  (mounts in /proc/self/mountinfo: ${readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length} on this host, ${chrootMounts} in the chroot)`);
    row('SELinux annotation: start begin, --policy (full CLI) CPU / node -e 0', se['hook start begin, SELinux, --policy (full CLI, chroot)'].cpuMs / b.cpuMs, 1.5);
    row('  the same with the policy store hook install fills', se['the same, with the policy store'].cpuMs / b.cpuMs, 1.5);
    row('SELinux annotation: start begin (fast entry, selinuxfs stand-in) CPU / node -e 0', se['hook -- start begin (fast entry), SELinux, selinuxfs stand-in'].cpuMs / b.cpuMs, 1.5);
    row('  the same with the policy store hook install fills', se['the same, with the policy store '].cpuMs / b.cpuMs, 1.5);
    row('  the same after a policy load or boolean change since install', se['the same, the kernel policy changed since install'].cpuMs / b.cpuMs, 1.5);
    const saved = m['hook --hook-config … (full CLI), DAC'].cpuMs - m['hook -- prepare begin (fast entry), DAC'].cpuMs;
    const estimate = (se['hook start begin, SELinux, --policy (full CLI, chroot)'].cpuMs - saved) / b.cpuMs;
    console.log(`  (DAC through the full CLI in the same chroot: ${fmt(se['hook prepare begin, DAC, --models dac (full CLI, chroot)'].cpuMs / b.cpuMs, 2)}×.`);
    console.log(`   The fast entry takes no --policy; on a policy host it would save what it saves for DAC, ${fmt(saved)} ms: an estimate, not a measurement, of ${fmt(estimate, 2)}×)`);
  } else {
    console.log(`  SELinux annotation: not measured (${POLICY} is missing)`);
  }
} finally {
  cleanUp();
}
