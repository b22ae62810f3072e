/**
 * What an access engine answers: for one file QEMU opens, with the access it needs, whether QEMU can
 * have it, and why. Each engine (DAC in dac/, SELinux in selinux/) implements AccessEngine for one
 * domain's process; the decision core (decide/) binds and asks them through decide/ports.ts.
 */
import type { DiskAccess, Finding } from './types.js';

/** One file QEMU opens for a disk, with the access it needs on it. */
export interface ChainFile {
  readonly path: string;
  readonly access: DiskAccess;
  /** top: the disk's own source; backing: a backing image; data-file: a qcow2 external data file; extent: a VMDK extent. */
  readonly role: 'top' | 'backing' | 'data-file' | 'extent';
  /** Image format of this layer, when known. */
  readonly format?: string;
  /**
   * Judge the file as if it carried this SELinux label (the one libvirt will give it at start), not the
   * label it has now; directories and links on the way are judged as they are. DAC ignores it.
   */
  readonly assumeLabel?: string;
  /**
   * Judge the file as if libvirt's DAC driver had chowned it to QEMU's uid:gid (virSecurityDACSetOwnership:
   * owner and group change, mode and ACL do not); directories on the way are judged as they are. SELinux
   * and AppArmor ignore it.
   */
  readonly assumeQemuOwner?: true;
  /**
   * A chardev endpoint (a unix socket QEMU connects to, a FIFO of a pipe chardev): a socket or FIFO is then
   * a valid target, judged for the access asked (connect(2) needs write on the socket inode; read-write
   * asks more, never less).
   */
  readonly endpoint?: true;
  /**
   * QEMU maps the file with mmap(2) as well as reading it (the direct-boot initrd: x86_load_linux maps it
   * with g_mapped_file_new). SELinux checks `map` on such a file; DAC and AppArmor (no PROT_EXEC) ask read only.
   */
  readonly mapped?: true;
  /**
   * A directory QEMU opens itself (a 9p share's root, opened O_DIRECTORY|O_RDONLY): a directory is then a
   * valid target. Ask for it as `DIR/.` with read access, which is search and read on the directory.
   */
  readonly directory?: true;
  /**
   * A program libvirt runs under the VM's own SELinux process label (swtpm, qemuSecurityCommandRun): the
   * kernel lets execve(2) enter that domain only if the domain may `entrypoint` the binary's label, and
   * maps its code with `execute`. SELinux asks those two on the file; DAC and AppArmor are not asked.
   */
  readonly entrypoint?: true;
  /**
   * QEMU creates PATH itself (binds a listening socket, creates a shared-memory file): asked as write and
   * search on its directory, and, when PATH already exists, as the right to remove it there (a sticky
   * directory lets only the file's or the directory's owner do that). `access` is ignored. DAC only.
   */
  readonly create?: true;
  /** How the file was learnt of, when it matters to a reason (a header read as QEMU's user, not root). */
  readonly note?: string;
}

export type FileVerdict =
  | { readonly accessible: true; readonly because: string; readonly findings?: readonly Finding[] }
  | { readonly accessible: false; readonly reason: string; readonly findings?: readonly Finding[] }
  | { readonly accessible: null; readonly reason: string; readonly findings?: readonly Finding[] };

/**
 * A file whose SELinux label no relabel can change: it is on a mount without security labels (NFS
 * without `security_label`, CIFS, FUSE...), where every inode has the mount's `context=` or the policy's
 * genfscon label, and the kernel refuses setfilecon with EOPNOTSUPP (no SBLABEL_MNT).
 */
export interface FixedLabel {
  readonly fsType: string;
  readonly mountPoint: string;
  /** The label the kernel gives the file there, and how it is known; absent when it cannot be told. */
  readonly label?: string;
  readonly how?: string;
}

export interface AccessEngine {
  check(file: ChainFile): FileVerdict;
  /** SELinux only: the mount's fixed label when `path` is on such a mount, else undefined. */
  fixedLabel?(path: string): FixedLabel | undefined;
}

/** The file permissions AppArmor mediates that QEMU asks for: read, write, append, lock. */
export type AppArmorPerm = 'r' | 'w' | 'a' | 'k';

/** An AppArmor answer for one path: like FileVerdict, plus the deciding rule as `file:line: text`. */
export interface AppArmorVerdict {
  readonly accessible: boolean | null;
  /** A sentence: what allows it, what denies it (and where a rule would go), or why it cannot be told. */
  readonly reason: string;
  readonly rule?: string;
}

/** The AppArmor engine bound to one domain's profile (apparmor/). */
export interface AppArmorChecker {
  /** The profile's name (libvirt-UUID). */
  readonly profile: string;
  /** `created`: a missing file is made before QEMU opens it (libvirt's nvram), so its path as written is judged. */
  check(path: string, perms: readonly AppArmorPerm[], opts?: { readonly created?: boolean }): AppArmorVerdict;
}
