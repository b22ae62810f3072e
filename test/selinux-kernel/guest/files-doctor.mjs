/**
 * Runs inside the enforcing SELinux guest (guest/libvirt.sh, mode files-doctor): the SELinux halves of
 * issue 22 item 6 (files beyond disks under enforcing svirt) and issue 25 item 4 (libvirt's SELinux records
 * made stale by a crash, doctor, the "already in use" twin, an ISO left labelled). libvirtd and virtlogd
 * are already starting (their domains permissive, QEMU's svirt_t enforced). Prints one JSON object; the
 * test (../files-doctor-enforcing.test.ts) compares the tool's per-file verdicts with what the kernel and
 * libvirt did. Plain JavaScript: it runs on the guest's node without a build step.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';

const repo = process.argv[2];
const CLI = `${repo}/dist/cli/main.js`;
const out = { waitedForLibvirtSeconds: 0, seconds: 0, cliSeconds: 0, annotate: null, check: null, files: {}, socketDefault: null, doctor: {}, errors: [] };
const t0 = Date.now();

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const virsh = (...args) => run('virsh', ['-c', 'qemu:///system', ...args]);
const cli = (...args) => run('node', [CLI, ...args]);
const obj = (type, level = 's0') => `system_u:object_r:${type}:${level}`;
const getLabel = (p) => {
  const r = run('getfattr', ['--only-values', '-n', 'security.selinux', p]);
  return r.status === 0 ? r.stdout.replace(/\0$/, '') : null;
};
const must = (r, what) => {
  if (r.status !== 0) out.errors.push(`${what}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r;
};
const setLabel = (p, ctx) => must(run('setfattr', ['-n', 'security.selinux', '-v', ctx, p]), `setfattr ${ctx} ${p}`);
const progress = (msg) => { try { fs.appendFileSync('/dev/console', `vsl-progress: ${((Date.now() - t0) / 1000).toFixed(0)} s ${msg}\n`); } catch { /* no console */ } };
const sleep = (s) => spawnSync('sleep', [String(s)]);
const state = (p) => {
  try {
    const st = fs.statSync(p);
    return { label: getLabel(p), owner: `${st.uid}:${st.gid}`, mode: (st.mode & 0o7777).toString(8), ino: st.ino };
  } catch (e) {
    return { label: null, owner: null, mode: null, ino: null, error: String(e.code ?? e) };
  }
};
/** libvirt's records on a file, name (after trusted.libvirt.security.) → value. */
const records = (p) => {
  const r = run('getfattr', ['--absolute-names', '-d', '-m', '^trusted\\.libvirt\\.', p]);
  const rec = {};
  for (const l of r.stdout.split('\n')) {
    const m = /^trusted\.libvirt\.security\.([^=]+)="(.*)"$/.exec(l);
    if (m) rec[m[1]] = m[2];
  }
  return rec;
};
const waitForLibvirt = (limit) => {
  for (let i = 0; i < limit; i++) {
    if (virsh('version').status === 0) return true;
    sleep(1);
  }
  return false;
};

/** The AVC denials since the last `dmesg -C`, each with its own fields. */
const denials = () =>
  run('dmesg', []).stdout.split('\n').filter((l) => l.includes('avc:') && l.includes('denied')).map((l) => ({
    perms: /denied\s+\{([^}]*)\}/.exec(l)?.[1]?.trim(),
    scontext: / scontext=(\S+)/.exec(l)?.[1],
    tcontext: / tcontext=(\S+)/.exec(l)?.[1],
    tclass: / tclass=(\S+)/.exec(l)?.[1],
    name: / name="([^"]*)"/.exec(l)?.[1],
    path: / path="([^"]*)"/.exec(l)?.[1],
    ino: Number(/ ino=(\d+)/.exec(l)?.[1] ?? -1),
    permissive: / permissive=1/.test(l),
  }));
