/**
 * The SELinux permissions QEMU needs on a disk file, from what it really does with it (block/file-posix.c):
 * open(2) (open), fstat (getattr), pread/pwrite (read, write; append is checked for O_APPEND only, but
 * the policy's rw_file_perms pattern grants it together with write, so requiring it costs nothing and
 * matches what svirt_image_t grants), OFD locks on the image for the image-locking protocol (lock), and
 * ioctl: block and CD-ROM devices get BLKGETSIZE64/BLKSSZGET/CDROM_* ioctls, and QEMU probes regular
 * files with FS_IOC_FIEMAP-style ioctls too, so ioctl is required on every class. The set is deliberately
 * on the side of asking for more: a permission QEMU might not use only costs a relabel, a missing one
 * fails the VM. Directories need search on every component; symlinks need read to be followed.
 */
import type { FileType } from '../host/view.js';
import type { DiskAccess } from '../access/types.js';

export const READ_PERMS = ['open', 'read', 'getattr', 'lock', 'ioctl'] as const;
export const READ_WRITE_PERMS = [...READ_PERMS, 'write', 'append'] as const;
export const DIR_SEARCH_PERMS = ['search'] as const;
export const LINK_FOLLOW_PERMS = ['read'] as const;
/** A directory QEMU opens O_DIRECTORY|O_RDONLY (a 9p share's root, fsdev/9p local_init): open and read on it. */
export const DIR_OPEN_PERMS = ['open', 'read'] as const;
/**
 * What execve(2) asks of the new domain on a program run under the VM's process label (swtpm): `entrypoint`
 * (selinux_bprm_creds_for_exec) and `execute` (its code mapped PROT_EXEC). Both are necessary, so a refusal
 * of either is a failed start; allowed, the rest of swtpm's run is not judged.
 */
export const ENTRYPOINT_PERMS = ['entrypoint', 'execute'] as const;

/** The object class of a disk file, or undefined for inode types QEMU cannot use as a disk. */
export function diskClass(type: FileType): 'file' | 'blk_file' | 'chr_file' | undefined {
  switch (type) {
    case 'file':
      return 'file';
    case 'block':
      return 'blk_file';
    case 'char':
      return 'chr_file';
    default:
      return undefined;
  }
}

export function diskPerms(access: DiskAccess): readonly string[] {
  return access === 'read' ? READ_PERMS : READ_WRITE_PERMS;
}
