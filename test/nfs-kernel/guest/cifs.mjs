/**
 * The CIFS/SMB job, run inside the same enforcing SELinux guest boot after nfs.mjs (nfs.sh runs it once
 * ../../selinux-kernel/guest/libvirt.sh's job returned; libvirtd is still up; nfs.sh loaded the cifs
 * module and its dependencies from Debian's kernel package). Starts this host's samba (smbd) on loopback,
 * one share on its own tmpfs per client mount; the SMB user is root (the server's unix permissions allow
 * everything) except on `forceuser` (`force user = nobody`: the server opens every file as a user QEMU is
 * not, so its unix permissions refuse what nobody may not open). The mounts, as people make them for images:
 * - modes-qemu: vers=3.1.1, uid=/gid= QEMU's, file_mode=0600, dir_mode=0700 (client-side modes);
 * - modes-root: vers=3.0, uid=0, gid=0, file_mode=0644, dir_mode=0755 (the client refuses QEMU's write);
 * - noperm: the client checks nothing, the server (as root) decides;
 * - forceuser: client modes that allow everything, and a server that refuses;
 * - context: like modes-qemu, with context=svirt_image_t (the SELinux label fixed by the mount).
 * Per case the built CLI decides (explain --json, annotate -i), and the guest's libvirtd starts domains
 * (virsh create --paused): the annotated XML (one domain), libvirt's defaults and QEMU's open as is
 * (`<seclabel model='dac' relabel='no'/>` forced in); owners read on the server and through the client,
 * while running and after stop. SELinux: virt_use_samba off, then on. Random owners and modes on the
 * forceuser share against an open as QEMU's identity. Prints one JSON document; ../nfs-kernel.test.ts asserts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const repo = process.argv[2];
const CLI = `${repo}/dist/cli/main.js`;
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const virsh = (...args) => run('virsh', ['-c', 'qemu:///system', ...args]);
const QEMU_UID = Number(run('id', ['-u', 'libvirt-qemu']).stdout.trim());
const QEMU_GID = Number(run('getent', ['group', 'libvirt-qemu']).stdout.split(':')[2]);
const QEMU_GROUPS = run('id', ['-G', 'libvirt-qemu']).stdout.trim().split(/\s+/).join(',');
const NOBODY = Number(run('id', ['-u', 'nobody']).stdout.trim());
const OTHER = 4300;
const t0 = Date.now();
const out = { seconds: 0, qemu: { uid: QEMU_UID, gid: QEMU_GID, groups: QEMU_GROUPS }, nobody: NOBODY, smbd: {}, mounts: [], booleanOff: {}, cases: [], errors: [] };
const progress = (msg) => { try { fs.appendFileSync('/dev/console', `vsl-progress: cifs ${((Date.now() - t0) / 1000).toFixed(0)} s ${msg}\n`); } catch { /* no console */ } };
const must = (r, what) => {
  if (r.status !== 0) out.errors.push(`${what}: exit ${r.status}${r.signal ? ` signal ${r.signal}` : ''}${r.error ? ` error ${r.error.code ?? r.error.message}` : ''}: ${(r.stderr || r.stdout || '').trim().slice(-1500)}`);
  return r;
};
const setLabel = (p, ctx) => must(run('setfattr', ['-n', 'security.selinux', '-v', ctx, p]), `label ${p}`);
const setBool = (name, on) => {
  fs.writeFileSync(`/sys/fs/selinux/booleans/${name}`, on ? '1' : '0');
  fs.writeFileSync('/sys/fs/selinux/commit_pending_bools', '1');
  return fs.readFileSync(`/sys/fs/selinux/booleans/${name}`, 'utf8').trim().split(/\s+/)[0];
};
const owner = (p) => {
  try {
    const st = fs.statSync(p);
    return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
  } catch (e) {
    return { error: e.code };
  }
};

// libvirtd answers at once after nfs.mjs; on its own (a run without NFS) this waits for it.
for (let i = 0; i < 900 && virsh('version').status !== 0; i++) spawnSync('sleep', ['1']);

