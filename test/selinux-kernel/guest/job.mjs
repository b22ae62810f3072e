/**
 * The SELinux-kernel job, run inside the guest: builds a labelled tree, asks the built CLI in live mode
 * (no --policy: the kernel's loaded policy and booleans) and in file mode (the same policy file), and
 * asks the kernel itself: security_compute_av through /sys/fs/selinux/access for every file, directory
 * and link QEMU's open would touch, for several process contexts libvirt could give the VM, and real
 * opens as those contexts with the AVC denials the kernel logs. Prints one JSON document; the host side
 * (../guest.test.ts) asserts. Plain JavaScript: it runs on the guest's node without a build step.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repo = process.argv[2];
const CLI = `${repo}/dist/cli/main.js`;
const POLICY = '/etc/selinux/default/policy/policy.33';
const T = '/srv/vsl';
const out = { setLabels: [], domains: {}, kernel: [], opens: [], booleanFlip: {}, query: {}, edges: {} };

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const label = (p, ctx) => {
  const r = run('setfattr', ['-h', '-n', 'security.selinux', '-v', ctx, p]);
  out.setLabels.push({ path: p, ctx, ok: r.status === 0, err: r.stderr.trim() });
};
// Each getfattr is a process start, slow under TCG; a label does not change once the tree is made.
const labels = new Map();
const getLabel = (p) => {
  if (labels.has(p)) return labels.get(p);
  const r = run('getfattr', ['-h', '--only-values', '-n', 'security.selinux', p]);
  const v = r.status === 0 ? r.stdout.replace(/\0$/, '') : null;
  labels.set(p, v);
  return v;
};
const obj = (type, level = 's0') => `system_u:object_r:${type}:${level}`;

// ---- the tree -------------------------------------------------------------------------------
label('/', obj('root_t'));
label('/srv', obj('var_t'));
fs.mkdirSync(T, { recursive: true });
label(T, obj('var_t'));
const file = (name, ctx, content = 'iso') => {
  fs.writeFileSync(`${T}/${name}`, content);
  label(`${T}/${name}`, ctx);
  return `${T}/${name}`;
};
const files = {
  pub: file('pub.iso', obj('public_content_t')),
  virt: file('virt.iso', obj('virt_content_t')),
  home: file('home.iso', obj('user_home_t')),
  nfs: file('nfs.iso', obj('nfs_t')),
  img: file('img.raw', obj('svirt_image_t')),
  imgCats: file('img-cats.raw', obj('svirt_image_t', 's0:c1,c2')),
  pubCats: file('pub-cats.iso', obj('public_content_t', 's0:c1,c2')),
  canon: file('canon.iso', obj('public_content_t', 's0:c1,c2,c3')),
  unknownType: file('unknown.iso', obj('no_such_type_t')),
};
run('mknod', [`${T}/sr0`, 'b', '11', '0']);
label(`${T}/sr0`, obj('removable_device_t'));
run('mknod', [`${T}/sdz`, 'b', '8', '0']);
label(`${T}/sdz`, obj('fixed_disk_device_t'));
fs.symlinkSync('pub.iso', `${T}/link-virt.iso`);
label(`${T}/link-virt.iso`, obj('virt_content_t'));
fs.symlinkSync('pub.iso', `${T}/link-home.iso`);
label(`${T}/link-home.iso`, obj('user_home_t'));
fs.mkdirSync(`${T}/private`);
label(`${T}/private`, obj('user_home_dir_t'));
file('private/in.iso', obj('public_content_t'));
fs.mkdirSync(`${T}/secret`);
label(`${T}/secret`, obj('shadow_t'));
file('secret/in.iso', obj('public_content_t'));
const qemuImg = (args) => run('qemu-img', ['create', '-q', ...args]);
file('base-pub.raw', obj('public_content_t'), Buffer.alloc(65536));
file('base-home.raw', obj('user_home_t'), Buffer.alloc(65536));
qemuImg(['-f', 'qcow2', '-F', 'raw', '-b', `${T}/base-pub.raw`, `${T}/chain-ok.qcow2`, '64K']);
label(`${T}/chain-ok.qcow2`, obj('virt_content_t'));
qemuImg(['-f', 'qcow2', '-F', 'raw', '-b', `${T}/base-home.raw`, `${T}/chain-bad.qcow2`, '64K']);
label(`${T}/chain-bad.qcow2`, obj('virt_content_t'));
out.edges.canonicalLabel = getLabel(`${T}/canon.iso`);

/** Each disk: its top path, format, how it is attached, and every file QEMU opens for it. */
const disks = [
  ...['pub.iso', 'virt.iso', 'home.iso', 'nfs.iso', 'img.raw', 'img-cats.raw', 'pub-cats.iso', 'canon.iso', 'unknown.iso', 'link-virt.iso', 'link-home.iso', 'private/in.iso', 'secret/in.iso']
    .map((n) => ({ path: `${T}/${n}`, format: 'raw', mode: 'readonly', kind: 'file' })),
  { path: `${T}/sr0`, format: 'raw', mode: 'readonly', kind: 'block' },
  { path: `${T}/sdz`, format: 'raw', mode: 'readonly', kind: 'block' },
  { path: `${T}/chain-ok.qcow2`, format: 'qcow2', mode: 'readonly', kind: 'file', backing: [`${T}/base-pub.raw`] },
  { path: `${T}/chain-bad.qcow2`, format: 'qcow2', mode: 'readonly', kind: 'file', backing: [`${T}/base-home.raw`] },
  { path: `${T}/img.raw`, format: 'raw', mode: 'shareable', kind: 'file' },
  { path: `${T}/pub.iso`, format: 'raw', mode: 'shareable', kind: 'file' },
  { path: `${T}/img-cats.raw`, format: 'raw', mode: 'exclusive', kind: 'file' },
];
disks.forEach((d, i) => (d.target = `vd${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`));