/** Denials that name this file: its inode and its own name or path (inode numbers repeat across mounts). */
const denialsOf = (all, p, ino) => all.filter((d) => d.ino === ino && (d.path === p || d.name === p.split('/').pop()));

const domain = (n, os, devices = '', commandline = '', seclabel = '') => `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${n}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
${os}  </os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${devices}    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
${seclabel}${commandline}</domain>
`;
const disk = (file, dev, ro = false) => `    <disk type='file' device='${ro ? 'cdrom' : 'disk'}'>
      <driver name='qemu' type='raw'/>
      <source file='${file}'/>
      <target dev='${dev}' bus='${ro ? 'sata' : 'virtio'}'/>${ro ? '\n      <readonly/>' : ''}
    </disk>
`;

function define(n, xml) {
  const f = `/tmp/${n}-${Date.now()}.xml`;
  fs.writeFileSync(f, xml);
  return must(virsh('define', f), `define ${n}`);
}
/** Start paused (QEMU has opened every file by then); `watch`: the files to record before, while running, after the stop. */
function start(n, xml, watch) {
  progress(`start ${n}`);
  run('dmesg', ['-C']);
  define(n, xml);
  const before = Object.fromEntries(watch.map((p) => [p, state(p)]));
  const s0 = Date.now();
  const st = virsh('start', '--paused', n);
  const rec = { started: st.status === 0, startMessage: (st.stderr || '').trim(), startSeconds: (Date.now() - s0) / 1000, domstate: virsh('domstate', n).stdout.trim(), before, during: {}, after: {}, denials: {}, otherSvirtDenials: [], records: {} };
  for (const p of watch) { rec.during[p] = state(p); rec.records[p] = records(p); }
  const all = denials();
  for (const p of watch) rec.denials[p] = denialsOf(all, p, before[p].ino);
  const attributed = new Set(Object.values(rec.denials).flat());
  rec.otherSvirtDenials = all.filter((d) => !attributed.has(d) && /:svirt(_tcg)?_t:/.test(d.scontext ?? ''));
  if (!rec.started) {
    const log = `/var/log/libvirt/qemu/${n}.log`;
    rec.qemuLog = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => /qemu-system-x86_64: /.test(l)).slice(-3).join('\n') : '';
  } else must(virsh('destroy', n), `destroy ${n}`);
  for (const p of watch) rec.after[p] = state(p);
  must(virsh('undefine', '--keep-nvram', n), `undefine ${n}`);
  return rec;
}

// ---- libvirtd ------------------------------------------------------------------------------------
if (!waitForLibvirt(900)) out.errors.push(`libvirtd never answered: ${(() => { try { return fs.readFileSync('/tmp/libvirtd.log', 'utf8').slice(-2000); } catch { return ''; } })()}`);
out.waitedForLibvirtSeconds = (Date.now() - t0) / 1000;
progress(`libvirtd answers after ${out.waitedForLibvirtSeconds} s`);
must(run('setfattr', ['-n', 'security.selinux', '-v', obj('root_t'), '/']), 'label /');
setLabel('/srv', obj('var_t'));

// ---- issue 22 item 6: files beyond disks -----------------------------------------------------------
const D = '/srv/i22';
fs.mkdirSync(D, { recursive: true });
setLabel(D, obj('var_t'));
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const USER = 1000;
const mkdir = (p, ctx, uid = 0) => {
  fs.mkdirSync(p, { recursive: true, mode: 0o755 });
  fs.chownSync(p, uid, uid);
  setLabel(p, ctx);
  return p;
};
const mkfile = (p, data, ctx, { uid = 0, mode = 0o644 } = {}) => {
  fs.writeFileSync(p, data);
  fs.chownSync(p, uid, uid);
  fs.chmodSync(p, mode);
  setLabel(p, ctx);
  return p;
};
/** The smallest image QEMU's x86 loader takes as a Linux kernel: "HdrS" at 0x202, protocol 2.15, 4 setup sectors. */
const fakeBzImage = () => {
  const b = Buffer.alloc(64 * 1024);
  b[0x1f1] = 4;
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x020f, 0x206);
  b[0x211] = 0x01;
  b.writeUInt32LE(0x100000, 0x214);
  b.writeUInt32LE(0x7fffffff, 0x22c);
  return b;
};

