/**
 * The NFS job, run inside the enforcing SELinux guest after nfs.sh started a real nfsd on loopback and
 * ../../selinux-kernel/guest/libvirt.sh started this host's libvirtd (mode nfs). Exports three tmpfs
 * trees (root_squash, no_root_squash, all_squash with anonuid/anongid = QEMU's), mounts each over
 * 127.0.0.1 with vers=3 and vers=4.2, lets the built CLI decide (explain --json, annotate -i) in live mode
 * as the product runs, then starts one transient domain per file (`virsh create --paused`) twice:
 * - `original`: libvirt's defaults (its chown reaches the server, or is refused there);
 * - `asIs`: the annotated XML when the tool annotated the disk for DAC, else the same XML with
 *   `<seclabel model='dac' relabel='no'/>` forced into the disk's source: QEMU's own open of the file as
 *   it is, the reference the tool's DAC decision is compared with.
 * Owners are read on the server side (the exported tmpfs), not through the client's cache.
 * SELinux: first with virt_use_nfs off (a few cases), then on for everything.
 * Prints one JSON document; ../nfs-kernel.test.ts asserts.
 * Plain JavaScript: it runs on the guest's node without a build step.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const repo = process.argv[2];
const CLI = `${repo}/dist/cli/main.js`;
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const virsh = (...args) => run('virsh', ['-c', 'qemu:///system', ...args]);
const QEMU_UID = Number(run('id', ['-u', 'libvirt-qemu']).stdout.trim());
const QEMU_GID = Number(run('getent', ['group', 'libvirt-qemu']).stdout.split(':')[2]);
// libvirt's virGetGroupList: the user's groups from its passwd entry (primary kvm, libvirt-qemu), as `id -G` lists them.
const QEMU_GROUPS = run('id', ['-G', 'libvirt-qemu']).stdout.trim().split(/\s+/).join(',');
const KVM_GID = Number(run('getent', ['group', 'kvm']).stdout.split(':')[2]);
const OTHER = 4300;
const t0 = Date.now();
const out = { waitedForLibvirtSeconds: 0, seconds: 0, qemu: { uid: QEMU_UID, gid: QEMU_GID, groups: QEMU_GROUPS, kvm: KVM_GID }, nfsd: {}, mounts: [], booleanOff: {}, cases: [], errors: [] };
const progress = (msg) => { try { fs.appendFileSync('/dev/console', `vsl-progress: ${((Date.now() - t0) / 1000).toFixed(0)} s ${msg}\n`); } catch { /* no console */ } };
/** What the guest looked like when a command died by a signal or could not be spawned (OOM, a hung mount). */
const diagnose = () => ({
  free: run('free', ['-m']).stdout,
  daemons: run('ps', ['-eo', 'pid,stat,rss,etime,args']).stdout.split('\n').filter((l) => /libvirtd|virtlogd|qemu-system|rpc\.|nfsd/.test(l)).join('\n'),
  kernel: run('dmesg', []).stdout.split('\n').filter((l) => !l.includes('avc:')).slice(-30).join('\n'),
});
const must = (r, what) => {
  if (r.status !== 0) {
    out.errors.push(`${what}: exit ${r.status}${r.signal ? ` signal ${r.signal}` : ''}${r.error ? ` error ${r.error.code ?? r.error.message}` : ''}: ${(r.stderr || r.stdout || '').trim()}`);
    if (r.status === null) out.diagnosis ??= diagnose();
  }
  return r;
};
const setLabel = (p, ctx) => must(run('setfattr', ['-n', 'security.selinux', '-v', ctx, p]), `label ${p}`);
const setBool = (name, on) => {
  fs.writeFileSync(`/sys/fs/selinux/booleans/${name}`, on ? '1' : '0');
  fs.writeFileSync('/sys/fs/selinux/commit_pending_bools', '1');
  // The file reads "CURRENT PENDING".
  return fs.readFileSync(`/sys/fs/selinux/booleans/${name}`, 'utf8').trim().split(/\s+/)[0];
};