const diskXml = (d) => {
  const src = d.kind === 'block' ? `<source dev='${d.path}'/>` : `<source file='${d.path}'/>`;
  const flags = d.mode === 'readonly' ? '<readonly/>' : d.mode === 'shareable' ? "<shareable/>" : '';
  return `    <disk type='${d.kind}' device='disk'><driver name='qemu' type='${d.format}' cache='writeback'/>${src}<target dev='${d.target}' bus='virtio'/>${flags}</disk>\n`;
};
const domainXml = (type, seclabel) => `<domain type='${type}'>\n  <name>vsl-${type}</name>\n  <memory unit='MiB'>64</memory>\n  <devices>\n${disks.map(diskXml).join('')}  </devices>\n${seclabel}</domain>\n`;
const STATIC = 'system_u:system_r:svirt_t:s0:c1,c2';
const domains = {
  dynamic: domainXml('kvm', ''),
  static: domainXml('kvm', `  <seclabel type='static' model='selinux' relabel='yes'><label>${STATIC}</label></seclabel>\n`),
  baselabel: domainXml('kvm', "  <seclabel type='dynamic' model='selinux'><baselabel>system_u:system_r:svirt_t:s0</baselabel></seclabel>\n"),
  qemu: domainXml('qemu', ''),
};
const HOST = ['--models', 'selinux', '--user', 'root', '--group', 'root', '--qemu-conf', '/nonexistent/qemu.conf'];
const explain = (xmlPath, extra) => {
  const r = run('/usr/bin/node', [CLI, 'explain', '--json', ...HOST, ...extra, xmlPath]);
  try {
    return { code: r.status, report: JSON.parse(r.stdout), stderr: r.stderr };
  } catch {
    return { code: r.status, report: null, stderr: r.stderr, stdout: r.stdout.slice(0, 2000) };
  }
};
for (const [name, xml] of Object.entries(domains)) {
  fs.writeFileSync(`/tmp/${name}.xml`, xml);
  out.domains[name] = { live: explain(`/tmp/${name}.xml`, []), file: explain(`/tmp/${name}.xml`, ['--policy', POLICY]) };
}