// The guest sees the host's tree as one label (lib_t, harness.ts); the firmware gets the label the policy's
// file contexts give its path (usr_t on Debian), on a copy bound over it, as on an installed host.
const codeLabel = must(run('matchpathcon', ['-n', OVMF_CODE]), 'matchpathcon').stdout.trim();
fs.copyFileSync(OVMF_CODE, '/run/i22-ovmf-code.fd');
setLabel('/run/i22-ovmf-code.fd', codeLabel);
must(run('mount', ['--bind', '/run/i22-ovmf-code.fd', OVMF_CODE]), 'bind the firmware');
// The 2M build stays as the host's tree labels it (lib_t): the tool's verdict on it is checked too.
const OVMF_CODE_2M = '/usr/share/OVMF/OVMF_CODE.fd';
const home = mkdir(`${D}/home`, obj('user_home_dir_t'), USER);
const vars = mkfile(`${home}/VARS.fd`, fs.readFileSync(OVMF_VARS), obj('user_home_t'), { uid: USER, mode: 0o600 });
must(run('setfacl', ['-m', 'u:libvirt-qemu:rw', vars]), 'setfacl vars');
const vars2m = mkfile(`${home}/VARS-2M.fd`, fs.readFileSync('/usr/share/OVMF/OVMF_VARS.fd'), obj('user_home_t'), { uid: USER, mode: 0o600 });
must(run('setfacl', ['-m', 'u:libvirt-qemu:rw', vars2m]), 'setfacl vars2m');
const serialLog = mkfile(`${D}/serial.log`, '', obj('var_t'), { mode: 0o600 });
const boot = mkdir(`${D}/boot`, obj('boot_t'));
const kernel = mkfile(`${boot}/vmlinuz`, fakeBzImage(), obj('boot_t'));
const initrd = mkfile(`${boot}/initrd.img`, Buffer.alloc(4096), obj('boot_t'));
const ignOk = mkfile(`${D}/ok.ign`, '{"ignition":{"version":"3.3.0"}}', obj('public_content_t'));
const ignDir = mkdir(`${D}/ign`, obj('user_home_dir_t'));
const ignDenied = mkfile(`${ignDir}/vm.ign`, '{"ignition":{"version":"3.3.0"}}', obj('user_home_t'));
const fwcfg = (file) => `  <qemu:commandline>\n    <qemu:arg value='-fw_cfg'/>\n    <qemu:arg value='name=opt/com.coreos/config,file=${file}'/>\n  </qemu:commandline>\n`;

