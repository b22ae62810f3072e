/**
 * The libvirt job, run inside the SELinux guest after libvirt.sh started the host's own libvirtd: builds
 * labelled disks, lets the built CLI annotate domains in live mode, then starts each domain with QEMU
 * (`virsh start --paused`, TCG) twice, from the original XML and from the annotated XML, with every file
 * put back to its first label and owner in between. For each start it records what libvirt did to every
 * file (label and owner while QEMU runs), QEMU's own context, and the AVC denials the kernel logged for
 * QEMU's context, by inode. Prints one JSON document; ../libvirt-selinux.test.ts asserts.
 * argv: REPO MODE, MODE = permissive | enforcing | mls (which cases run; the kernel's mode and policy are
 * set at boot: mls is Debian's mls policy, permissive).
 * Plain JavaScript: it runs on the guest's node without a build step.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const repo = process.argv[2];
const mode = process.argv[3] ?? 'permissive';
const CLI = `${repo}/dist/cli/main.js`;
const T = '/srv/vsl';
const QEMU_UID = Number(spawnSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' }).stdout.trim());
const out = { mode, waitedForLibvirtSeconds: 0, capabilities: '', labelsProcess: null, setup: [], cases: {}, errors: [] };
const t0 = Date.now();

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const virsh = (...args) => run('virsh', ['-c', 'qemu:///system', ...args]);
const obj = (type, level = 's0') => `system_u:object_r:${type}:${level}`;
const getLabel = (p) => {
  const r = run('getfattr', ['--only-values', '-n', 'security.selinux', p]);
  return r.status === 0 ? r.stdout.replace(/\0$/, '') : null;
};
const setLabel = (p, ctx) => {
  const r = run('setfattr', ['-n', 'security.selinux', '-v', ctx, p]);
  if (r.status !== 0) out.errors.push(`setfattr ${ctx} ${p}: ${r.stderr.trim()}`);
};
// Progress on the console (the harness copies it to a file as it comes; the frames ignore it).
const progress = (msg) => { try { fs.appendFileSync('/dev/console', `vsl-progress: ${((Date.now() - t0) / 1000).toFixed(0)} s ${msg}\n`); } catch { /* no console */ } };
const must = (r, what) => {
  if (r.status !== 0) out.errors.push(`${what}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r;
};

// ---- libvirtd --------------------------------------------------------------------------------
// The first connection probes QEMU's capabilities, slow under TCG.
for (let i = 0; i < 900; i++) {
  if (virsh('version').status === 0) break;
  if (i % 60 === 59) {
    const logs = ['/tmp/libvirtd.log', '/tmp/virtlogd.log'].map((f) => { try { return fs.readFileSync(f, 'utf8').slice(-3000); } catch { return `${f}: none`; } });
    const processes = run('ps', ['-eo', 'pid,stat,wchan:24,etime,args']).stdout.split('\n').filter((l) => !/\[.*\]$/.test(l));
    progress(`waiting for libvirtd; daemon logs:\n${logs.join('\n')}\nprocesses:\n${processes.join('\n')}`);
  }
  spawnSync('sleep', ['1']);
}
out.waitedForLibvirtSeconds = (Date.now() - t0) / 1000;
progress(`libvirtd answers after ${out.waitedForLibvirtSeconds} s`);
const caps = virsh('capabilities');
out.capabilities = (caps.stdout.match(/<secmodel>[\s\S]*?<\/secmodel>/g) ?? []).join('');
const labels = run('node', [CLI, 'labels', '--json']);
try { out.labelsProcess = JSON.parse(labels.stdout).process; } catch { out.errors.push(`labels --json: ${labels.stderr}`); }

// ---- the files, their first labels and owners ---------------------------------------------
must(run('setfattr', ['-n', 'security.selinux', '-v', obj('root_t'), '/']), 'label /');
setLabel('/srv', obj('var_t'));
// devtmpfs is mounted before the policy load: the kernel labels /dev device_t but lists no
// security.selinux for it, and some tools read that as unlabelled; write the label explicitly.
if (getLabel('/dev') !== obj('device_t')) setLabel('/dev', obj('device_t'));
fs.mkdirSync(T, { recursive: true });
setLabel(T, obj('var_t'));
const mkfile = (name, size) => {
  const p = `${T}/${name}`;
  fs.writeFileSync(p, Buffer.alloc(size));
  return p;
};
const pub = mkfile('pub.iso', 1 << 20);
const stale = mkfile('stale.iso', 1 << 20);
const shared = mkfile('shared.raw', 1 << 20);
const excl = mkfile('excl.raw', 1 << 20);
const base = mkfile('base.raw', 1 << 20);
const top = `${T}/top.qcow2`;
must(run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', top]), 'qemu-img create');
const blkBacking = mkfile('blk.img', 1 << 20);
const loop = must(run('losetup', ['-f', '--show', blkBacking]), 'losetup').stdout.trim();

/** Every file a case touches, with the label and owner it starts from (put back before each start). */
const initial = new Map([
  [pub, { ctx: obj('public_content_t'), uid: 0, gid: 0, mode: 0o644 }],
  [stale, { ctx: obj('public_content_t'), uid: 0, gid: 0, mode: 0o644 }],
  [shared, { ctx: obj('svirt_image_t'), uid: QEMU_UID, gid: QEMU_UID, mode: 0o660 }],
  [excl, { ctx: obj('svirt_image_t'), uid: QEMU_UID, gid: QEMU_UID, mode: 0o600 }],
  [base, { ctx: obj('public_content_t'), uid: 0, gid: 0, mode: 0o644 }],
  [top, { ctx: obj('public_content_t'), uid: 0, gid: 0, mode: 0o644 }],
  ...(loop ? [[loop, { ctx: obj('removable_device_t'), uid: 0, gid: 0, mode: 0o644 }]] : []),
]);
// libvirt's remembered-owner xattrs (trusted.libvirt.security.*) from an earlier start would make it
// skip relabelling a file it believes in use; every start begins from a file without them.
const forget = (p) => {
  const names = run('getfattr', ['-m', '^trusted\\.libvirt\\.', '--absolute-names', p]).stdout.split('\n').filter((l) => l.startsWith('trusted.'));
  for (const n of names) run('setfattr', ['-x', n, p]);
  return names;
};
const reset = () => {
  for (const [p, f] of initial) {
    forget(p);
    fs.chownSync(p, f.uid, f.gid);
    fs.chmodSync(p, f.mode);
    setLabel(p, f.ctx);
  }
};
reset();
out.setup = [...initial].map(([p, f]) => ({ path: p, want: f.ctx, got: getLabel(p), uid: f.uid }));

// ---- domains ------------------------------------------------------------------------------
const disk = ({ type = 'file', device = 'disk', src, fmt = 'raw', dev, bus = 'virtio', ro = false, share = false }) => `    <disk type='${type}' device='${device}'>
      <driver name='qemu' type='${fmt}'${share ? " cache='writeback'" : ''}/>
      <source ${type === 'block' ? 'dev' : 'file'}='${src}'/>
      <target dev='${dev}' bus='${bus}'/>${ro ? '\n      <readonly/>' : ''}${share ? '\n      <shareable/>' : ''}
    </disk>
`;
const domain = (name, disks, seclabel = '') => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${disks.join('')}    <video>
      <model type='none'/>
    </video>
  </devices>
${seclabel}</domain>
`;

const dynamicDisks = [
  disk({ device: 'cdrom', src: pub, dev: 'hdc', bus: 'ide', ro: true }),
  disk({ src: shared, dev: 'vda', share: true }),
  disk({ src: excl, dev: 'vdb' }),
  ...(loop ? [disk({ type: 'block', src: loop, dev: 'vdc', ro: true })] : []),
  disk({ src: top, fmt: 'qcow2', dev: 'vdd', ro: true }),
];
const STATIC = 'system_u:system_r:svirt_t:s0:c10,c20';
const cases = mode === 'enforcing'
  ? [
      // Only what libvirt reads without relabelling: the read-only ISO, the block device and the chain.
      { name: 'vsl-enf', xml: domain('vsl-enf', [dynamicDisks[0], ...(loop ? [dynamicDisks[3]] : []), dynamicDisks[4]]) },
      { name: 'vsl-enf-stale', xml: domain('vsl-enf-stale', [disk({ device: 'cdrom', src: stale, dev: 'hdc', bus: 'ide', ro: true })]), staleTo: obj('user_home_t') },
    ]
  : mode === 'mls'
  ? [{ name: 'vsl-mls', xml: domain('vsl-mls', dynamicDisks) }]
  : [
      { name: 'vsl-dynamic', xml: domain('vsl-dynamic', dynamicDisks) },
      { name: 'vsl-static', xml: domain('vsl-static', [disk({ src: pub, dev: 'vda', ro: true })], `  <seclabel type='static' model='selinux' relabel='yes'>\n    <label>${STATIC}</label>\n  </seclabel>\n`) },
      { name: 'vsl-stale', xml: domain('vsl-stale', [disk({ device: 'cdrom', src: stale, dev: 'hdc', bus: 'ide', ro: true })]), staleTo: obj('user_home_t') },
    ];

const statOf = (p) => {
  const st = fs.statSync(p);
  return { label: getLabel(p), uid: st.uid, gid: st.gid, ino: st.ino };
};
const qemuContext = (name) => {
  try {
    const pidFile = [`/run/libvirt/qemu/${name}.pid`, `/run/user/4200/libvirt/qemu/run/${name}.pid`].find((f) => fs.existsSync(f));
    const pid = fs.readFileSync(pidFile, 'utf8').trim();
    return fs.readFileSync(`/proc/${pid}/attr/current`, 'utf8').replace(/\0$/, '').trim();
  } catch {
    return null;
  }
};

/** One start: define, start paused, record, destroy, undefine. */
function start(name, xml, v = virsh) {
  progress(`start ${name}`);
  const file = `/tmp/${name}-${Date.now()}.xml`;
  fs.writeFileSync(file, xml);
  run('dmesg', ['-C']);
  must(v('define', file), `define ${name}`);
  const s0 = Date.now();
  const st = v('start', '--paused', name);
  const rec = { started: st.status === 0, startMessage: (st.stderr || '').trim(), startSeconds: (Date.now() - s0) / 1000, qemuContext: qemuContext(name), files: {}, denials: [] };
  for (const p of initial.keys()) rec.files[p] = statOf(p);
  if (!rec.started) {
    // QEMU's own words are in its log, not in virsh's "closed the monitor".
    const logs = [`/var/log/libvirt/qemu/${name}.log`, `/home/vslsess/.cache/libvirt/qemu/log/${name}.log`];
    rec.qemuLog = logs.filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => /qemu-system-x86_64: /.test(l) || / error : /.test(l)).slice(-5).join('\n')).join('\n');
  }
  // A denial names the file's device and inode; inode numbers repeat across filesystems.
  const byInode = new Map([...initial.keys()].map((p) => [`${p.startsWith('/dev/') ? 'devtmpfs' : 'tmpfs'}:${fs.statSync(p).ino}`, p]));
  const scon = rec.qemuContext;
  for (const l of run('dmesg', []).stdout.split('\n')) {
    if (!l.includes('avc:') || !l.includes('denied')) continue;
    const ino = / ino=(\d+)/.exec(l)?.[1];
    const tcon = / tcontext=(\S+)/.exec(l)?.[1];
    const lscon = / scontext=(\S+)/.exec(l)?.[1];
    const perms = /denied\s+\{([^}]*)\}/.exec(l)?.[1]?.trim();
    const dev = / dev="([^"]*)"/.exec(l)?.[1];
    let path = ino !== undefined && dev !== undefined ? byInode.get(`${dev}:${ino}`) : undefined;
    // Inode numbers repeat across the guest's several tmpfs mounts too: the record's own name or path
    // must agree, and a record with neither is not attributed to a file.
    const name = / name="([^"]*)"/.exec(l)?.[1];
    const full = / path="([^"]*)"/.exec(l)?.[1];
    if (path !== undefined && !(full === path || (full === undefined && name !== undefined && path.endsWith(`/${name}`)))) path = undefined;
    if (path !== undefined) rec.denials.push({ path, perms, scontext: lscon, tcontext: tcon, fromQemu: scon !== null && lscon === scon, permissive: / permissive=1/.test(l) });
  }
  if (st.status === 0) must(v('destroy', name), `destroy ${name}`);
  must(v('undefine', name), `undefine ${name}`);
  return rec;
}