// ---- libvirtd ------------------------------------------------------------------------------------
for (let i = 0; i < 900; i++) {
  if (virsh('version').status === 0) break;
  spawnSync('sleep', ['1']);
}
out.waitedForLibvirtSeconds = (Date.now() - t0) / 1000;
progress(`libvirtd answers after ${out.waitedForLibvirtSeconds} s`);
out.nfsd = { versions: fs.readFileSync('/proc/fs/nfsd/versions', 'utf8').trim(), threads: fs.readFileSync('/proc/fs/nfsd/threads', 'utf8').trim() };

// ---- the server: three exports, files of several owners and modes --------------------------------
const EXPORTS = {
  root_squash: 'root_squash',
  no_root_squash: 'no_root_squash',
  all_squash: `all_squash,anonuid=${QEMU_UID},anongid=${QEMU_GID}`,
};
/** Server-side path, owner, mode, and how the domain uses it. `grp`: a directory only group kvm may search. */
const FILES = [
  { name: 'ro-root.iso', uid: 0, gid: 0, mode: 0o644, disk: 'cdrom' },
  { name: 'rw-qemu.raw', uid: QEMU_UID, gid: QEMU_GID, mode: 0o600, disk: 'rw' },
  { name: 'rw-root.raw', uid: 0, gid: 0, mode: 0o600, disk: 'rw' },
  // Readable through a supplementary group only (kvm): all_squash drops every group of the caller.
  { name: 'ro-other-kvm.iso', uid: OTHER, gid: KVM_GID, mode: 0o640, disk: 'cdrom' },
  { name: 'grp/rw-qemu.raw', uid: QEMU_UID, gid: QEMU_GID, mode: 0o600, disk: 'rw', dir: { uid: 0, gid: KVM_GID, mode: 0o750 } },
  // A qcow2 and its backing file in the same directory: libvirt reads a qcow2 chain as QEMU's ids (and,
  // refused as root on NFS, opens the headers as that user), where for a raw disk it only asks root.
  { name: 'grp/ro-qemu.qcow2', uid: QEMU_UID, gid: QEMU_GID, mode: 0o600, disk: 'cdrom', format: 'qcow2', backing: { name: 'grp/base-qemu.raw', uid: QEMU_UID, gid: QEMU_GID, mode: 0o600 }, dir: { uid: 0, gid: KVM_GID, mode: 0o750 } },
];
const SERVER = '/srv/exp';
const CLIENT = '/srv/nfs';
let fsid = 11;
for (const [exp, opts] of Object.entries(EXPORTS)) {
  const dir = `${SERVER}/${exp}`;
  fs.mkdirSync(dir, { recursive: true });
  must(run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', dir]), `tmpfs ${dir}`);
  for (const f of FILES) {
    const p = `${dir}/${f.name}`;
    if (f.dir) {
      const d = p.slice(0, p.lastIndexOf('/'));
      fs.mkdirSync(d, { recursive: true });
      fs.chownSync(d, f.dir.uid, f.dir.gid);
      fs.chmodSync(d, f.dir.mode);
    }
    if (f.backing) {
      fs.writeFileSync(`${dir}/${f.backing.name}`, Buffer.alloc(1 << 20));
      const b = f.backing.name.slice(f.backing.name.lastIndexOf('/') + 1);
      must(run('qemu-img', ['create', '-q', '-f', f.format, '-b', b, '-F', 'raw', p]), `qemu-img create ${p}`);
    } else fs.writeFileSync(p, Buffer.alloc(1 << 20));
  }
  must(run('exportfs', ['-o', `rw,sync,insecure,no_subtree_check,fsid=${fsid++},${opts}`, `127.0.0.1:${dir}`]), `exportfs ${exp}`);
}
out.nfsd.exports = run('exportfs', ['-v']).stdout;

// Random scenarios (the FUSE differential's idea, test/dac/fuse-differential.test.ts, on NFS): per export
// a directory and a file inside it with random owners, groups and modes, the file wanted read-only or
// read-write. The tool's DAC decision is compared with an open as QEMU's identity (no capability).
const SEED = Number(fs.readFileSync('/proc/cmdline', 'utf8').match(/vsl\.seed=(\d+)/)?.[1] ?? 20261205);
const RANDOM_PER_EXPORT = 10;
let state = SEED >>> 0;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const RANDOM = [];
for (const exp of Object.keys(EXPORTS)) {
  fs.mkdirSync(`${SERVER}/${exp}/rnd`, { mode: 0o755 });
  for (let i = 0; i < RANDOM_PER_EXPORT; i++) {
    const dir = { uid: pick([0, QEMU_UID, OTHER]), gid: pick([0, KVM_GID, QEMU_GID, OTHER]), mode: pick([0o700, 0o710, 0o711, 0o750, 0o751, 0o755, 0o705, 0o701]) };
    const file = { uid: pick([0, QEMU_UID, OTHER]), gid: pick([0, KVM_GID, QEMU_GID, OTHER]), mode: pick([0o600, 0o640, 0o644, 0o660, 0o664, 0o604, 0o606, 0o400, 0o440, 0o200, 0o666, 0o000]) };
    const access = pick(['read', 'readwrite']);
    const d = `${SERVER}/${exp}/rnd/d${i}`;
    fs.mkdirSync(d);
    fs.writeFileSync(`${d}/f`, Buffer.alloc(4096));
    fs.chownSync(`${d}/f`, file.uid, file.gid);
    fs.chmodSync(`${d}/f`, file.mode);
    fs.chownSync(d, dir.uid, dir.gid);
    fs.chmodSync(d, dir.mode);
    RANDOM.push({ exp, i, dir, file, access });
  }
}
const reset = () => {
  for (const exp of Object.keys(EXPORTS)) {
    for (const f of [...FILES, ...FILES.flatMap((x) => (x.backing ? [x.backing] : []))]) {
      const p = `${SERVER}/${exp}/${f.name}`;
      fs.chownSync(p, f.uid, f.gid);
      fs.chmodSync(p, f.mode);
    }
  }
};
reset();
const serverOwner = (p) => {
  const st = fs.statSync(p);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
};

// ---- the clients: each export over v3 and v4.2, attributes never cached (the server is changed
// between starts, and the tool must see what QEMU will) ---------------------------------------------
const VERSIONS = { v3: ['-t', 'nfs', '-o', 'vers=3,nolock,proto=tcp,actimeo=0'], 'v4.2': ['-t', 'nfs4', '-o', 'vers=4.2,actimeo=0'] };
fs.mkdirSync(CLIENT, { recursive: true });
setLabel('/', 'system_u:object_r:root_t:s0');
setLabel('/srv', 'system_u:object_r:var_t:s0');
setLabel(CLIENT, 'system_u:object_r:var_t:s0');
for (const [ver, args] of Object.entries(VERSIONS)) {
  for (const exp of Object.keys(EXPORTS)) {
    const mp = `${CLIENT}/${ver}-${exp}`;
    fs.mkdirSync(mp);
    setLabel(mp, 'system_u:object_r:var_t:s0');
    const m = run('mount', [...args, `127.0.0.1:${SERVER}/${exp}`, mp], { timeout: 180_000 });
    must(m, `mount ${ver} ${exp}`);
  }
}
out.mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(` ${CLIENT}/`));
progress(`mounted ${out.mounts.length} NFS mounts`);

