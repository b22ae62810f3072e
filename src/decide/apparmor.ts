/**
 * Whether libvirt's AppArmor driver would be active, probed the way libvirt probes it
 * (security_apparmor.c, AppArmorSecurityManagerProbe / use_apparmor): AppArmor enabled in the kernel,
 * the daemon's own profile loaded (libvirt cannot aa_change_profile from an unconfined daemon), and the
 * qemu profile template installed. Read through the host view, so a facts snapshot replays it.
 *
 * AppArmor never changes a file's label: virt-aa-helper writes a per-VM path profile, and per-disk
 * seclabels mean nothing to it, so it never yields an annotation. But that profile decides whether
 * QEMU may open each file at all: the apparmor row of every disk and file beyond disks holds the
 * profile's verdict (decideAppArmorDisk, decideAppArmorOther below; the engine is src/apparmor/).
 */
import { APPARMOR_ENABLED, APPARMOR_PROFILES, APPARMOR_QEMU_TEMPLATE } from '../host/apparmor-files.js';
import type { HostView } from '../host/view.js';
import type { AppArmorPerm, ChainFile } from '../access/engine.js';
import type { DiskAccess, Finding } from '../access/types.js';
import type { Disk, Domain } from '../domain/model.js';
import type { OtherFile } from '../domain/files.js';
import type { Connection } from './connection.js';
import type { BoundAppArmor, Chain, DecisionPorts } from './ports.js';
import { otherFileChain } from './files.js';

export { APPARMOR_ENABLED, APPARMOR_PROFILES, APPARMOR_QEMU_TEMPLATE };
/** The daemons libvirt's probe looks itself up as: the monolithic and the modular qemu daemon, by path or name. */
const DAEMON_PROFILES = ['/usr/sbin/libvirtd', 'libvirtd', '/usr/sbin/virtqemud', 'virtqemud'];

export interface AppArmorProbe {
  readonly available: boolean;
  readonly why: string;
}

export function probeAppArmor(view: HostView): AppArmorProbe {
  const enabled = view.readText(APPARMOR_ENABLED);
  if (enabled.kind === 'unknown') return { available: false, why: `cannot tell whether AppArmor is enabled: ${enabled.why}` };
  if (enabled.kind !== 'ok' || !enabled.value.startsWith('Y')) return { available: false, why: 'AppArmor is not enabled in this kernel' };
  const profiles = view.readText(APPARMOR_PROFILES);
  if (profiles.kind !== 'ok') return { available: false, why: `cannot read ${APPARMOR_PROFILES}, so libvirt's probe cannot succeed either` };
  // Each line is `NAME (mode)`; libvirt's profile_status looks for the daemon's own.
  const loaded = new Set(profiles.value.split('\n').map((l) => l.replace(/ \([^)]*\)$/, '')));
  const daemon = DAEMON_PROFILES.find((p) => loaded.has(p));
  if (daemon === undefined) return { available: false, why: 'no AppArmor profile for libvirtd is loaded, so libvirt does not use AppArmor' };
  const template = view.lstat(APPARMOR_QEMU_TEMPLATE);
  if (template.kind !== 'ok') return { available: false, why: `${APPARMOR_QEMU_TEMPLATE} is missing, so libvirt does not use AppArmor` };
  return { available: true, why: `AppArmor is enabled, the ${daemon} profile is loaded and ${APPARMOR_QEMU_TEMPLATE} exists` };
}

/** The apparmor row's reason where no decision was made (never the case while the driver is active). */
export const APPARMOR_DISK_REASON =
  "libvirt's AppArmor driver changes no label and ignores per-element seclabels: there is nothing to annotate for it";

/**
 * The apparmor row of a disk or another file: libvirt's AppArmor driver takes no per-element seclabel
 * (action always 'n/a', never an annotation), but the per-VM profile decides whether QEMU may open
 * the file at all. `accessible` is the verdict over every file QEMU opens for the entry (the whole
 * backing chain): true only when the profile is proven to allow each, false when it denies or lacks a
 * needed permission on one, null when it cannot be told. `rule` is the deciding rule, `file:line: text`.
 */
export interface AppArmorDecision {
  readonly action: 'n/a';
  readonly accessible: boolean | null;
  readonly reason: string;
  readonly rule?: string;
}

const ROLE = { top: '', backing: 'backing file ', 'data-file': 'data file ', extent: 'extent ' } as const;

/** QEMU's image locking (file-posix, on by default) takes fcntl locks: AppArmor's 'k' besides r/w. */
const blockPerms = (access: DiskAccess): readonly AppArmorPerm[] => (access === 'read' ? ['r', 'k'] : ['r', 'w', 'k']);