// ---- the server: smbd on loopback, its state on a private tmpfs (the host's /var is read-only here) ----
const SMB = '/run/vsl-samba';
for (const d of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'log', 'bind-dns']) fs.mkdirSync(`${SMB}/${d}`, { recursive: true, mode: 0o755 });
fs.chmodSync(`${SMB}/private`, 0o700);
const SERVER = '/srv/smb';
// One share (and tmpfs) per client mount: two mounts of one share would reach the same server files (a
// domain holding both paths meets its own SMB locks: libvirt's metadata lock, QEMU's image locks) and the
// client would share one superblock between them (a second mount then cannot take its own context=).
const SHARES = Object.fromEntries(['modes-qemu', 'modes-root', 'noperm', 'forceuser', 'context'].map((m) => [m, `${SERVER}/${m}`]));
const conf = `${SMB}/smb.conf`;
fs.writeFileSync(conf, `[global]
  server role = standalone server
  security = user
  map to guest = never
  passdb backend = tdbsam:${SMB}/private/passdb.tdb
  private dir = ${SMB}/private
  lock directory = ${SMB}/lock
  state directory = ${SMB}/state
  cache directory = ${SMB}/cache
  pid directory = ${SMB}/pid
  ncalrpc dir = ${SMB}/ncalrpc
  binddns dir = ${SMB}/bind-dns
  log file = ${SMB}/log/log.%m
  log level = 1
  interfaces = lo
  bind interfaces only = yes
  smb ports = 445
  disable netbios = yes
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB3_00
${Object.entries(SHARES).map(([name, path]) => `[${name}]\n  path = ${path}\n  read only = no\n${name === 'forceuser' ? '  force user = nobody\n  force group = nogroup\n' : ''}`).join('')}`);
for (const dir of Object.values(SHARES)) {
  fs.mkdirSync(dir, { recursive: true });
  must(run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', dir]), `tmpfs ${dir}`);
}
must(run('smbpasswd', ['-c', conf, '-s', '-a', 'root'], { input: 'vslpw\nvslpw\n' }), 'smbpasswd -a root');
const smbd = must(run('smbd', ['-D', '-s', conf]), 'smbd');
out.smbd = { version: run('smbd', ['-V']).stdout.trim(), started: smbd.status === 0 };

/** Server-side files of both shares: owner, mode, and how the domain uses each. */
const FILES = [
  { name: 'ro-root.iso', uid: 0, gid: 0, mode: 0o644, disk: 'cdrom' },
  { name: 'ro-other.iso', uid: OTHER, gid: OTHER, mode: 0o600, disk: 'cdrom' },
  { name: 'rw-qemu.raw', uid: QEMU_UID, gid: QEMU_GID, mode: 0o600, disk: 'rw' },
  { name: 'rw-world.raw', uid: 0, gid: 0, mode: 0o666, disk: 'rw' },
];
const reset = () => {
  for (const dir of Object.values(SHARES)) {
    for (const f of FILES) {
      fs.chownSync(`${dir}/${f.name}`, f.uid, f.gid);
      fs.chmodSync(`${dir}/${f.name}`, f.mode);
    }
  }
};
for (const dir of Object.values(SHARES)) for (const f of FILES) fs.writeFileSync(`${dir}/${f.name}`, Buffer.alloc(1 << 20));
reset();

// Random scenarios on forceuser (the server opens as nobody, so its owners and modes decide): a
// directory and a file in it, random owners, groups and modes, wanted read-only or read-write.
const SEED = Number(fs.readFileSync('/proc/cmdline', 'utf8').match(/vsl\.seed=(\d+)/)?.[1] ?? 20261205);
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
fs.mkdirSync(`${SHARES.forceuser}/rnd`, { mode: 0o755 });
for (let i = 0; i < 10; i++) {
  const dir = { uid: pick([0, NOBODY, OTHER]), gid: pick([0, OTHER]), mode: pick([0o700, 0o711, 0o750, 0o755, 0o705, 0o701]) };
  const file = { uid: pick([0, NOBODY, QEMU_UID, OTHER]), gid: pick([0, OTHER]), mode: pick([0o600, 0o640, 0o644, 0o660, 0o664, 0o604, 0o606, 0o400, 0o666, 0o000]) };
  const access = pick(['read', 'readwrite']);
  const d = `${SHARES.forceuser}/rnd/d${i}`;
  fs.mkdirSync(d);
  fs.writeFileSync(`${d}/f`, Buffer.alloc(4096));
  fs.chownSync(`${d}/f`, file.uid, file.gid);
  fs.chmodSync(`${d}/f`, file.mode);
  fs.chownSync(d, dir.uid, dir.gid);
  fs.chmodSync(d, dir.mode);
  RANDOM.push({ i, dir, file, access });
}

// ---- the clients ---------------------------------------------------------------------------------
const CLIENT = '/srv/cifs';
const CRED = 'username=root,password=vslpw,actimeo=0';
const MOUNTS = {
  'modes-qemu': `vers=3.1.1,uid=${QEMU_UID},gid=${QEMU_GID},file_mode=0600,dir_mode=0700`,
  'modes-root': 'vers=3.0,uid=0,gid=0,file_mode=0644,dir_mode=0755',
  noperm: 'noperm,uid=0,gid=0,file_mode=0600,dir_mode=0700',
  forceuser: `uid=${QEMU_UID},gid=${QEMU_GID},file_mode=0666,dir_mode=0777`,
  context: `vers=3.1.1,uid=${QEMU_UID},gid=${QEMU_GID},file_mode=0600,dir_mode=0700,context=system_u:object_r:svirt_image_t:s0`,
};
fs.mkdirSync(CLIENT, { recursive: true });
setLabel(CLIENT, 'system_u:object_r:var_t:s0');
for (const [name, opts] of Object.entries(MOUNTS)) {
  const mp = `${CLIENT}/${name}`;
  fs.mkdirSync(mp);
  setLabel(mp, 'system_u:object_r:var_t:s0');
  let r;
  // smbd may still be coming up: a few tries.
  for (let i = 0; i < 10; i++) {
    r = run('mount', ['-t', 'cifs', `//127.0.0.1/${name}`, mp, '-o', `${CRED},${opts}`], { timeout: 120_000 });
    if (r.status === 0) break;
    spawnSync('sleep', ['2']);
  }
  must(r, `mount ${name}`);
}
out.mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(` ${CLIENT}/`)).map((l) => l.replace(/password=[^,\s]*/, 'password=…'));
progress(`mounted ${out.mounts.length} CIFS mounts`);

