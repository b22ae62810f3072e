/**
 * What libvirt does before QEMU runs with a file root may not look up or read (a filesystem that
 * delegates permission: NFS root_squash, a FUSE daemon refusing root, a FUSE mount without allow_other):
 * QEMU's own identity may open it, but libvirtd runs as root and checks the disk itself first. From
 * libvirt 9.0.0's qemuDomainDetermineDiskChain (src/qemu/qemu_domain.c), storage_source.c,
 * storage_file_backend_fs.c and virfile.c:
 *
 * - A format without backing files (raw, iso, dmg, vpc, vdi, ...: below VIR_STORAGE_FILE_BACKING) on local
 *   storage: only `virFileExists(path)`, access(F_OK) as the daemon. Where root may not look the file up
 *   the start fails ("Cannot access storage file"), whatever QEMU's user could do; its content is not read.
 * - A format with backing files (qcow2, qed, vmdk, ...) and every backing file below it, whatever its
 *   format: virStorageSourceGetMetadata as the image ids (qemuDomainGetImageIds: qemu.conf's user:group or
 *   the domain's DAC label): access(F_OK) forked as that uid, gid and its groups (virFileAccessibleAs),
 *   then the header through virFileOpenAs: opened as root first, and on EACCES/EPERM again as that uid
 *   only where virFileIsSharedFS counts the filesystem shared (NFS, CIFS/SMB, GFS2, OCFS2, AFS, Ceph,
 *   GPFS, ACFS; of FUSE only glusterfs/quobyte, recognised through a canonicalisation as root that a
 *   refused lookup fails too). Elsewhere the header read fails and so does the start.
 *
 * Files of other roles (a qcow2 data-file, a VMDK extent) are not read by that code: not modelled.
 */
import type { ChainFile } from '../access/engine.js';

/** libvirt's formats below VIR_STORAGE_FILE_BACKING: no backing chain, only virFileExists as root. */
const NO_BACKING = new Set(['raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop']);
/** From VIR_STORAGE_FILE_BACKING on: the chain is read as the image ids. */
const BACKING = new Set(['cow', 'qcow', 'qcow2', 'qed', 'vmdk']);

/** virFileIsSharedFS's statfs magics, as mountinfo names the filesystems (the FUSE ones excepted, see above). */
const SHARED = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'gfs2', 'ocfs2', 'afs', 'ceph', 'gpfs', 'acfs']);

export interface RootSees {
  readonly fsType: string;
  /** Root may look the file up (lstat/access F_OK). */
  readonly lookup: boolean;
  /** Root may open it read-only (false: EACCES/EPERM); asked only when libvirt reads the header. */
  readonly read: () => boolean | null;
}

export type LibvirtAsRoot =
  | { readonly starts: true; readonly how?: string }
  | { readonly starts: false; readonly why: string }
  | { readonly starts: null; readonly why: string };

export function libvirtAsRoot(file: ChainFile, root: RootSees): LibvirtAsRoot {
  const top = file.role === 'top';
  if (top && (file.format === undefined || NO_BACKING.has(file.format))) {
    if (root.lookup) return { starts: true };
    return {
      starts: false,
      why: `libvirt refuses the start before QEMU runs: for a ${file.format ?? 'raw'} disk it only checks that ${file.path} exists, as root (qemuDomainDetermineDiskChain: virFileExists), and root is refused there`,
    };
  }
  if (file.role !== 'backing' && !(top && BACKING.has(file.format!))) {
    if (root.lookup) return { starts: true };
    return { starts: null, why: `how libvirt reaches ${file.path} (${file.role}, ${file.format ?? 'no format'}) where root is refused is not modelled` };
  }
  const reads = root.lookup ? root.read() : false;
  if (reads === true) return { starts: true };
  if (reads === null) return { starts: null, why: `cannot tell whether root, as libvirt reads the header of ${file.path} first, may open it` };
  if (!SHARED.has(root.fsType)) {
    return {
      starts: false,
      why: `libvirt refuses the start before QEMU runs: it opens ${file.path} as root to read its header, and retries as QEMU's user only on a filesystem it counts as shared (virFileOpenAs, virFileIsSharedFS), which ${root.fsType} is not`,
    };
  }
  return {
    starts: true,
    how: `libvirt, refused as root too, reads its header as QEMU's uid and gid (virStorageSourceGetMetadata; virFileOpenAs retries as that user on the shared ${root.fsType})`,
  };
}
