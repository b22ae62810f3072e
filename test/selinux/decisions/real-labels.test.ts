/**
 * SELinux decisions end to end on a real tree whose files carry real security.selinux xattrs (set with
 * setfattr as root; this kernel does not enforce them), decided with Debian's real policies, and every
 * decision checked against libsepol: a "yes" must hold in libsepol for every question QEMU's open asks,
 * under the representative MCS pairs and under random pairs libvirt could pick; a "no" must come with a
 * concrete question libsepol denies.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from 'xmlbuilder2';
import { walkPath } from '../../../src/host/walk.js';
import type { HostView } from '../../../src/host/view.js';
import { diskClass, diskPerms, DIR_SEARCH_PERMS, LINK_FOLLOW_PERMS } from '../../../src/selinux/qemu-perms.js';
import { explain, GROUP, PASSWD } from '../../cli/harness.js';
import { askSepol, type SepolQuery } from '../reference/sepol.js';
import { missingRequirements } from '../../support/requirements.js';
import { rootedView } from '../../support/rooted-view.js';

const POLICIES = ['/etc/selinux/default/policy/policy.33', '/etc/selinux/mls/policy/policy.33'];
const skip = missingRequirements({ root: true, commands: ['setfattr', 'mknod', 'qemu-img', 'cc'], files: POLICIES });

const L = (t: string, level = 's0') => `system_u:object_r:${t}:${level}`;

interface Node {
  readonly path: string;
  readonly kind: 'dir' | 'file' | 'block' | 'link' | 'qcow2';
  readonly label: string;
  readonly target?: string;
  readonly backing?: string;
}

const TREE: Node[] = [
  { path: '/', kind: 'dir', label: L('root_t') },
  { path: '/srv', kind: 'dir', label: L('var_t') },
  { path: '/srv/iso', kind: 'dir', label: L('public_content_t') },
  { path: '/srv/iso/public.iso', kind: 'file', label: L('public_content_t') },
  { path: '/srv/iso/content.iso', kind: 'file', label: L('virt_content_t') },
  { path: '/srv/iso/home.iso', kind: 'file', label: L('user_home_t') },
  { path: '/srv/iso/mcs.iso', kind: 'file', label: L('svirt_image_t', 's0:c1,c2') },
  { path: '/srv/iso/nfs.iso', kind: 'file', label: L('nfs_t') },
  { path: '/srv/iso/shared.img', kind: 'file', label: L('svirt_image_t') },
  { path: '/srv/iso/excl.img', kind: 'file', label: L('svirt_image_t') },
  { path: '/srv/iso/link.iso', kind: 'link', label: L('public_content_t'), target: 'public.iso' },
  { path: '/srv/iso/base.raw', kind: 'file', label: L('user_home_t') },
  { path: '/srv/iso/top.qcow2', kind: 'qcow2', label: L('virt_content_t'), backing: 'base.raw' },
  { path: '/srv/iso/cbase.raw', kind: 'file', label: L('virt_content_t') },
  { path: '/srv/iso/ctop.qcow2', kind: 'qcow2', label: L('virt_content_t'), backing: 'cbase.raw' },
  { path: '/dev', kind: 'dir', label: L('device_t') },
  { path: '/dev/sr0', kind: 'block', label: L('removable_device_t') },
  { path: '/dev/sda', kind: 'block', label: L('fixed_disk_device_t') },
  { path: '/home', kind: 'dir', label: L('home_root_t') },
  { path: '/home/alice', kind: 'dir', label: L('user_home_dir_t') },
  { path: '/home/alice/in-home.iso', kind: 'file', label: L('public_content_t') },
];

interface DiskSpec {
  readonly target: string;
  readonly path: string;
  readonly type?: 'file' | 'block';
  readonly format?: string;
  readonly mode: 'ro' | 'shared' | 'rw';
}

const DISKS: DiskSpec[] = [
  { target: 'sda', path: '/srv/iso/public.iso', mode: 'ro' },
  { target: 'sdb', path: '/srv/iso/content.iso', mode: 'ro' },
  { target: 'sdc', path: '/srv/iso/home.iso', mode: 'ro' },
  { target: 'sdd', path: '/srv/iso/mcs.iso', mode: 'ro' },
  { target: 'sde', path: '/srv/iso/nfs.iso', mode: 'ro' },
  { target: 'sdf', path: '/srv/iso/link.iso', mode: 'ro' },
  { target: 'sdg', path: '/dev/sr0', type: 'block', mode: 'ro' },
  { target: 'sdh', path: '/home/alice/in-home.iso', mode: 'ro' },
  { target: 'vda', path: '/srv/iso/excl.img', mode: 'rw' },
  { target: 'vdb', path: '/srv/iso/shared.img', mode: 'shared' },
  { target: 'vdc', path: '/dev/sda', type: 'block', mode: 'shared' },
  { target: 'vdd', path: '/srv/iso/top.qcow2', format: 'qcow2', mode: 'ro' },
  { target: 'vde', path: '/srv/iso/ctop.qcow2', format: 'qcow2', mode: 'ro' },
];

/** The test domain, built with xmlbuilder2 (double quotes, as a hand-written domain would have). */
function domainXml(name: string, staticLabel?: string, domType = 'kvm'): string {
  const devices = create().ele('domain', { type: domType }).ele('name').txt(name).up().ele('devices');
  for (const d of DISKS) {
    const type = d.type ?? 'file';
    const disk = devices.ele('disk', { type, device: 'disk' });
    disk.ele('driver', { name: 'qemu', type: d.format ?? 'raw' });
    disk.ele('source', { [type === 'block' ? 'dev' : 'file']: d.path });
    disk.ele('target', { dev: d.target, bus: 'virtio' });
    if (d.mode === 'ro') disk.ele('readonly');
    if (d.mode === 'shared') disk.ele('shareable');
  }
  const domain = devices.up();
  if (staticLabel !== undefined)
    domain.ele('seclabel', { type: 'static', model: 'selinux', relabel: 'yes' }).ele('label').txt(staticLabel);
  return domain.end({ headless: true, prettyPrint: true }) + '\n';
}