// ---- domains: virtio disks only (a domain may hold every case's disk), the ISO read-only -----------
const TARGETS = Array.from({ length: 26 }, (_, i) => `vd${String.fromCharCode(97 + i)}`);
const disk = (f, src, dev = 'vda', inner = '') => `    <disk type='file' device='disk'>
      <driver name='qemu' type='${f.format ?? 'raw'}'/>
      <source file='${src}'>${inner}</source>
      <target dev='${dev}' bus='virtio'/>${f.disk === 'cdrom' ? '\n      <readonly/>' : ''}
    </disk>
`;
const domain = (name, disks) => `<domain type='qemu'>
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
</domain>
`;
const FORCED = "\n        <seclabel model='dac' relabel='no'/>\n      ";
/** The <source>'s children the tool inserted into a one-disk domain (its seclabels), to carry them into a bigger domain. */
const sourceInner = (xml) => /<source file='[^']*'>([\s\S]*?)<\/source>/.exec(xml)?.[1] ?? (/<source file='[^']*'\/>/.test(xml) ? '' : null);

/** One start: create (transient, paused), record, destroy. `files`: case name → server-side path. */
function start(name, xml, files) {
  progress(`start ${name}`);
  const file = `/tmp/${name}-${Date.now()}.xml`;
  fs.writeFileSync(file, xml);
  run('dmesg', ['-C']);
  const s0 = Date.now();
  const st = virsh('create', '--paused', file);
  if (st.status === null) must(st, `virsh create ${name}`);
  const rec = { xml, started: st.status === 0, startMessage: (st.stderr || '').trim(), startSeconds: (Date.now() - s0) / 1000, ownerWhileRunning: {}, ownerAfter: {}, denials: [] };
  for (const [n, p] of Object.entries(files)) rec.ownerWhileRunning[n] = serverOwner(p);
  if (!rec.started) {
    const log = `/var/log/libvirt/qemu/${name}.log`;
    rec.qemuLog = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => /qemu-system-x86_64: /.test(l) || / error : /.test(l)).slice(-4).join('\n') : '';
  }
  // QEMU's denials on the files under test (nfs_t); the rest (the 9p tree's links, sysfs, virtlogd's
  // pipe) come with every start of this guest, the VMs that start included, and are only counted.
  rec.otherDenials = 0;
  for (const l of run('dmesg', []).stdout.split('\n')) {
    if (!l.includes('avc:') || !l.includes('denied') || !l.includes(':svirt_t:')) continue;
    if (!l.includes(':nfs_t:')) { rec.otherDenials++; continue; }
    rec.denials.push({
      perms: /denied\s+\{([^}]*)\}/.exec(l)?.[1]?.trim(),
      name: / name="([^"]*)"/.exec(l)?.[1],
      tcontext: / tcontext=(\S+)/.exec(l)?.[1],
      tclass: / tclass=(\S+)/.exec(l)?.[1],
      permissive: / permissive=1/.test(l),
    });
  }
  if (rec.started) must(virsh('destroy', name), `destroy ${name}`);
  for (const [n, p] of Object.entries(files)) rec.ownerAfter[n] = serverOwner(p);
  return rec;
}