// ---- domains ---------------------------------------------------------------------------------------
const TARGETS = Array.from({ length: 26 }, (_, i) => `vd${String.fromCharCode(97 + i)}`);
const disk = (f, src, dev = 'vda', inner = '') => `    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
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
const sourceInner = (xml) => /<source file='[^']*'>([\s\S]*?)<\/source>/.exec(xml)?.[1] ?? (/<source file='[^']*'\/>/.test(xml) ? '' : null);

/** One start: create (transient, paused), record, destroy. `cs`: the cases whose files it holds. */
function start(name, xml, cs) {
  progress(`start ${name}`);
  const file = `/tmp/${name}-${Date.now()}.xml`;
  fs.writeFileSync(file, xml);
  run('dmesg', ['-C']);
  const s0 = Date.now();
  const st = virsh('create', '--paused', file);
  if (st.status === null) must(st, `virsh create ${name}`);
  const rec = { xml, cases: cs.map((c) => c.name), started: st.status === 0, startMessage: (st.stderr || '').trim(), startSeconds: (Date.now() - s0) / 1000, whileRunning: {}, after: {}, denials: [], otherDenials: 0 };
  for (const c of cs) rec.whileRunning[c.name] = { server: owner(c.server), client: owner(c.src) };
  for (const l of run('dmesg', []).stdout.split('\n')) {
    if (!l.includes('avc:') || !l.includes('denied') || !l.includes(':svirt_t:')) continue;
    if (!l.includes(':cifs_t:') && !l.includes(':svirt_image_t:')) { rec.otherDenials++; continue; }
    rec.denials.push({ perms: /denied\s+\{([^}]*)\}/.exec(l)?.[1]?.trim(), name: / name="([^"]*)"/.exec(l)?.[1], tcontext: / tcontext=(\S+)/.exec(l)?.[1], tclass: / tclass=(\S+)/.exec(l)?.[1], permissive: / permissive=1/.test(l) });
  }
  if (rec.started) must(virsh('destroy', name), `destroy ${name}`);
  for (const c of cs) rec.after[c.name] = { server: owner(c.server), client: owner(c.src) };
  return rec;
}
const asQemu = ['--reuid', String(QEMU_UID), '--regid', String(QEMU_GID), `--groups=${QEMU_GROUPS}`, '--inh-caps=-all', '--bounding-set=-all'];
/**
 * Opens as QEMU's identity (no capability), O_RDONLY for `read`, O_RDWR for `readwrite` (`<>` does not
 * truncate), all in one process (a process start is dear under TCG): per file, whether it opened and the
 * shell's error. The witness that groups the starts, and the reference of the random scenarios.
 */
const opensAsQemu = (list) => {
  const script = 'for a; do f=${a#?:}; case $a in r:*) (exec 3< "$f") 2>/tmp/cifs-open-$$.err ;; *) (exec 3<> "$f") 2>/tmp/cifs-open-$$.err ;; esac; echo "$? $(tr "\\n" " " < /tmp/cifs-open-$$.err)"; done';
  const r = run('setpriv', [...asQemu, 'sh', '-c', script, 'sh', ...list.map((x) => `${x.access === 'read' ? 'r' : 'w'}:${x.src}`)]);
  const lines = (r.stdout || '').split('\n');
  return list.map((_, i) => {
    const m = /^(\d+) ?(.*)$/.exec(lines[i] ?? '');
    return m ? { opened: m[1] === '0', error: m[2].trim() } : { opened: false, error: `no answer: ${(r.stderr || '').trim()}` };
  });
};

const cases = [];
for (const mount of Object.keys(MOUNTS)) {
  for (const f of FILES) {
    const name = `cifs-${mount}-${f.name.replace(/[/.]/g, '-')}`;
    cases.push({ name, mount, file: f.name, src: `${CLIENT}/${mount}/${f.name}`, server: `${SHARES[mount]}/${f.name}`, f, xml: domain(name, [disk(f, `${CLIENT}/${mount}/${f.name}`)]) });
  }
}

/** explain --json over `set` and `extra` (one node run: a process start is dear under TCG), annotate -i over `set`. */
function decide(set, dir, withAnnotate = true, extra = []) {
  fs.mkdirSync(dir, { recursive: true });
  const files = set.map((c) => `${dir}/${c.name}.xml`);
  set.forEach((c, i) => fs.writeFileSync(files[i], c.xml));
  const extraFiles = extra.map((c) => `${dir}/${c.name}.xml`);
  extra.forEach((c, i) => fs.writeFileSync(extraFiles[i], c.xml));
  const explain = run('node', [CLI, 'explain', '--json', ...files, ...extraFiles]);
  let doc = null;
  try { doc = JSON.parse(explain.stdout); } catch { out.errors.push(`explain --json (exit ${explain.status}): ${explain.stderr.slice(-2000)}`); }
  const annotate = withAnnotate ? run('node', [CLI, 'annotate', '-i', ...files]) : { status: null, stderr: '' };
  if (withAnnotate && annotate.status !== 0) out.errors.push(`annotate -i (exit ${annotate.status}): ${annotate.stderr.slice(-2000)}`);
  extra.forEach((c, i) => { c.dac = doc?.files?.find((x) => x.file === extraFiles[i])?.disks?.[0]?.models?.dac ?? null; });
  return set.map((c, i) => {
    const d = doc?.files?.find((x) => x.file === files[i])?.disks?.[0];
    return { dac: d?.models?.dac ?? null, selinux: d?.models?.selinux ?? null, annotated: fs.readFileSync(files[i], 'utf8'), annotateExit: annotate.status };
  });
}

// ---- SELinux: virt_use_samba off (cifs_t: an ISO and an exclusive writable disk; svirt_image_t by
// context=: an exclusive writable disk), then on -------------------------------------------------------
const pickCase = (mount, file) => cases.find((c) => c.mount === mount && c.file === file);
const offSet = [pickCase('modes-qemu', 'ro-root.iso'), pickCase('modes-qemu', 'rw-qemu.raw'), pickCase('context', 'rw-qemu.raw')];
out.booleanOff.value = setBool('virt_use_samba', false);
progress('virt_use_samba off: explain');
const offDecisions = decide(offSet, '/tmp/cifs-off', false);
out.booleanOff.cases = offSet.map((c, i) => ({ name: c.name, mount: c.mount, file: c.file, selinux: offDecisions[i].selinux, dac: offDecisions[i].dac }));
out.booleanOff.starts = offSet.map((c) => start(`${c.name}-off`, domain(`${c.name}-off`, [disk(c.f, c.src)]), [c]));
reset();
// On: the same cifs_t files are in the domain A below (annotated or forced relabel='no'), which must start.
out.booleanOnValue = setBool('virt_use_samba', true);

// ---- every case with virt_use_samba on --------------------------------------------------------------
progress('virt_use_samba on: explain and annotate');
const rcases = RANDOM.map((sc) => {
  const name = `cifs-rnd-${sc.i}`;
  const src = `${CLIENT}/forceuser/rnd/d${sc.i}/f`;
  return { ...sc, name, src, xml: domain(name, [disk({ disk: sc.access === 'read' ? 'cdrom' : 'rw' }, src)]) };
});
const decisions = decide(cases, '/tmp/cifs-ann', true, rcases);
const opens = opensAsQemu([...cases.map((c) => ({ src: c.src, access: c.f.disk === 'cdrom' ? 'read' : 'readwrite' })), ...rcases]);
cases.forEach((c, i) => { c.d = decisions[i]; c.before = { server: owner(c.server), client: owner(c.src) }; c.open = opens[i]; });
const annotatedSet = cases.filter((c) => c.d.dac?.action === 'annotate');
const inner = annotatedSet.map((c) => sourceInner(c.d.annotated));
if (inner.some((x) => x === null)) out.errors.push('cannot find the annotated <source> of a case');
// A: every disk the tool annotated, exactly as annotated, and every other disk QEMU's identity opens,
// with dac relabel='no' forced in (QEMU's open as it is): one domain.
const forcedOpen = cases.filter((c) => c.open.opened && !annotatedSet.includes(c));
out.annotatedStart = start('cifs-annotated', domain('cifs-annotated', [
  ...annotatedSet.map((c, i) => disk(c.f, c.src, TARGETS[i], inner[i] ?? '')),
  ...forcedOpen.map((c, i) => disk(c.f, c.src, TARGETS[annotatedSet.length + i], FORCED)),
]), [...annotatedSet, ...forcedOpen]);
reset();
// B: libvirt's defaults (its chown and restore) for every disk QEMU's identity opens, one domain.
const openSet = cases.filter((c) => c.open.opened);
out.originalStart = start('cifs-original', domain('cifs-original', openSet.map((c, i) => disk(c.f, c.src, TARGETS[i]))), openSet);
reset();
// The disks QEMU's identity cannot open, one start each (a refusal is quick): QEMU's open as it is.
for (const c of cases) {
  const rec = { name: c.name, mount: c.mount, file: c.file, before: c.before, decision: { dac: c.d.dac, selinux: c.d.selinux, annotateExit: c.d.annotateExit }, annotated: c.d.annotated, open: c.open, inAnnotatedStart: annotatedSet.includes(c), inGroupStarts: c.open.opened };
  if (!rec.inGroupStarts) {
    rec.forcedStart = start(c.name, domain(c.name, [disk(c.f, c.src, 'vda', FORCED)]), [c]);
    reset();
  }
  out.cases.push(rec);
}
out.random = { seed: SEED, cases: rcases.map((c, i) => {
  const o = opens[cases.length + i];
  return { name: c.name, dir: c.dir, file: c.file, access: c.access, dac: c.dac, opened: o.opened, openError: o.error };
}) };

out.seconds = (Date.now() - t0) / 1000;
process.stdout.write(JSON.stringify(out));