// ---- the kernel's own answers ---------------------------------------------------------------
const { READ_PERMS, READ_WRITE_PERMS, DIR_SEARCH_PERMS, LINK_FOLLOW_PERMS } = await import(`${repo}/dist/selinux/qemu-perms.js`);
const classIndex = (c) => Number(fs.readFileSync(`/sys/fs/selinux/class/${c}/index`, 'utf8'));
const permBit = (c, p) => 1 << (Number(fs.readFileSync(`/sys/fs/selinux/class/${c}/perms/${p}`, 'utf8')) - 1);
/** security_compute_av: does the kernel allow every one of `perms`? null when it cannot answer (invalid context). */
function kernelAllows(scon, tcon, cls, perms) {
  if (tcon === null) return null;
  try {
    const fd = fs.openSync('/sys/fs/selinux/access', 'r+');
    fs.writeSync(fd, `${scon} ${tcon} ${classIndex(cls)}`);
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, 256, null);
    fs.closeSync(fd);
    const allowed = parseInt(buf.subarray(0, n).toString().split(' ')[0], 16) >>> 0;
    const want = perms.reduce((a, p) => (a | permBit(cls, p)) >>> 0, 0);
    return (allowed & want) >>> 0 === want;
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}
/** Every object QEMU's open of `p` touches: each directory searched, each symlink followed, then the file. */
function objectsOnPath(p) {
  const objs = [];
  let cur = '/';
  objs.push({ path: '/', cls: 'dir', perms: DIR_SEARCH_PERMS });
  const parts = p.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const next = path.join(cur, parts[i]);
    const st = fs.lstatSync(next);
    if (st.isSymbolicLink()) {
      objs.push({ path: next, cls: 'lnk_file', perms: LINK_FOLLOW_PERMS });
      const target = path.resolve(cur, fs.readlinkSync(next));
      return [...objs, ...objectsOnPath(target).slice(1)];
    }
    if (i < parts.length - 1) objs.push({ path: next, cls: 'dir', perms: DIR_SEARCH_PERMS });
    else objs.push({ path: next, cls: st.isBlockDevice() ? 'blk_file' : 'file', perms: null });
    cur = next;
  }
  return objs;
}
const CONTEXTS = {
  dynamic: ['s0:c1,c2', 's0:c100,c200', 's0:c5', 's0:c1022,c1023'].map((l) => `system_u:system_r:svirt_t:${l}`),
  static: [STATIC],
};
CONTEXTS.baselabel = CONTEXTS.dynamic;
CONTEXTS.qemu = CONTEXTS.dynamic;
for (const d of disks) {
  const topPerms = d.mode === 'readonly' ? READ_PERMS : READ_WRITE_PERMS;
  const chainFiles = [{ p: d.path, perms: topPerms }, ...(d.backing ?? []).map((p) => ({ p, perms: READ_PERMS }))];
  for (const [domain, contexts] of Object.entries(CONTEXTS)) {
    for (const scon of contexts) {
      const answers = [];
      for (const f of chainFiles)
        for (const o of objectsOnPath(f.p)) {
          const tcon = getLabel(o.path);
          answers.push({ path: o.path, cls: o.cls, tcon, allowed: kernelAllows(scon, tcon, o.cls, o.perms ?? f.perms) });
        }
      out.kernel.push({ domain, target: d.target, mode: d.mode, scon, allowed: answers.every((a) => a.allowed === true), answers });
    }
  }
}