// The elements decided in issue 22 but first started under enforcing svirt here.
// <sysinfo type='fwcfg'> entry: a 0600 root file QEMU could not read as it is (libvirt relabels it virt_content_t).
const fwcfgDir = mkdir(`${D}/fwcfg`, obj('var_t'));
const sysinfoBlob = mkfile(`${fwcfgDir}/blob.bin`, 'virt-seclabel fw_cfg entry', obj('user_home_t'), { mode: 0o600 });
// A unix socket QEMU connects to (mode='connect'), served by a process in libvirtd's domain (svirt_t may
// connectto virtd_t); the socket is labelled svirt_image_t:s0, which svirt_t may write, and owned by root
// 0755, which the qemu user may not: SELinux can be annotated, DAC must be chowned.
const sockDir = mkdir(`${D}/sock`, obj('var_t'));
const sock = `${sockDir}/console.sock`;
const listener = `const s=require('net').createServer(()=>{});s.listen(${JSON.stringify(sock)});setTimeout(()=>process.exit(0),900000);`;
spawn('sh', ['-c', `echo -n system_u:system_r:init_t:s0 > /proc/self/attr/current && exec runcon system_u:system_r:virtd_t:s0 /usr/bin/node -e "${listener.replace(/"/g, '\\"')}"`], { detached: true, stdio: 'ignore' }).unref();
for (let i = 0; i < 100 && !fs.existsSync(sock); i++) sleep(0.1);
if (fs.existsSync(sock)) { fs.chmodSync(sock, 0o755); setLabel(sock, obj('svirt_image_t')); } else out.errors.push(`the listener never made ${sock}`);
// What libvirt's SELinux restore falls back to for a path it has no record of: the policy's file contexts.
out.socketDefault = must(run('matchpathcon', ['-n', sock]), 'matchpathcon sock').stdout.trim();
// 9p shares: one where the policy's file contexts put a share under /srv (var_t), one in a user's home (user_home_t).
const share = mkdir(`${D}/share`, obj('var_t'));
mkfile(`${share}/hello.txt`, 'hello', obj('var_t'));
const homeShare = mkdir(`${home}/share`, obj('user_home_t'), USER);
// An nvdimm backing file of a user's (1000:1000 0600, user_home_t): both drivers relabel it, remembered.
const nvdimm = mkfile(`${home}/nvdimm.img`, Buffer.alloc(16 << 20), obj('user_home_t'), { uid: USER, mode: 0o600 });
// TPM emulator. swtpm as an installed host labels it (matchpathcon: bin_t on Debian), on a copy bound over
// the 9p one (lib_t); swtpm_setup's local CA and swtpm's log directory get private writable copies.
const SWTPM = '/usr/bin/swtpm';
const swtpmLabel = must(run('matchpathcon', ['-n', SWTPM]), 'matchpathcon swtpm').stdout.trim();
fs.copyFileSync(SWTPM, '/run/i22-swtpm');
fs.chmodSync('/run/i22-swtpm', 0o755);
setLabel('/run/i22-swtpm', swtpmLabel);
must(run('mount', ['--bind', '/run/i22-swtpm', SWTPM]), 'bind swtpm');
for (const d of ['/var/lib/swtpm-localca', '/var/log/swtpm']) {
  if (!fs.existsSync(d)) continue;
  must(run('sh', ['-c', `rm -rf /tmp/copy && mkdir /tmp/copy && cp -a ${d}/. /tmp/copy/ && mount -t tmpfs -o mode=0755 tmpfs ${d} && cp -a /tmp/copy/. ${d}/ && chmod --reference=/tmp/copy ${d} && chown --reference=/tmp/copy ${d} && rm -rf /tmp/copy`]), `private ${d}`);
}
must(run('restorecon', ['-R', '/var/lib/swtpm-localca', '/var/log/swtpm']), 'restorecon swtpm dirs');
const TPM_UUID = '6a7e0c1e-22c6-4b1a-9d5e-2200000000a1';
const swtpmState = `/var/lib/libvirt/swtpm/${TPM_UUID}`;
const swtpmLog = '/var/log/swtpm/libvirt/qemu/i22-tpm-swtpm.log';
const withSysinfo = (xml, entries) => xml.replace('  <os>', `  <sysinfo type='fwcfg'>\n${entries}  </sysinfo>\n  <os>`);
const withNuma = (xml) => xml.replace("  <memory unit='MiB'>64</memory>\n", "  <maxMemory slots='2' unit='MiB'>512</maxMemory>\n  <memory unit='MiB'>64</memory>\n").replace('  <os>', "  <cpu>\n    <numa>\n      <cell id='0' cpus='0' memory='64' unit='MiB'/>\n    </numa>\n  </cpu>\n  <os>");