let root = '';
let view: HostView;

beforeAll(() => {
  if (skip) return;
  root = mkdtempSync(join(tmpdir(), 'vsl-selinux-'));
  const at = (p: string) => (p === '/' ? root : root + p);
  for (const n of TREE) {
    if (n.kind === 'dir' && n.path !== '/') mkdirSync(at(n.path));
    if (n.kind === 'file') writeFileSync(at(n.path), 'x'.repeat(4096), { mode: 0o644 });
    if (n.kind === 'block') execFileSync('mknod', [at(n.path), 'b', '7', '200']);
    if (n.kind === 'link') symlinkSync(n.target!, at(n.path));
    if (n.kind === 'qcow2') execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', n.backing!, '-F', 'raw', at(n.path)], { cwd: join(at(n.path), '..') });
    execFileSync('setfattr', ['-h', '-n', 'security.selinux', '-v', n.label, at(n.path)]);
  }
  view = rootedView(root, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP }, passthrough: POLICIES });
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Every question QEMU's open of the disk's chain asks, for one process context. */
function questions(paths: { path: string; access: 'read' | 'readwrite' }[], scontext: string): SepolQuery[] {
  const qs: SepolQuery[] = [];
  const label = (p: string) => {
    const l = view.selinuxLabel(p);
    if (l.kind !== 'ok' || !l.value) throw new Error(`no label on ${p}`);
    return l.value;
  };
  for (const f of paths) {
    const w = walkPath(view, f.path);
    for (const s of w.steps)
      qs.push(s.kind === 'search'
        ? { scontext, tcontext: label(s.dir.path), tclass: 'dir', perms: DIR_SEARCH_PERMS }
        : { scontext, tcontext: label(s.link.path), tclass: 'lnk_file', perms: LINK_FOLLOW_PERMS });
    if (w.end.kind !== 'found') throw new Error(`${f.path}: walk ended ${w.end.kind}`);
    qs.push({ scontext, tcontext: label(w.end.file.path), tclass: diskClass(w.end.file.inode.type)!, perms: diskPerms(f.access) });
  }
  return qs;
}

/** Random dynamic levels libvirt could pick, plus the ones that matter for the labels in the tree. */
function dynamicContexts(type: string, seed: number): string[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = new Set<string>(['c1,c2', 'c0,c1', 'c1,c3', 'c2,c5']);
  while (out.size < 24) {
    const a = Math.floor(rnd() * 1024);
    const b = Math.floor(rnd() * 1024);
    if (a !== b) out.add(`c${Math.min(a, b)},c${Math.max(a, b)}`);
  }
  return [...out].map((c) => `system_u:system_r:${type}:s0:${c}`);
}

type Report = { files: { disks: { target: string; models: { selinux: { action: string; accessible: boolean | null; reason: string; proof?: { files: { path: string; access: 'read' | 'readwrite' }[] } } } }[] }[] };

async function decide(policy: string, booleans: Record<string, boolean>, staticLabel?: string) {
  const f = join(root, '..', `${root.split('/').pop()}-vm.xml`);
  writeFileSync(f, domainXml('se-vm', staticLabel));
  const r = await explain(view, [f], { models: ['selinux'], policy, booleans });
  expect(r.code).toBe(0);
  return (r.report as Report).files[0]!.disks;
}