// ---- real opens as the VM's context, with the AVC denials the kernel logs -------------------
// Permissive mode logs each denial once per (source, target, class) and then caches it, so every open
// runs as a context no earlier open used (a fresh category pair); only targets without categories are
// opened this way (for them every pair is equivalent), the rest rely on the kernel's access answers.
let pair = 300;
for (const d of disks.filter((x) => !/cats|canon/.test(x.path) && x.mode === 'readonly')) {
  const scon = `system_u:system_r:svirt_t:s0:c${pair},c${pair + 1}`;
  pair += 2;
  run('dmesg', ['-C']);
  const files = [d.path, ...(d.backing ?? [])];
  const opens = files.map((f) => run('/bin/sh', ['-c', `printf %s "$0" > /proc/self/attr/exec && exec /usr/bin/dd if="$1" of=/dev/null bs=512 count=1 iflag=nonblock`, scon, f]));
  const log = run('dmesg', []).stdout.split('\n').filter((l) => l.includes('avc:') && l.includes('denied') && l.includes(`scontext=${scon}`));
  // The tree and the root are tmpfs; what dd itself needs (its binary, ld.so.cache, /dev/null) is on 9p or
  // devtmpfs and draws denials that say nothing about the disk.
  // Only denials on what the disk's own path walk touches: the /lib symlink of the tmpfs root is not one.
  const names = new Set(files.flatMap((f) => objectsOnPath(f).map((o) => (o.path === '/' ? '/' : path.basename(o.path)))));
  const relevant = log.filter((l) => l.includes('dev="tmpfs"') && names.has(/ name="([^"]*)"/.exec(l)?.[1] ?? ''));
  out.opens.push({ target: d.target, path: d.path, scon, exits: opens.map((o) => o.status), denials: relevant });
}

// ---- a facts snapshot taken on this SELinux host, for the host side to replay with --facts -----
for (const name of Object.keys(domains)) {
  const r = run('/usr/bin/node', [CLI, 'facts', ...HOST, `/tmp/${name}.xml`]);
  out.facts = out.facts ?? {};
  out.facts[name] = { code: r.status, stderr: r.stderr.slice(-2000), snapshot: r.stdout, xml: domains[name] };
}

// ---- booleans flipped in the running kernel -------------------------------------------------
const setBool = (name, v) => {
  fs.writeFileSync(`/sys/fs/selinux/booleans/${name}`, v ? '1' : '0');
  fs.writeFileSync('/sys/fs/selinux/commit_pending_bools', '1');
};
setBool('virt_use_nfs', true);
out.booleanFlip.on = { live: explain('/tmp/dynamic.xml', []), file: explain('/tmp/dynamic.xml', ['--policy', POLICY, '--boolean', 'virt_use_nfs=on']) };
setBool('virt_use_nfs', false);
out.booleanFlip.off = { live: explain('/tmp/dynamic.xml', []) };

// ---- query: live against file, over generated questions -------------------------------------
const types = ['public_content_t', 'virt_content_t', 'svirt_image_t', 'user_home_t', 'nfs_t', 'removable_device_t', 'fixed_disk_device_t', 'var_t', 'root_t', 'tmp_t', 'etc_t', 'usr_t', 'bin_t', 'fusefs_t', 'usbfs_t', 'cifs_t', 'default_t'];
const levels = ['s0', 's0:c1,c2', 's0:c1.c3', 's0:c12,c345', 's0-s0:c0.c1023', 's0:c5'];
const sources = ['svirt_t', 'virtd_t', 'qemu_t', 'unconfined_t'];
const classes = { file: ['read', 'open', 'getattr', 'write', 'append', 'lock', 'ioctl'], blk_file: ['read', 'open', 'ioctl', 'write'], dir: ['search', 'getattr', 'read'], lnk_file: ['read'] };
let seed = 0x5eed;
const rnd = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
const pick = (a) => a[rnd(a.length)];
const lines = [];
for (let i = 0; i < 3000; i++) {
  const cls = pick(Object.keys(classes));
  const perms = [...new Set([pick(classes[cls]), pick(classes[cls]), pick(classes[cls])])];
  const q = { scontext: `system_u:system_r:${pick(sources)}:${pick(['s0', 's0:c1,c2', 's0:c5', 's0-s0:c0.c1023'])}`, tcontext: obj(pick(types), pick(levels)), tclass: cls, perms };
  if (i % 7 === 0) q.booleans = { virt_use_nfs: true };
  lines.push(JSON.stringify(q));
}
fs.writeFileSync('/tmp/questions.jsonl', lines.join('\n') + '\n');
const ask = (extra) => run('/usr/bin/node', [CLI, 'query', ...extra], { input: fs.readFileSync('/tmp/questions.jsonl') });
const liveQ = ask([]);
const fileQ = ask(['--policy', POLICY]);
out.query = { count: lines.length, liveCode: liveQ.status, fileCode: fileQ.status, liveErr: liveQ.stderr.slice(0, 500), fileErr: fileQ.stderr.slice(0, 500), live: liveQ.stdout, file: fileQ.stdout };