/**
 * QEMU's block layer opening the file as QEMU's identity (uid, gid and groups as libvirt gives them, no
 * capability), read-only for the ISO: the second witness of a refusal, with QEMU's own error text (under
 * enforcing, QEMU's stderr does not reach libvirt's log: virtlogd's pipe is denied to svirt_t here).
 */
const qemuIo = (c) => {
  const r = run('setpriv', ['--reuid', String(QEMU_UID), '--regid', String(QEMU_GID), `--groups=${QEMU_GROUPS}`, '--inh-caps=-all', '--bounding-set=-all', 'qemu-io', '-f', c.f.format ?? 'raw', ...(c.f.disk === 'cdrom' ? ['-r'] : []), '-c', 'quit', c.src]);
  return { exit: r.status, stderr: (r.stderr || '').trim() };
};

/** Every case: an export, a version, a file; a one-disk domain XML for the tool to decide. */
const cases = [];
for (const ver of Object.keys(VERSIONS)) {
  for (const exp of Object.keys(EXPORTS)) {
    for (const f of FILES) {
      const name = `nfs-${ver.replace('.', '')}-${exp.replace(/_/g, '')}-${f.name.replace(/[/.]/g, '-')}`;
      const src = `${CLIENT}/${ver}-${exp}/${f.name}`;
      cases.push({ name, ver, exp, file: f.name, src, server: `${SERVER}/${exp}/${f.name}`, f, xml: domain(name, [disk(f, src)]) });
    }
  }
}