const filesCases = [
  {
    name: 'i22-uefi',
    xml: domain('i22-uefi', `    <loader readonly='yes' type='pflash'>${OVMF_CODE}</loader>\n    <nvram type='file'>\n      <source file='${vars}'/>\n    </nvram>\n`),
    watch: [OVMF_CODE, vars],
  },
  // Its own domain: QEMU gets a pipe to virtlogd for it (virtlogd opens the file), labelled virtlogd_t:s0.
  { name: 'i22-serial', xml: domain('i22-serial', '', `    <serial type='file'>\n      <source path='${serialLog}'/>\n      <target port='0'/>\n    </serial>\n`), watch: [serialLog] },
  { name: 'i22-uefi-lib-t', xml: domain('i22-uefi-lib-t', `    <loader readonly='yes' type='pflash'>${OVMF_CODE_2M}</loader>\n    <nvram type='file'>\n      <source file='${vars2m}'/>\n    </nvram>\n`), watch: [OVMF_CODE_2M], once: true },
  { name: 'i22-kernel-only', xml: domain('i22-kernel-only', `    <kernel>${kernel}</kernel>\n    <cmdline>console=ttyS0</cmdline>\n`), watch: [kernel] },
  { name: 'i22-kernel', xml: domain('i22-kernel', `    <kernel>${kernel}</kernel>\n    <initrd>${initrd}</initrd>\n    <cmdline>console=ttyS0</cmdline>\n`), watch: [kernel, initrd] },
  { name: 'i22-fwcfg-ok', xml: domain('i22-fwcfg-ok', '', '', fwcfg(ignOk)), watch: [ignOk] },
  { name: 'i22-fwcfg-denied', xml: domain('i22-fwcfg-denied', '', '', fwcfg(ignDenied)), watch: [ignDenied] },
  {
    name: 'i22-devices',
    xml: withSysinfo(
      domain('i22-devices', '', `    <serial type='unix'>\n      <source mode='connect' path='${sock}'/>\n      <target port='0'/>\n    </serial>\n    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n`),
      `    <entry name='opt/com.example/blob' file='${sysinfoBlob}'/>\n`,
    ),
    watch: [sysinfoBlob, sock, '/dev/urandom'],
  },
  { name: 'i22-9p', xml: domain('i22-9p', '', `    <filesystem type='mount' accessmode='passthrough'>\n      <source dir='${share}'/>\n      <target dir='share'/>\n    </filesystem>\n`), watch: [share] },
  { name: 'i22-9p-home', xml: domain('i22-9p-home', '', `    <filesystem type='mount' accessmode='passthrough'>\n      <source dir='${homeShare}'/>\n      <target dir='share'/>\n    </filesystem>\n`), watch: [homeShare] },
  { name: 'i22-nvdimm', xml: withNuma(domain('i22-nvdimm', '', `    <memory model='nvdimm'>\n      <source>\n        <path>${nvdimm}</path>\n      </source>\n      <target>\n        <size unit='MiB'>16</size>\n        <node>0</node>\n      </target>\n    </memory>\n`)), watch: [nvdimm] },
  { name: 'i22-tpm', xml: domain('i22-tpm', '', "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n").replace('  <name>i22-tpm</name>\n', `  <name>i22-tpm</name>\n  <uuid>${TPM_UUID}</uuid>\n`), watch: [SWTPM, swtpmState, swtpmLog] },
];
// One CLI run per step for all four domains: each run loads the guest's policy, slow under TCG.
fs.mkdirSync('/tmp/i22-orig', { recursive: true });
fs.mkdirSync('/tmp/i22-ann', { recursive: true });
for (const c of filesCases) {
  fs.writeFileSync(`/tmp/i22-orig/${c.name}.xml`, c.xml);
  fs.writeFileSync(`/tmp/i22-ann/${c.name}.xml`, c.xml);
}
const s1 = Date.now();
const explain = cli('explain', '--json', ...filesCases.map((c) => `/tmp/i22-orig/${c.name}.xml`));
const annotate = cli('annotate', '-i', ...filesCases.map((c) => `/tmp/i22-ann/${c.name}.xml`));
const check = cli('annotate', '--check', ...filesCases.map((c) => `/tmp/i22-orig/${c.name}.xml`));
out.cliSeconds = (Date.now() - s1) / 1000;
out.annotate = { exit: annotate.status, stderr: annotate.stderr };
out.check = { exit: check.status, stderr: check.stderr };
let reports = [];
try { reports = JSON.parse(explain.stdout).files; } catch { out.errors.push(`explain --json: ${explain.stderr}`); }
for (const [i, c] of filesCases.entries()) {
  const annotated = fs.readFileSync(`/tmp/i22-ann/${c.name}.xml`, 'utf8');
  const rec = { annotated, explain: reports[i] ?? null, original: null, annotatedStart: null };
  rec.original = start(c.name, c.xml, c.watch);
  // Byte-identical annotated XML is the same start again: recorded as such, not repeated (guest time).
  // `once`: the start fails on a file the annotation does not touch (guest time).
  rec.annotatedStart = annotated === c.xml ? 'same' : c.once ? 'fails-alike' : start(c.name, annotated, c.watch);
  out.files[c.name] = rec;
}