/** What libvirt's AppArmor driver has nothing to do with, or a reason that applies to the whole entry. */
const unknownRow = (reason: string): AppArmorDecision => ({ action: 'n/a', accessible: null, reason });

/** Names the element virt-aa-helper's refusal is about, when it named a path. */
function refusal(bound: { readonly reason: string; readonly path?: string; readonly advice?: string }, paths: readonly string[]): string {
  if (bound.path !== undefined && paths.includes(bound.path))
    return `${bound.reason}: libvirt cannot start the domain; this element names ${bound.path}${bound.advice !== undefined ? `: ${bound.advice}` : ''}`;
  return bound.path !== undefined ? `${bound.reason}: libvirt cannot start the domain (the path is named by another element)` : `${bound.reason}: libvirt cannot start the domain`;
}

/** The files of one entry, each with the permissions QEMU asks, checked in order; the first not proven decides. */
export function decideAppArmorFiles(
  files: readonly { readonly path: string; readonly perms: readonly AppArmorPerm[]; readonly role?: ChainFile['role']; readonly created?: boolean }[],
  bound: BoundAppArmor,
): AppArmorDecision {
  if (!bound.ok) {
    // virt-aa-helper is the code libvirt runs at start: a path it refused now it refuses then, no profile is
    // loaded and the start fails (seen on a real AppArmor kernel, test/apparmor-kernel). The element naming
    // that path is proven unusable; the others' own verdicts stay unknown.
    const reason = refusal(bound, files.map((f) => f.path));
    return bound.path !== undefined && files.some((f) => f.path === bound.path) ? { action: 'n/a', accessible: false, reason } : unknownRow(reason);
  }
  const because: string[] = [];
  let rule: string | undefined;
  for (const f of files) {
    const v = bound.engine.check(f.path, f.perms, { created: f.created === true });
    const role = ROLE[f.role ?? 'top'];
    if (v.accessible !== true) return { action: 'n/a', accessible: v.accessible, reason: `${role}${v.reason}`, ...(v.rule !== undefined && { rule: v.rule }) };
    because.push(`${role}${v.reason}${v.rule ? ` (${v.rule})` : ''}`);
    rule ??= v.rule;
  }
  return { action: 'n/a', accessible: true, reason: because.join('; '), ...(rule !== undefined && { rule }) };
}

export function decideAppArmorDisk(disk: Disk, domain: Domain, conn: Connection, ports: DecisionPorts, chain: () => Chain): AppArmorDecision | undefined {
  if (!conn.apparmor.active) return undefined;
  if (!disk.source || disk.path === undefined) {
    if (disk.type === 'network') return unknownRow('a network disk: QEMU opens no local file, so no file rule is involved');
    if (!disk.source) return unknownRow(`${disk.device} without media: QEMU opens nothing`);
    return unknownRow('the disk has no local source path');
  }
  if (disk.type === 'volume') return unknownRow('volume disks are resolved through a storage pool: not evaluated');
  if (!ports.apparmorFor) return unknownRow('the AppArmor profile is not evaluated here');
  const c = chain();
  const bound = ports.apparmorFor(domain);
  if (!bound.ok) return decideAppArmorFiles(c.kind === 'ok' ? c.files.map((f) => ({ path: f.path, perms: [] })) : [{ path: disk.path, perms: [] }], bound);
  if (c.kind === 'unprovable') return unknownRow(c.reason);
  return decideAppArmorFiles(c.files.map((f) => ({ path: f.path, perms: blockPerms(f.access), role: f.role })), bound);
}

const BLOCK_OPTIONS = new Set(['', 'drive', 'blockdev', 'hda', 'hdb', 'hdc', 'hdd', 'cdrom', 'fda', 'fdb', 'pflash', 'mtdblock', 'sd']);