for (const c of cases) {
  reset();
  const orig = `/tmp/${c.name}.xml`;
  fs.writeFileSync(orig, c.xml);
  const annotate = run('node', [CLI, orig]);
  const explain = run('node', [CLI, 'explain', '--json', orig]);
  const rec = { annotateExit: annotate.status, annotateStderr: annotate.stderr, annotated: annotate.stdout, explain: null };
  try { rec.explain = JSON.parse(explain.stdout); } catch { out.errors.push(`${c.name}: explain --json: ${explain.stderr}`); }
  rec.original = start(c.name, c.xml);
  reset();
  if (c.staleTo) {
    // The annotation was right when it was made; then the file's label changed under it.
    setLabel(stale, c.staleTo);
    const annotatedFile = `/tmp/${c.name}-annotated.xml`;
    fs.writeFileSync(annotatedFile, annotate.stdout);
    const chk = run('node', [CLI, '--check', annotatedFile]);
    rec.staleCheck = { exit: chk.status, stdout: chk.stdout, stderr: chk.stderr };
  }
  rec.annotatedStart = start(c.name, annotate.stdout);
  out.cases[c.name] = rec;
}
// ---- qemu:///session: the case the idea started from -------------------------------------------
// A root-owned 0644 ISO labelled public_content_t, shared with qemu:///system; an unprivileged user's own
// libvirtd. libvirt cannot relabel a file the user does not own; the annotation our live run adds lets
// the VM start with the ISO's label and owner kept.
if (mode === 'enforcing') {
  const UID = 4200;
  const env = ['env', 'HOME=/home/vslsess', `XDG_RUNTIME_DIR=/run/user/${UID}`, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
  const asUser = (cmd, args) => run('setpriv', [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', ...env, cmd, ...args]);
  const sessionVirsh = (...args) => asUser('virsh', ['-c', 'qemu:///session', ...args]);
  const iso = `${T}/session.iso`;
  fs.writeFileSync(iso, Buffer.alloc(1 << 20));
  initial.set(iso, { ctx: obj('public_content_t'), uid: 0, gid: 0, mode: 0o644 });
  reset();
  // The system cache of QEMU's capabilities, so the session daemon need not probe again under TCG.
  run('sh', ['-c', `mkdir -p /home/vslsess/.cache/libvirt/qemu && cp -a /var/cache/libvirt/qemu/capabilities /home/vslsess/.cache/libvirt/qemu/ && chown -R ${UID}:${UID} /home/vslsess/.cache`]);
  // As for the system daemon: enter init_t (kernel_t may), from there virtd_t (permissive in this policy).
  // In the background rather than -d, so what it says about the relabel it attempts is kept.
  const daemon = asUser('sh', ['-c', 'echo -n system_u:system_r:init_t:s0 > /proc/self/attr/current && { runcon system_u:system_r:virtd_t:s0-s0:c0.c1023 libvirtd > /home/vslsess/libvirtd.log 2>&1 & }']);
  const sock = `/run/user/${UID}/libvirt/libvirt-sock`;
  for (let i = 0; i < 120 && !fs.existsSync(sock); i++) spawnSync('sleep', ['1']);
  const s0 = Date.now();
  for (let i = 0; i < 600; i++) { if (sessionVirsh('version').status === 0) break; spawnSync('sleep', ['1']); }
  progress(`session libvirtd answers after ${(Date.now() - s0) / 1000} s`);
  const xml = domain('vsl-session', [disk({ device: 'cdrom', src: iso, dev: 'hdc', bus: 'ide', ro: true })]);
  const orig = `/tmp/vsl-session.xml`;
  fs.writeFileSync(orig, xml);
  fs.chmodSync(orig, 0o644);
  const annotate = asUser('node', [CLI, '--connect', 'qemu:///session', orig]);
  const explain = asUser('node', [CLI, 'explain', '--json', '--connect', 'qemu:///session', orig]);
  const labelsSession = asUser('node', [CLI, 'labels', '--json', '--connect', 'qemu:///session']);
  const rec = { daemonExit: daemon.status, daemonStderr: daemon.stderr, annotateExit: annotate.status, annotateStderr: annotate.stderr, annotated: annotate.stdout, explain: null, labelsProcess: null };
  try { rec.explain = JSON.parse(explain.stdout); } catch { out.errors.push(`session explain --json: ${explain.stderr}`); }
  try { rec.labelsProcess = JSON.parse(labelsSession.stdout).process; } catch { out.errors.push(`session labels --json: ${labelsSession.stderr}`); }
  rec.original = start('vsl-session', xml, sessionVirsh);
  reset();
  rec.annotatedStart = start('vsl-session', annotate.stdout, sessionVirsh);
  try { rec.daemonLog = fs.readFileSync('/home/vslsess/libvirtd.log', 'utf8').split('\n').filter((l) => l.includes('session.iso')); } catch { rec.daemonLog = null; }
  out.cases['vsl-session'] = rec;
}

// ---- the start hook as libvirtd runs it (issue 21 item 5 on an SELinux host) --------------------------
// `hook install` must not write a script libvirt's daemon may not execute: Debian gives /etc/libvirt/hooks/**
// virt_etc_rw_t. Every answer is also asked of the kernel (compute_av), and AVC records are complete here
// (printk's rate limit off: without it a burst of QEMU's denials hides the daemon's).
if (mode === 'enforcing') {
  fs.writeFileSync('/proc/sys/kernel/printk_ratelimit', '0');
  const HOOK = '/etc/libvirt/hooks/qemu.d/virt-seclabel';
  const D = 'system_u:system_r:virtd_t:s0-s0:c0.c1023';
  // The hook's store lives in /etc/virt-seclabel, the host's read-only /etc here: a tmpfs on it (the test
  // made the mount point), its files labelled as the policy's file contexts label them on a host (etc_t).
  must(run('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'tmpfs', '/etc/virt-seclabel']), 'mount /etc/virt-seclabel');
  const labelStore = () => {
    for (const p of ['/etc/virt-seclabel', ...fs.readdirSync('/etc/virt-seclabel').map((n) => `/etc/virt-seclabel/${n}`)]) {
      setLabel(p, run('matchpathcon', ['-n', p]).stdout.trim());
      if (fs.statSync(p).isDirectory() && p !== '/etc/virt-seclabel') for (const n of fs.readdirSync(p)) setLabel(`${p}/${n}`, run('matchpathcon', ['-n', `${p}/${n}`]).stdout.trim());
    }
  };
  const install = () => { const r = run('node', [CLI, 'hook', 'install', '--binary', CLI]); labelStore(); return r; };
  const computeAv = (t, c) => run('compute_av', [D, obj(t), c]).stdout.trim();
  // The daemon's own denials, its worker threads' included: the exec of a hook is checked while the
  // forked child still bears the thread's name (comm="rpc-libvirtd"), before it becomes the script.
  const daemonDenials = () => run('dmesg', []).stdout.split('\n').filter((l) => l.includes('avc:') && l.includes(` scontext=${D} `))
    .map((l) => ({ perms: /denied\s+\{([^}]*)\}/.exec(l)?.[1]?.trim(), comm: / comm="([^"]*)"/.exec(l)?.[1], tcontext: / tcontext=(\S+)/.exec(l)?.[1], tclass: / tclass=(\S+)/.exec(l)?.[1], permissive: / permissive=1/.test(l) }));
  const reload = () => { run('sh', ['-c', 'kill -HUP $(pidof libvirtd)']); spawnSync('sleep', ['2']); for (let i = 0; i < 120 && virsh('version').status !== 0; i++) spawnSync('sleep', ['1']); };
  const hookStart = (name, iso) => {
    const xml = domain(name, [disk({ device: 'cdrom', src: iso, dev: 'sda', bus: 'sata', ro: true }).replace(`<source file='${iso}'/>`, `<source file='${iso}'>\n        <seclabel model='selinux' relabel='no'/>\n      </source>`)]);
    run('dmesg', ['-C']);
    const file = `/tmp/${name}.xml`;
    fs.writeFileSync(file, xml);
    must(virsh('define', file), `define ${name}`);
    const st = virsh('start', '--paused', name);
    const rec = { started: st.status === 0, startMessage: (st.stderr || '').trim(), denials: daemonDenials() };
    if (rec.started) virsh('destroy', name);
    virsh('undefine', name);
    return rec;
  };
  const rec = { kernel: { etcRw: computeAv('virt_etc_rw_t', 'file'), bin: computeAv('bin_t', 'file'), security: computeAv('security_t', 'security') } };
  progress('hook install, Debian\'s file contexts');
  const first = install();
  rec.refused = { exit: first.status, stdout: first.stdout, stderr: first.stderr, written: fs.existsSync(HOOK), fileContext: run('matchpathcon', ['-n', HOOK]).stdout.trim() };
  // What an install without that check wrote: the same script, with the label the directory gives it.
  const stale = mkfile('hook-stale.iso', 1 << 20);
  initial.set(stale, { ctx: obj('user_home_t'), uid: 0, gid: 0, mode: 0o644 });
  reset();
  // (contrib/ is the script with the default binary, not on this PATH: the hook then allows the start.)
  fs.mkdirSync('/etc/libvirt/hooks/qemu.d', { recursive: true });
  fs.writeFileSync(HOOK, fs.readFileSync(`${repo}/contrib/libvirt-hook/virt-seclabel`), { mode: 0o755 });
  for (const p of ['/etc/libvirt/hooks', '/etc/libvirt/hooks/qemu.d', HOOK]) setLabel(p, run('matchpathcon', ['-n', p]).stdout.trim());
  rec.unchecked = { label: getLabel(HOOK) };
  reload();
  progress('a start through the hook labelled as Debian labels it');
  rec.unchecked.start = hookStart('vsl-hook-etc', stale);
  // The fix the refusal names, as `semanage fcontext -a -t bin_t` leaves it: a rule in file_contexts.local,
  // which matchpathcon and restorecon read (the policy store itself is not rebuilt for a file context).
  const fc = '/etc/selinux/default/contexts/files';
  run('sh', ['-c', `rm -rf /tmp/vsl-fc && cp -a ${fc} /tmp/vsl-fc && mount --bind /tmp/vsl-fc ${fc} && rm -f ${fc}/file_contexts.local.bin && printf '%s\\n' '/etc/libvirt/hooks/qemu\\.d/virt-seclabel    system_u:object_r:bin_t:s0' >> ${fc}/file_contexts.local`]);
  progress('hook install again, with the file-context rule');
  const second = install();
  rec.installed = { exit: second.status, stdout: second.stdout, stderr: second.stderr, label: getLabel(HOOK), fileContext: run('matchpathcon', ['-n', HOOK]).stdout.trim() };
  reload();
  progress('a start through the hook labelled bin_t');
  rec.installed.store = fs.existsSync('/etc/virt-seclabel/policy-store') ? fs.readdirSync('/etc/virt-seclabel/policy-store').sort() : [];
  rec.installed.start = hookStart('vsl-hook-bin', stale);
  // A boolean commit gives the kernel a new policy instance: the store's copy no longer is the loaded
  // policy, and the hook reads the kernel's own (refused to virtd_t on a host; logged here).
  fs.writeFileSync('/sys/fs/selinux/booleans/virt_use_nfs', '1');
  fs.writeFileSync('/sys/fs/selinux/commit_pending_bools', '1');
  progress('a start through the hook after a boolean commit');
  rec.afterBoolean = hookStart('vsl-hook-bool', stale);
  out.hook = rec;
}

if (loop) run('losetup', ['-d', loop]);
out.seconds = (Date.now() - t0) / 1000;
process.stdout.write(JSON.stringify(out));