describe.skipIf(skip)('SELinux decisions on real labels, checked against libsepol', () => {
  for (const policy of POLICIES)
    for (const booleans of [{}, { virt_use_nfs: true }] as Record<string, boolean>[])
      it(`${policy.split('/')[3]} policy, booleans ${JSON.stringify(booleans)}`, async () => {
        const disks = await decide(policy, booleans);
        const byTarget = new Map(disks.map((d) => [d.target, d.models.selinux]));
        // Exclusive writable: never annotated, never evaluated.
        expect(byTarget.get('vda')).toMatchObject({ action: 'keep', accessible: null });
        // Every decision against libsepol, all questions in one helper run.
        const contexts = dynamicContexts('svirt_t', 42);
        const asked: { target: string; context: number; query: SepolQuery }[] = [];
        for (const d of disks) {
          if (d.target === 'vda') continue;
          const spec = DISKS.find((x) => x.target === d.target)!;
          const access = spec.mode === 'ro' ? 'read' : 'readwrite';
          // The chain as QEMU opens it: the qcow2 top and its raw backing file.
          const node = TREE.find((n) => n.path === spec.path)!;
          const files = [{ path: spec.path, access } as const, ...(node.backing ? [{ path: `/srv/iso/${node.backing}`, access: 'read' as const }] : [])];
          contexts.forEach((c, i) => {
            for (const q of questions(files, c)) asked.push({ target: d.target, context: i, query: { ...q, booleans } });
          });
        }
        const answers = askSepol(policy, asked.map((a) => a.query));
        const denied = (target: string) => asked.some((a, i) => a.target === target && !(answers[i]!.ok && answers[i]!.allowed.every(Boolean)));
        let checked = 0;
        for (const d of disks) {
          const sl = d.models.selinux;
          if (d.target === 'vda') continue;
          if (sl.accessible === true) {
            expect(sl.action, `${d.target}: ${sl.reason}`).toBe('annotate');
            expect(denied(d.target), `${d.target}: engine says accessible, libsepol denies for some level: ${sl.reason}`).toBe(false);
          } else if (sl.accessible === false) {
            expect(sl.action).toBe('keep');
            expect(denied(d.target), `${d.target}: engine says denied but libsepol allows every question: ${sl.reason}`).toBe(true);
          } else {
            throw new Error(`${d.target}: unexpected unknown: ${sl.reason}`);
          }
          checked++;
        }
        expect(checked).toBe(DISKS.length - 1);
        // The MCS-labelled image is never provable for a dynamic label (categories unknown in advance).
        expect(byTarget.get('sdd')!.accessible).toBe(false);
        expect(byTarget.get('sdd')!.reason).toMatch(/constraint|MCS|MLS|mls/i);
      });

  it('booleans change the decision exactly where libsepol says they do (virt_use_nfs on nfs_t)', async () => {
    const off = new Map((await decide(POLICIES[0]!, { virt_use_nfs: false })).map((d) => [d.target, d.models.selinux]));
    const on = new Map((await decide(POLICIES[0]!, { virt_use_nfs: true })).map((d) => [d.target, d.models.selinux]));
    const q = (b: boolean) => askSepol(POLICIES[0]!, [{ scontext: 'system_u:system_r:svirt_t:s0:c1,c2', tcontext: L('nfs_t'), tclass: 'file', perms: ['open', 'read', 'getattr', 'lock', 'ioctl'], booleans: { virt_use_nfs: b } }])[0]!;
    const ref = [q(false), q(true)].map((a) => a.ok && a.allowed.every(Boolean));
    expect([off.get('sde')!.accessible === true, on.get('sde')!.accessible === true]).toEqual(ref);
    if (!ref[0] && ref[1]) expect(off.get('sde')!.reason).toContain('virt_use_nfs');
  });

  it('a static label is checked exactly: s0:c1,c2 may read the image labelled s0:c1,c2', async () => {
    const disks = new Map((await decide(POLICIES[0]!, {}, 'system_u:system_r:svirt_t:s0:c1,c2')).map((d) => [d.target, d.models.selinux]));
    const ref = askSepol(POLICIES[0]!, questions([{ path: '/srv/iso/mcs.iso', access: 'read' }], 'system_u:system_r:svirt_t:s0:c1,c2'));
    const allowed = ref.every((a) => a.ok && a.allowed.every(Boolean));
    expect(disks.get('sdd')!.accessible === true).toBe(allowed);
  });
});