/** The permissions QEMU asks on a file beyond disks, or why AppArmor is not asked for its path. */
function otherPerms(f: OtherFile, conn: Connection): readonly AppArmorPerm[] | string {
  switch (f.kind) {
    case 'loader':
      // pflash firmware is a block device (locked); a ROM is read into memory.
      return f.loaderType === 'pflash' ? ['r', 'k'] : ['r'];
    case 'nvram':
      return ['r', 'w', 'k'];
    case 'kernel':
    case 'initrd':
    case 'dtb':
    case 'acpi-table':
      return ['r'];
    case 'fwcfg':
      // virt-aa-helper adds every entry's file= read-only; QEMU opens it only when the entry has no text.
      return f.fwcfgValueWins ? 'the <entry> has text, which libvirt passes instead of the file: QEMU never opens it' : ['r'];
    case 'hostdev':
      return 'the node is found on the host at start (virt-aa-helper adds it): not evaluated here';
    case 'rng':
      return ['r'];
    case 'input':
    case 'memory':
      return ['r', 'w'];
    case 'filesystem':
      return 'a shared directory tree (virt-aa-helper adds its source dir recursively): not evaluated against the profile here';
    case 'tpm':
      return f.tpmBackend === 'passthrough'
        ? 'libvirt opens the TPM device and passes QEMU an fd: not evaluated against the profile here'
        : "swtpm's files are swtpm's (virt-aa-helper adds its state, log and socket to the profile), not opened by QEMU";
    case 'qemu-arg':
      return BLOCK_OPTIONS.has(f.qemuOption ?? '') ? blockPerms(f.access) : f.access === 'read' ? ['r'] : ['r', 'w'];
    case 'shmem':
      // virt-aa-helper adds /dev/shm/NAME (plain) or the server path rw; QEMU creates a missing /dev/shm/NAME.
      return f.shmemModel === 'ivshmem-plain' || f.shmemModel === 'ivshmem-doorbell' ? ['r', 'w'] : 'the legacy ivshmem device: not evaluated here';
    case 'graphics':
      return 'QEMU creates the listening socket (virt-aa-helper adds it rw): not evaluated against the profile here';
    case 'chardev':
      if (f.chardevType === 'file' && (conn.stdioHandler ?? 'logd') === 'logd') return 'stdio_handler = "logd": virtlogd opens the file and QEMU only gets a pipe to virtlogd, so the profile is never asked about this path';
      // stdio_handler = "file": libvirtd opens it O_WRONLY|O_APPEND and passes the fd; AppArmor checks a received fd again (file_receive).
      if (f.chardevType === 'file') return ['a'];
      if (f.chardevType === 'unix' && f.unixMode === 'bind') return 'libvirt creates the listening socket and passes QEMU its fd';
      return ['r', 'w'];
  }
}

export function decideAppArmorOther(f: OtherFile, domain: Domain, conn: Connection, ports: DecisionPorts): AppArmorDecision | undefined {
  if (!conn.apparmor.active) return undefined;
  if (f.path === undefined) return unknownRow('no path in the XML: libvirt chooses it at start');
  const perms = otherPerms(f, conn);
  if (typeof perms === 'string') return unknownRow(perms);
  if (!ports.apparmorFor) return unknownRow('the AppArmor profile is not evaluated here');
  const bound = ports.apparmorFor(domain);
  if (!bound.ok) return decideAppArmorFiles([{ path: f.path, perms }], bound);
  let files: { path: string; perms: readonly AppArmorPerm[]; role?: ChainFile['role']; created?: boolean }[];
  if (f.kind === 'chardev' && f.chardevType === 'pipe') {
    // QEMU opens PATH.in and PATH.out, and PATH itself only when either is missing; both are asked.
    files = [`${f.path}.in`, `${f.path}.out`].map((p) => ({ path: p, perms }));
  } else if (f.kind === 'qemu-arg' && BLOCK_OPTIONS.has(f.qemuOption ?? '')) {
    const c = otherFileChain(f, ports);
    if (c.kind === 'unprovable') return unknownRow(c.reason);
    files = c.files.map((x) => ({ path: x.path, perms: blockPerms(x.access), role: x.role }));
  } else files = [{ path: f.path, perms, ...(f.kind === 'nvram' && { created: true }) }];
  const d = decideAppArmorFiles(files, bound);
  // A unix socket QEMU connects to: whether connect(2) is mediated by the path rules depends on the kernel's af_unix support.
  if (f.kind === 'chardev' && f.chardevType === 'unix' && d.accessible === false)
    return { ...d, accessible: null, reason: `${d.reason}; whether the kernel applies file rules to connect(2) on a unix socket depends on its AppArmor af_unix mediation, so this is not a proven denial` };
  return d;
}

/**
 * A proven AppArmor refusal is a start failure whatever the labelling: a warning on the entry, saying
 * so plainly when DAC alone would have let QEMU in.
 */
export function appArmorFinding(d: AppArmorDecision, dac: boolean | null): Finding[] {
  if (d.accessible !== false) return [];
  const lead = dac === true ? 'DAC lets QEMU open it, but AppArmor does not' : 'AppArmor';
  return [{ code: 'apparmor-denied', severity: 'warning', message: `${lead}: ${d.reason}` }];
}
