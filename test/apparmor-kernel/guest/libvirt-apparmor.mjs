/**
 * The libvirt job of the AppArmor guest, run by ../../selinux-kernel/guest/libvirt.sh (mode apparmor) after
 * it loaded libvirt's daemon and virt-aa-helper profiles and started this host's own libvirtd, unconfined
 * shell to /usr/sbin/libvirtd (the profile attaches by path). It builds the files of each case, lets the
 * built CLI annotate and explain them live (AppArmor is the active LSM here), then starts each domain
 * paused (`virsh start --paused`, QEMU under TCG) twice, from the original and the annotated XML, every
 * file put back to its first owner in between. Per start it records what the kernel did: QEMU's AppArmor
 * label, the files QEMU holds open, the per-VM profile virt-aa-helper wrote, and every AppArmor audit
 * record (`apparmor="DENIED"` names the file the kernel refused). Last, the detection: libvirtd restarted
 * with security_driver "apparmor", "dac" and "none" in qemu.conf, what `virsh capabilities` and the tool
 * say for each. Prints one JSON document; ../libvirt-apparmor.test.ts asserts.
 * argv: REPO. Plain JavaScript: it runs on the guest's node without a build step.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const repo = process.argv[2];
const CLI = `${repo}/dist/cli/main.js`;
const QEMU_UID = Number(spawnSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' }).stdout.trim());
const QEMU_GID = Number(spawnSync('id', ['-g', 'libvirt-qemu'], { encoding: 'utf8' }).stdout.trim());
const out = { waitedForLibvirtSeconds: 0, seconds: 0, libvirtdContext: null, capabilities: '', profiles: '', setup: [], explain: null, explainStderr: '', annotateExit: null, annotateStderr: '', cases: {}, detection: [], disconnected: [], errors: [] };
const t0 = Date.now();

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const virsh = (...args) => run('virsh', ['-c', 'qemu:///system', ...args]);
const progress = (msg) => { try { fs.appendFileSync('/dev/console', `vsl-progress: ${((Date.now() - t0) / 1000).toFixed(0)} s ${msg}\n`); } catch { /* no console */ } };
const must = (r, what) => {
  if (r.status !== 0) out.errors.push(`${what}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r;
};
const readOr = (p, dflt = null) => { try { return fs.readFileSync(p, 'utf8'); } catch { return dflt; } };
const secmodels = (xml) => (xml.match(/<secmodel>[\s\S]*?<\/secmodel>/g) ?? []).map((m) => ({ model: /<model>([^<]*)</.exec(m)?.[1] ?? '', doi: /<doi>([^<]*)</.exec(m)?.[1] ?? '' }));

const libvirtdPid = () => readOr('/run/vsl-libvirtd.pid', '').trim();
/** A daemon this job started and killed stays a zombie (nobody here reaps it): alive means not yet dead. */
const alive = (pid) => !/^\d+ \(.*\) [ZX]/.test(readOr(`/proc/${pid}/stat`, '0 () X'));
const contextOf = (pid) => readOr(`/proc/${pid}/attr/current`)?.replace(/\0$/, '').trim() ?? null;

function waitForLibvirt(seconds = 600) {
  const s0 = Date.now();
  for (let i = 0; i < seconds; i++) {
    if (virsh('version').status === 0) return (Date.now() - s0) / 1000;
    const pid = libvirtdPid();
    if (pid && !alive(pid)) break;
    spawnSync('sleep', ['1']);
  }
  return (Date.now() - s0) / 1000;
}

// ---- libvirtd, as libvirt.sh started it ------------------------------------------------------
out.waitedForLibvirtSeconds = waitForLibvirt();
if (virsh('version').status !== 0) out.errors.push(`libvirtd did not answer: ${readOr('/tmp/libvirtd.log', '').slice(-3000)}`);
progress(`libvirtd answers after ${out.waitedForLibvirtSeconds} s`);
out.libvirtdContext = contextOf(libvirtdPid());
out.capabilities = secmodels(virsh('capabilities').stdout);
out.profiles = readOr('/sys/kernel/security/apparmor/profiles', '');

// ---- the files ---------------------------------------------------------------------------------
const POOL = '/var/lib/libvirt/images';
const D = '/data';
for (const d of [POOL, `${D}/iso`, `${D}/backing`, `${D}/vols`, `${D}/cmdline`, `${D}/fw`, `${D}/nvram`]) fs.mkdirSync(d, { recursive: true });
const mkfile = (p, size = 1 << 20) => { fs.writeFileSync(p, Buffer.alloc(size)); return p; };
const F = {
  pool: mkfile(`${POOL}/vsl-pool.raw`),
  iso: mkfile(`${D}/iso/vsl-install.iso`),
  chainTop: `${POOL}/vsl-chain-top.qcow2`,
  chainBase: mkfile(`${D}/backing/vsl-chain-base.raw`),
  volTop: `${D}/vols/vsl-top.vol`,
  volBase: mkfile(`${D}/vols/vsl-base.vol`),
  fwcfg: mkfile(`${D}/cmdline/vsl-blob.bin`, 4096),
  drive: mkfile(`${D}/cmdline/vsl-extra.raw`),
  loader: `${D}/fw/VSL_CODE_4M.fd`,
  nvram: `${D}/nvram/vsl-fw_VARS.fd`,
  refused: mkfile('/etc/libvirt/vsl-refused.raw'),
};
must(run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', F.chainBase, '-F', 'raw', F.chainTop]), 'qemu-img create chain');
must(run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', F.volBase, '-F', 'raw', F.volTop]), 'qemu-img create vol');
fs.copyFileSync('/usr/share/OVMF/OVMF_CODE_4M.fd', F.loader);
const VARS_TEMPLATE = '/usr/share/OVMF/OVMF_VARS_4M.fd';
fs.copyFileSync(VARS_TEMPLATE, F.nvram);

/** The owner and mode each file starts from, put back before every start. */
const root = (mode = 0o644) => ({ uid: 0, gid: 0, mode });
const qemu = (mode = 0o600) => ({ uid: QEMU_UID, gid: QEMU_GID, mode });
const initial = new Map([
  [F.pool, qemu()], [F.iso, root()], [F.chainTop, root()], [F.chainBase, root()], [F.volTop, root()], [F.volBase, root()],
  [F.fwcfg, root()], [F.drive, root()], [F.loader, root()], [F.nvram, root(0o600)], [F.refused, root()],
]);
const forget = (p) => {
  for (const n of run('getfattr', ['-m', '^trusted\\.libvirt\\.', '--absolute-names', p]).stdout.split('\n').filter((l) => l.startsWith('trusted.'))) run('setfattr', ['-x', n, p]);
};
const reset = () => {
  for (const [p, f] of initial) {
    forget(p);
    fs.chownSync(p, f.uid, f.gid);
    fs.chmodSync(p, f.mode);
  }
};
reset();
out.setup = [...initial].map(([path, f]) => ({ path, uid: f.uid, gid: f.gid, mode: f.mode }));

// ---- the domains ---------------------------------------------------------------------------------
const uuid = (n) => `5eb1abe1-0000-4000-8000-${String(n).padStart(12, '0')}`;
const disk = ({ src, fmt = 'raw', dev, device = 'disk', bus = 'virtio', ro = false }) => `    <disk type='file' device='${device}'>
      <driver name='qemu' type='${fmt}'/>
      <source file='${src}'/>
      <target dev='${dev}' bus='${bus}'/>${ro ? '\n      <readonly/>' : ''}
    </disk>
`;
const domain = (n, name, { disks = [], os = '', features = '', cmdline = [] }) => `<domain type='qemu'${cmdline.length ? " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'" : ''}>
  <name>${name}</name>
  <uuid>${uuid(n)}</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
${os}  </os>
${features}  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${disks.join('')}    <video>
      <model type='none'/>
    </video>
  </devices>
${cmdline.length ? `  <qemu:commandline>\n${cmdline.map((a) => `    <qemu:arg value='${a}'/>\n`).join('')}  </qemu:commandline>\n` : ''}</domain>
`;
/**
 * Each case: its domain and the files QEMU needs, each with where explain reports it (a disk by target,
 * its whole chain in one row; a file beyond disks by its element) and, for a chain, the disk it belongs to.
 */
const cases = [
  // Every file virt-aa-helper writes a rule for from the XML, in one VM (each start costs about a minute of
  // apparmor_parser under TCG): a writable disk in libvirt's pool, an ISO in a directory of its own, a
  // qcow2 in the pool whose backing file lies outside it, firmware and nvram in unusual places.
  { n: 1, name: 'vsl-aa-xml',
    xml: domain(1, 'vsl-aa-xml', {
      disks: [disk({ src: F.pool, dev: 'vda' }), disk({ src: F.iso, dev: 'hdc', device: 'cdrom', bus: 'ide', ro: true }), disk({ src: F.chainTop, fmt: 'qcow2', dev: 'vdb', ro: true })],
      os: `    <loader readonly='yes' type='pflash'>${F.loader}</loader>\n    <nvram template='${VARS_TEMPLATE}'>${F.nvram}</nvram>\n`,
      // libvirt: "UEFI requires ACPI on this architecture".
      features: '  <features>\n    <acpi/>\n  </features>\n',
    }),
    files: [{ path: F.pool, disk: 'vda' }, { path: F.iso, disk: 'hdc' }, { path: F.chainTop, disk: 'vdb' }, { path: F.chainBase, disk: 'vdb' }, { path: F.loader, element: 'os/loader' }, { path: F.nvram, element: 'os/nvram' }] },
  // A chain whose files virt-aa-helper's own profile may not read (no extension it knows, outside its paths).
  { n: 2, name: 'vsl-aa-vol', xml: domain(2, 'vsl-aa-vol', { disks: [disk({ src: F.volTop, fmt: 'qcow2', dev: 'vda', ro: true })] }),
    files: [{ path: F.volTop, disk: 'vda' }, { path: F.volBase, disk: 'vda' }] },
  // Files QEMU gets only through <qemu:commandline>: no rule for them.
  { n: 3, name: 'vsl-aa-fwcfg', xml: domain(3, 'vsl-aa-fwcfg', { cmdline: ['-fw_cfg', `name=opt/vsl/blob,file=${F.fwcfg}`] }),
    files: [{ path: F.fwcfg, element: 'qemu:commandline -fw_cfg' }] },
  { n: 4, name: 'vsl-aa-drive', xml: domain(4, 'vsl-aa-drive', { cmdline: ['-drive', `file=${F.drive},format=raw,if=none,id=vslx,readonly=on`] }),
    files: [{ path: F.drive, element: 'qemu:commandline -drive' }] },
  // A disk under /etc/, one of virt-aa-helper's restricted prefixes.
  { n: 5, name: 'vsl-aa-refused', xml: domain(5, 'vsl-aa-refused', { disks: [disk({ src: F.refused, dev: 'vda', ro: true })] }),
    files: [{ path: F.refused, disk: 'vda' }] },
];

const DIR = '/tmp/vsl-aa';
fs.mkdirSync(`${DIR}/annotated`, { recursive: true });
for (const c of cases) {
  c.original = `${DIR}/${c.name}.xml`;
  c.annotatedFile = `${DIR}/annotated/${c.name}.xml`;
  fs.writeFileSync(c.original, c.xml);
  fs.writeFileSync(c.annotatedFile, c.xml);
}
// One explain and one annotate for all cases (node under TCG takes seconds per run), live: the tool reads
// this kernel's AppArmor state, qemu.conf and the files themselves, as on a real host.
progress('explain and annotate');
const explain = run('node', [CLI, 'explain', '--json', ...cases.map((c) => c.original)]);
out.explainStderr = explain.stderr;
try { out.explain = JSON.parse(explain.stdout); } catch { out.errors.push(`explain --json: exit ${explain.status}: ${explain.stderr}`); }
const annotate = run('node', [CLI, 'annotate', '-i', ...cases.map((c) => c.annotatedFile)]);
out.annotateExit = annotate.status;
out.annotateStderr = annotate.stderr;

// ---- the starts ----------------------------------------------------------------------------------
/** Every AppArmor audit record in the kernel log, parsed into its key="value" fields. */
const auditRecords = () => run('dmesg', []).stdout.split('\n').filter((l) => l.includes('apparmor=')).map((l) => {
  const f = { line: l.replace(/^\[[^\]]*\]\s*/, '') };
  for (const m of l.matchAll(/ (\w+)=("([^"]*)"|\S+)/g)) f[m[1]] = m[3] ?? m[2];
  return f;
});
const fdsOf = (pid) => {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return null; } }).filter((p) => p !== null);
  } catch { return []; }
};

function start(c, xml, which) {
  progress(`start ${c.name} (${which})`);
  const file = `${DIR}/${c.name}-${which}-def.xml`;
  fs.writeFileSync(file, xml);
  run('dmesg', ['-C']);
  must(virsh('define', file), `define ${c.name}`);
  const s0 = Date.now();
  const st = virsh('start', '--paused', c.name);
  const rec = { started: st.status === 0, startMessage: (st.stderr || '').trim(), startSeconds: (Date.now() - s0) / 1000, pid: null, context: null, fds: [], profileFiles: null, owners: {}, audit: [] };
  if (rec.started) {
    rec.pid = readOr(`/run/libvirt/qemu/${c.name}.pid`, '').trim() || null;
    if (rec.pid) { rec.context = contextOf(rec.pid); rec.fds = fdsOf(rec.pid); }
    // The rules virt-aa-helper generated for this VM (libvirt removes them when the VM stops).
    rec.profileFiles = readOr(`/etc/apparmor.d/libvirt/libvirt-${uuid(c.n)}.files`);
  } else {
    rec.qemuLog = (readOr(`/var/log/libvirt/qemu/${c.name}.log`, '') ?? '').split('\n').filter((l) => /qemu-system-x86_64: | error : /.test(l)).slice(-5).join('\n');
  }
  for (const f of c.files) { try { const s = fs.statSync(f.path); rec.owners[f.path] = { uid: s.uid, gid: s.gid }; } catch { rec.owners[f.path] = null; } }
  if (rec.started) must(virsh('destroy', c.name), `destroy ${c.name}`);
  must(virsh('undefine', '--keep-nvram', c.name), `undefine ${c.name}`);
  // kauditd prints AppArmor's records from its own thread: give it a moment after QEMU's last open.
  spawnSync('sleep', ['1']);
  rec.audit = auditRecords().filter((r) => r.apparmor !== 'STATUS');
  const denied = rec.audit.filter((a) => a.apparmor === 'DENIED').map((a) => `${a.operation} ${a.name} ${a.denied_mask}`);
  progress(`  ${c.name} (${which}): started=${rec.started} ${rec.context ?? rec.startMessage.slice(-300)}; DENIED: ${denied.join(', ') || 'none'}`);
  // AppArmor records a lookup it could not name (a file reached outside the namespace's root) as
  // info="Failed name lookup - disconnected path"; any such record is kept.
  out.disconnected.push(...rec.audit.filter((r) => /disconnected/.test(r.info ?? '')).map((r) => r.line));
  return rec;
}

for (const c of cases) {
  reset();
  const original = start(c, c.xml, 'original');
  const annotatedXml = fs.readFileSync(c.annotatedFile, 'utf8');
  // An annotation that changed nothing is the same start again: not repeated (a start costs a minute).
  let annotatedStart = null;
  if (annotatedXml !== c.xml) {
    reset();
    annotatedStart = start(c, annotatedXml, 'annotated');
  }
  out.cases[c.name] = { uuid: uuid(c.n), files: c.files, original, annotated: annotatedStart, annotatedXml };
}
reset();

// ---- detection: security_driver in qemu.conf, as libvirt and as the tool read it -------------------
const restartLibvirtd = () => {
  const pid = libvirtdPid();
  if (pid) {
    run('kill', [pid]);
    for (let i = 0; i < 120 && alive(pid); i++) spawnSync('sleep', ['0.5']);
    if (alive(pid)) { run('kill', ['-9', pid]); spawnSync('sleep', ['1']); }
  }
  run('sh', ['-c', 'libvirtd >> /tmp/libvirtd.log 2>&1 & echo $! > /run/vsl-libvirtd.pid']);
  return waitForLibvirt(180);
};
const baseConf = readOr('/etc/libvirt/qemu.conf', '');
for (const driver of ['apparmor', 'dac', 'none']) {
  progress(`security_driver = ${driver}`);
  fs.writeFileSync('/etc/libvirt/qemu.conf', `${baseConf}security_driver = "${driver}"\n`);
  const logBefore = (readOr('/tmp/libvirtd.log', '') ?? '').length;
  const waited = restartLibvirtd();
  // What the daemon said about its security drivers, or why it would not start.
  const daemonErrors = (readOr('/tmp/libvirtd.log', '') ?? '').slice(logBefore).split('\n').filter((l) => / error : /.test(l) && /[Ss]ecurity/.test(l));
  const models = secmodels(virsh('capabilities').stdout);
  const e = run('node', [CLI, 'explain', '--json', cases[4].original]);
  let apparmor = null;
  // The tool refuses a qemu.conf libvirtd refuses (exit 2): its words are the record, not a harness error.
  try { apparmor = JSON.parse(e.stdout).connection.models.apparmor; } catch { if (e.status !== 2) out.errors.push(`explain with security_driver ${driver}: ${e.stderr}`); }
  out.detection.push({ securityDriver: driver, libvirtdWaited: waited, secmodels: models, toolApparmor: apparmor, toolExit: e.status, toolStderr: e.stderr, libvirtdContext: contextOf(libvirtdPid()), daemonAlive: alive(libvirtdPid()), daemonErrors });
}
fs.writeFileSync('/etc/libvirt/qemu.conf', baseConf);

out.seconds = (Date.now() - t0) / 1000;
process.stdout.write(JSON.stringify(out));