/** explain --json and annotate -i over a set of cases, one run each (node under TCG is slow). */
function decide(set, dir, withAnnotate = true) {
  fs.mkdirSync(dir, { recursive: true });
  const files = set.map((c) => `${dir}/${c.name}.xml`);
  set.forEach((c, i) => fs.writeFileSync(files[i], c.xml));
  const explain = run('node', [CLI, 'explain', '--json', ...files]);
  let doc = null;
  try { doc = JSON.parse(explain.stdout); } catch { out.errors.push(`explain --json (exit ${explain.status}): ${explain.stderr.slice(-2000)}`); }
  const annotate = withAnnotate ? run('node', [CLI, 'annotate', '-i', ...files]) : { status: null, stderr: '' };
  if (withAnnotate && annotate.status !== 0) out.errors.push(`annotate -i (exit ${annotate.status}): ${annotate.stderr.slice(-2000)}`);
  return set.map((c, i) => {
    const entry = doc?.files?.find((x) => x.file === files[i]);
    const d = entry?.disks?.[0];
    return { dac: d?.models?.dac ?? null, selinux: d?.models?.selinux ?? null, annotated: fs.readFileSync(files[i], 'utf8'), annotateExit: annotate.status };
  });
}
const filesOf = (set) => Object.fromEntries(set.map((c) => [c.name, c.server]));

// ---- SELinux: virt_use_nfs off, then on, for two files the DAC side allows (v3 and v4.2) ----------
const offSet = cases.filter((c) => (c.ver === 'v4.2' && c.exp === 'no_root_squash' && c.file === 'ro-root.iso') || (c.ver === 'v3' && c.exp === 'root_squash' && c.file === 'rw-qemu.raw'));
out.booleanOff.value = setBool('virt_use_nfs', false);
progress('virt_use_nfs off: explain');
const offDecisions = decide(offSet, '/tmp/off', false);
out.booleanOff.cases = offSet.map((c, i) => ({ name: c.name, ver: c.ver, exp: c.exp, file: c.file, selinux: offDecisions[i].selinux, dac: offDecisions[i].dac }));
reset();
// Off: one domain per file (QEMU stops at the first disk it cannot open; a refusal is quick).
out.booleanOff.starts = offSet.map((c) => {
  const s = start(`${c.name}-off`, domain(`${c.name}-off`, [disk(c.f, c.src)]), filesOf([c]));
  reset();
  return s;
});
// On: both files in one domain (a start that succeeds is the slow kind under TCG).
const boolXml = domain('nfs-boolean', offSet.map((c, i) => disk(c.f, c.src, TARGETS[i])));
out.booleanOnValue = setBool('virt_use_nfs', true);
out.booleanOn = { start: start('nfs-boolean', boolXml, filesOf(offSet)) };
reset();