// ---- issue 25 item 4: SELinux records left stale ---------------------------------------------------
const E = '/srv/i25';
mkdir(E, obj('var_t'), 4242);
const doctor = (...args) => {
  const r = cli('doctor', ...args);
  return { exit: r.status, stdout: r.stdout, stderr: r.stderr };
};
const doctorJson = (...args) => {
  const r = doctor('--json', ...args);
  let report = null;
  try { report = JSON.parse(r.stdout); } catch { out.errors.push(`doctor --json ${args.join(' ')}: ${r.stderr}`); }
  return { exit: r.exit, report, stderr: r.stderr };
};
const pidOf = (f) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch { return ''; } };
const libvirtdPid = () => pidOf('/run/libvirtd.pid') || run('pidof', ['libvirtd']).stdout.trim().split(/\s+/)[0];
/** QEMU and libvirtd die with SIGKILL; the status goes, so the restarted daemon cannot clean up. */
function crash(n) {
  const qemu = pidOf(`/run/libvirt/qemu/${n}.pid`);
  const lvd = libvirtdPid();
  must(run('kill', ['-KILL', qemu, lvd]), `kill ${qemu} ${lvd}`);
  for (let i = 0; i < 100 && (fs.existsSync(`/proc/${qemu}`) || fs.existsSync(`/proc/${lvd}`)); i++) sleep(0.1);
  fs.rmSync(`/run/libvirt/qemu/${n}.xml`, { force: true });
  fs.rmSync(`/run/libvirt/qemu/${n}.pid`, { force: true });
  for (const e of fs.readdirSync('/var/lib/libvirt/qemu')) if (e.startsWith('domain-') && e.endsWith(`-${n}`)) fs.rmSync(`/var/lib/libvirt/qemu/${e}`, { recursive: true, force: true });
  fs.rmSync('/run/libvirtd.pid', { force: true });
  // As libvirt.sh started it: init_t, then libvirtd's own (permissive) domain.
  run('sh', ['-c', 'echo -n system_u:system_r:init_t:s0 > /proc/self/attr/current && { runcon system_u:system_r:virtd_t:s0-s0:c0.c1023 libvirtd > /tmp/libvirtd-2.log 2>&1 & }']);
  const s0 = Date.now();
  if (!waitForLibvirt(300)) out.errors.push(`the restarted libvirtd never answered: ${(() => { try { return fs.readFileSync('/tmp/libvirtd-2.log', 'utf8').slice(-2000); } catch { return ''; } })()}`);
  return (Date.now() - s0) / 1000;
}

