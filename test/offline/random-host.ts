/**
 * Seeded random hosts for the live-versus-offline comparison: directories and files with the modes,
 * owners, ACLs and SELinux labels that decide access (including the traps: 0604, a 0700 home, an ACL
 * mask, unlabelled inodes, an unreadable NFS mount), qcow2 chains, symlinks, block devices, and domains
 * over them with every disk form the decisions tell apart.
 */
import { qcow2 } from '../images/builders.js';
import type { MemoryNode } from '../support/memory-view.js';
import type { Rng } from '../dac/support/prng.js';

const L = (t: string, level = 's0') => `system_u:object_r:${t}:${level}`;
const FILE_LABELS = ['public_content_t', 'virt_content_t', 'svirt_image_t', 'virt_image_t', 'user_home_t', 'var_t', 'nfs_t', 'etc_t'];
const DEV_LABELS = ['removable_device_t', 'fixed_disk_device_t', 'device_t'];
const DIR_LABELS = ['var_t', 'public_content_t', 'virt_image_t', 'user_home_dir_t', 'home_root_t', 'default_t'];
const FILE_MODES = [0o644, 0o640, 0o600, 0o604, 0o660, 0o666, 0o400, 0o444, 0o060];
const DIR_MODES = [0o755, 0o711, 0o700, 0o750, 0o701, 0o775];
const UIDS = [0, 64055, 1000];
const GIDS = [0, 107, 64055, 1000];
const ACLS = ['u::rw-,u:64055:r--,g::r--,m::r--,o::---', 'u::rw-,u:64055:rw-,g::---,m::---,o::---', 'u::rw-,g::r--,g:107:r--,m::r--,o::---'];

export interface RandomHost {
  readonly tree: Record<string, MemoryNode>;
  readonly domains: Record<string, string>;
}

export function randomHost(r: Rng, fileCount = 24, domainCount = 6): RandomHost {
  const label = (types: readonly string[]) => (r.chance(0.08) ? undefined : L(r.pick(types), r.chance(0.1) ? 's0:c1,c2' : 's0'));
  const tree: Record<string, MemoryNode> = {
    '/': { type: 'dir', mode: 0o755, label: L('root_t') },
    '/srv': { type: 'dir', mode: r.pick(DIR_MODES), label: label(DIR_LABELS) },
    '/srv/iso': { type: 'dir', mode: r.pick(DIR_MODES), label: label(DIR_LABELS) },
    '/var': { type: 'dir', mode: 0o755, label: L('var_t') },
    '/var/lib': { type: 'dir', mode: 0o755, label: L('var_lib_t') },
    '/var/lib/libvirt': { type: 'dir', mode: 0o755, label: L('virt_var_lib_t') },
    '/var/lib/libvirt/images': { type: 'dir', mode: r.pick(DIR_MODES), label: label(DIR_LABELS) },
    '/home': { type: 'dir', mode: 0o755, label: L('home_root_t') },
    '/home/alice': { type: 'dir', mode: r.pick(DIR_MODES), uid: 1000, gid: 1000, label: label(DIR_LABELS) },
    '/dev': { type: 'dir', mode: 0o755, label: L('device_t') },
    '/mnt': { type: 'dir', mode: 0o755, label: L('mnt_t') },
    '/mnt/nfs': { type: 'unknown', why: 'EACCES (root-squashed NFS)' },
  };
  const dirs = ['/srv', '/srv/iso', '/var/lib/libvirt/images', '/home/alice'];
  const files: string[] = [];
  const images: string[] = [];
  for (let i = 0; i < fileCount; i++) {
    const dev = r.chance(0.15);
    const path = dev ? `/dev/sd${String.fromCharCode(97 + i)}` : `${r.pick(dirs)}/f${i}.${r.chance(0.4) ? 'qcow2' : 'iso'}`;
    const isImage = !dev && path.endsWith('.qcow2');
    const backing = isImage && images.length > 0 && r.chance(0.6) ? r.pick(images) : undefined;
    tree[path] = {
      type: dev ? 'block' : 'file',
      mode: r.pick(FILE_MODES),
      uid: r.pick(UIDS),
      gid: r.pick(GIDS),
      label: label(dev ? DEV_LABELS : FILE_LABELS),
      ...(r.chance(0.2) && { acl: r.pick(ACLS) }),
      ...(isImage && { content: qcow2(backing ? { backingName: r.chance(0.5) ? backing : backing.slice(backing.lastIndexOf('/') + 1) } : {}) }),
    };
    files.push(path);
    if (isImage) images.push(path);
  }
  for (let i = 0; i < 3; i++) {
    const link = `/srv/link${i}`;
    tree[link] = { type: 'symlink', target: r.pick(files), label: label(FILE_LABELS) };
    files.push(link);
  }
  files.push('/srv/iso/absent.iso', '/mnt/nfs/share.iso');

  const domains: Record<string, string> = {};
  for (let d = 0; d < domainCount; d++) {
    const disks: string[] = [];
    const n = r.int(1, 4);
    for (let k = 0; k < n; k++) {
      const path = r.pick(files);
      const block = path.startsWith('/dev/');
      const format = path.endsWith('.qcow2') ? 'qcow2' : 'raw';
      const existing = r.chance(0.15) ? `<seclabel model='${r.pick(['dac', 'selinux'])}' relabel='no'/>` : '';
      disks.push(
        `    <disk type='${block ? 'block' : 'file'}' device='${r.chance(0.3) ? 'cdrom' : 'disk'}'>`,
        `      <driver name='qemu' type='${format}'/>`,
        `      <source ${block ? 'dev' : 'file'}='${path}'>${existing}</source>`,
        `      <target dev='vd${String.fromCharCode(97 + k)}' bus='virtio'/>`,
        ...(r.chance(0.4) ? ['      <readonly/>'] : []),
        ...(r.chance(0.1) ? ['      <shareable/>'] : []),
        '    </disk>',
      );
    }
    const seclabel = r.chance(0.15)
      ? `  <seclabel type='static' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:s0:c${r.int(0, 9)},c${r.int(10, 20)}</label></seclabel>\n`
      : '';
    domains[`d${d}.xml`] = `<domain type='${r.pick(['kvm', 'qemu'])}'>\n  <name>d${d}</name>\n${seclabel}  <devices>\n${disks.join('\n')}\n  </devices>\n</domain>\n`;
  }
  return { tree, domains };
}