// ---- every case with virt_use_nfs on --------------------------------------------------------------
progress('virt_use_nfs on: explain and annotate');
const decisions = decide(cases, '/tmp/ann');
cases.forEach((c, i) => { c.d = decisions[i]; c.before = serverOwner(c.server); });
const annotatedSet = cases.filter((c) => c.d.dac?.action === 'annotate');
// A: every disk the tool annotated, in one domain, each with exactly the seclabels the tool inserted.
const inner = annotatedSet.map((c) => sourceInner(c.d.annotated));
if (inner.some((x) => x === null)) out.errors.push('cannot find the annotated <source> of a case');
const aXml = domain('nfs-annotated', annotatedSet.map((c, i) => disk(c.f, c.src, TARGETS[i], inner[i] ?? '')));
out.annotatedStart = start('nfs-annotated', aXml, filesOf(annotatedSet));
reset();
// B: libvirt's defaults for every disk the tool annotated, and every no_root_squash disk (there the
// chown reaches the server); one domain.
// A disk the tool proved only by walking as QEMU (root may not search its directory) starts on its own:
// libvirt's relabel as root fails there, and would take the whole domain down.
const rootRefused = (c) => /looked up as [^:]*: root may not/.test(c.d.dac?.reason ?? '');
const originalSet = cases.filter((c) => (c.d.dac?.action === 'annotate' || c.exp === 'no_root_squash') && !rootRefused(c));
out.originalStart = start('nfs-original', domain('nfs-original', originalSet.map((c, i) => disk(c.f, c.src, TARGETS[i]))), filesOf(originalSet));
reset();
// The rest one by one (refusals are quick): QEMU's open as it is (dac relabel='no' forced in) for every
// disk the tool did not annotate, and libvirt's defaults for those B left out.
for (const c of cases) {
  const rec = { name: c.name, ver: c.ver, exp: c.exp, file: c.file, before: c.before, decision: { dac: c.d.dac, selinux: c.d.selinux, annotateExit: c.d.annotateExit }, annotated: c.d.annotated, inAnnotatedStart: annotatedSet.includes(c), inOriginalStart: originalSet.includes(c) };
  if (!rec.inAnnotatedStart) {
    rec.qemuIo = qemuIo(c);
    rec.forcedStart = start(c.name, domain(c.name, [disk(c.f, c.src, 'vda', FORCED)]), filesOf([c]));
    reset();
  }
  if (!rec.inOriginalStart) {
    rec.originalStart = start(c.name, c.xml, filesOf([c]));
    reset();
  }
  out.cases.push(rec);
}
// ---- random scenarios: one explain run over all of them, then an open as QEMU's identity each ---------
progress('random scenarios');
const rcases = [];
for (const ver of Object.keys(VERSIONS)) {
  for (const sc of RANDOM) {
    const name = `rnd-${ver.replace('.', '')}-${sc.exp.replace(/_/g, '')}-${sc.i}`;
    const src = `${CLIENT}/${ver}-${sc.exp}/rnd/d${sc.i}/f`;
    rcases.push({ ...sc, ver, name, src, xml: domain(name, [disk({ disk: sc.access === 'read' ? 'cdrom' : 'rw' }, src)]) });
  }
}
fs.mkdirSync('/tmp/rnd', { recursive: true });
const rfiles = rcases.map((c) => `/tmp/rnd/${c.name}.xml`);
rcases.forEach((c, i) => fs.writeFileSync(rfiles[i], c.xml));
const rexplain = run('node', [CLI, 'explain', '--json', ...rfiles]);
let rdoc = null;
try { rdoc = JSON.parse(rexplain.stdout); } catch { out.errors.push(`random: explain --json (exit ${rexplain.status}): ${rexplain.stderr.slice(-2000)}`); }
out.random = { seed: SEED, cases: rcases.map((c, i) => {
  const dac = rdoc?.files?.find((x) => x.file === rfiles[i])?.disks?.[0]?.models?.dac ?? null;
  // QEMU opens a read-only disk O_RDONLY and a writable one O_RDWR; `<>` opens O_RDWR without truncating.
  const o = run('setpriv', ['--reuid', String(QEMU_UID), '--regid', String(QEMU_GID), `--groups=${QEMU_GROUPS}`, '--inh-caps=-all', '--bounding-set=-all', 'sh', '-c', c.access === 'read' ? 'exec 3< "$1"' : 'exec 3<> "$1"', 'sh', c.src]);
  return { name: c.name, exp: c.exp, ver: c.ver, dir: c.dir, file: c.file, access: c.access, dac, opened: o.status === 0, openError: (o.stderr || '').trim() };
}) };

out.free = run('free', ['-m']).stdout;
out.seconds = (Date.now() - t0) / 1000;
process.stdout.write(JSON.stringify(out));