const crashDir = mkdir(`${E}/crash`, obj('var_t'), 4242);
const ORIGINAL = obj('virt_image_t');
const diskFile = mkfile(`${crashDir}/disk.raw`, Buffer.alloc(1 << 20), ORIGINAL, { uid: 4242 });
const probeFile = mkfile(`${crashDir}/probe.raw`, Buffer.alloc(1 << 20), ORIGINAL, { uid: 4242 });
const iso = mkfile(`${crashDir}/cd.iso`, Buffer.alloc(1 << 20), obj('public_content_t'), { uid: 4242 });
const A = 'i25-a';
const B = 'i25-b';
const C = 'i25-iso';
const P = 'i25-probe';
const STATIC = 'system_u:system_r:svirt_t:s0:c10,c20';
define(A, domain(A, '', disk(diskFile, 'vda')));
define(B, domain(B, '', disk(diskFile, 'vda'), '', `  <seclabel type='static' model='selinux' relabel='yes'>\n    <label>${STATIC}</label>\n  </seclabel>\n`));
define(C, domain(C, '', disk(iso, 'sda', true)));
define(P, domain(P, '', disk(probeFile, 'vda')));
const dd = out.doctor;
const vstart = (n) => {
  progress(`start ${n}`);
  const r = virsh('start', '--paused', n);
  return { exit: r.status, stderr: r.stderr.trim(), domstate: virsh('domstate', n).stdout.trim() };
};

dd.aStart = vstart(A);
dd.running = { state: state(diskFile), records: records(diskFile) };
dd.whileRunning = doctorJson('--domain', A);
dd.restartSeconds = crash(A);
dd.afterCrash = { state: state(diskFile), records: records(diskFile), domstate: virsh('domstate', A).stdout.trim() };
// Without utmp the restarted daemon's boot stamp (now - uptime) can be a second off the crashed one's, and
// libvirt then wipes the record as another boot's instead of refusing: the record is given the running
// daemon's own stamp (a probe domain shows it), the state a host with a utmp BOOT_TIME record is always in.
dd.probe = vstart(P);
const probeRecords = records(probeFile);
virsh('destroy', P);
for (const m of ['selinux', 'dac']) {
  const stamp = probeRecords[`timestamp_${m}`];
  if (stamp && records(diskFile)[`timestamp_${m}`] !== stamp) must(run('setfattr', ['-n', `trusted.libvirt.security.timestamp_${m}`, '-v', stamp, diskFile]), 'stamp');
}
dd.probeStamps = { selinux: probeRecords.timestamp_selinux, dac: probeRecords.timestamp_dac };
dd.stale = { records: records(diskFile), state: state(diskFile) };
dd.seenJson = doctorJson('--domain', A);
dd.bStart = vstart(B);
dd.afterRefusal = { records: records(diskFile), state: state(diskFile) };
dd.aRestart = vstart(A);
if (dd.aRestart.exit === 0) virsh('destroy', A);
dd.apply = doctor('--apply', diskFile);
dd.afterApply = { records: records(diskFile), state: state(diskFile) };
dd.nextStart = vstart(A);
dd.nextRunning = { records: records(diskFile), state: state(diskFile) };
virsh('destroy', A);
dd.nextStopped = { records: records(diskFile), state: state(diskFile) };

// A read-only ISO: relabelled virt_content_t and chowned at start, never given back.
dd.isoStart = vstart(C);
dd.isoRunning = state(iso);
virsh('destroy', C);
dd.isoStopped = { state: state(iso), records: records(iso) };
dd.isoSeen = doctorJson('--domain', C, '--path', crashDir);
dd.isoApplyBare = doctor('--apply', iso);
dd.isoAfterBare = state(iso);
dd.isoApplyNamed = doctor('--apply', '--label', obj('public_content_t'), '--owner', '4242:4242', iso);
dd.isoAfterNamed = state(iso);
for (const n of [A, B, C, P]) virsh('undefine', n);

out.seconds = (Date.now() - t0) / 1000;
process.stdout.write(JSON.stringify(out));