// ---- labels: the list of types svirt may use, live and from the file, each checked by the kernel --
const labelsOf = (extra) => {
  const r = run('/usr/bin/node', [CLI, 'labels', '--json', ...extra]);
  try {
    return { code: r.status, report: JSON.parse(r.stdout), stderr: r.stderr };
  } catch {
    return { code: r.status, report: null, stderr: r.stderr };
  }
};
const liveLabels = labelsOf([]);
const fileLabels = labelsOf(['--policy', POLICY]);
const SVIRT = 'system_u:system_r:svirt_t:s0:c1,c2';
const labelChecks = (liveLabels.report?.usable ?? []).map((u) => {
  const perms = liveLabels.report.permissions[u.use];
  return {
    ...u,
    kernelNoCategories: kernelAllows(SVIRT, obj(u.type), u.class, perms),
    kernelForeign: kernelAllows(SVIRT, obj(u.type, 's0:c3'), u.class, perms),
  };
});
out.labels = { liveCode: liveLabels.code, fileCode: fileLabels.code, liveErr: liveLabels.stderr, same: JSON.stringify(liveLabels.report?.usable) === JSON.stringify(fileLabels.report?.usable), checks: labelChecks };

// ---- the start-time hook at start begin, with the label libvirt generated ---------------------
const hookXml = (disk, level) => `<domain type='kvm'>\n  <name>vsl-hook</name>\n  <devices>\n    <disk type='file' device='cdrom'><source file='${disk}'><seclabel model='selinux' relabel='no'/></source><target dev='hdc'/><readonly/></disk>\n  </devices>\n  <seclabel type='dynamic' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:${level}</label><imagelabel>system_u:object_r:svirt_image_t:${level}</imagelabel></seclabel>\n</domain>\n`;
const hook = (disk, level) => {
  const r = run('/usr/bin/node', [CLI, 'hook', '--models', 'selinux', '--qemu-conf', '/nonexistent/qemu.conf', '--hook-config', '/nonexistent/hook.conf', '--', 'vsl-hook', 'start', 'begin', '-'], { input: hookXml(disk, level) });
  return { code: r.status, stderr: r.stderr };
};
out.hook = {
  // public_content_t:s0: readable by any VM; public_content_t:s0:c1,c2: only by a VM whose label dominates c1,c2.
  plain: hook(files.pub, 's0:c10,c20'),
  ownCategories: hook(files.pubCats, 's0:c1,c2'),
  foreignCategories: hook(files.pubCats, 's0:c10,c20'),
};

// ---- a policy reload while the machine runs -------------------------------------------------
run('/bin/sh', ['-c', `dd if=${POLICY} of=/sys/fs/selinux/load bs=16M 2>/dev/null`]);
out.edges.afterReload = explain('/tmp/dynamic.xml', []);

process.stdout.write(JSON.stringify(out));
