/**
 * The rules of docs/libvirt-files.md applied to the files beyond disks: per file and model, what libvirt
 * does to it at start (label it, and with which label; pass QEMU an fd; leave it alone), whether a
 * per-element seclabel is honoured there, and whether QEMU can use the file. Only nvram's `<source>` and
 * chardev `<source>`s can be annotated, and only on a proof, as disks are; everything else is explained.
 */
import type { Domain } from '../domain/model.js';
import type { OtherFile } from '../domain/files.js';
import type { Connection } from './connection.js';
import { checkChain, dedupe } from './disk.js';
import { domainLabelling, seclabelFor } from './domain-labelling.js';
import { appArmorFinding, decideAppArmorOther, type AppArmorDecision } from './apparmor.js';
import type { Chain, DecisionPorts } from './ports.js';
import type { Finding } from '../access/types.js';
import { QEMU_PROBES } from '../images/chain.js';
import { shellQuote } from '../shell-quote.js';
import { MODELS, type FileModelDecision, type Model } from './types.js';

export interface OtherFileDecision {
  readonly file: OtherFile;
  /** One sentence: what libvirt does with this file at start, for both drivers. */
  readonly libvirt: string;
  readonly models: Readonly<Record<Model, FileModelDecision>>;
  /** The apparmor row, only where libvirt's AppArmor driver is active (it never annotates). */
  readonly apparmor?: AppArmorDecision;
  readonly findings: readonly Finding[];
}

/** What libvirt 9.0 does with a file, by element (docs/libvirt-files.md §2, §3, §5). */
interface Treatment {
  /** QEMU opens the path itself; false: libvirt or virtlogd opens it and passes an fd. */
  readonly qemuOpens: boolean;
  /** The drivers label it at start (when labelling is on for the domain). */
  readonly labelled: boolean;
  /** Only this driver labels it (a passthrough smartcard's chardev: SELinux only); absent: both. */
  readonly only?: Model;
  /** A per-element `<seclabel relabel='no'>` is parsed and honoured by both drivers. */
  readonly optOut: boolean;
  /** The SELinux label libvirt gives it. */
  readonly selinuxLabel: string;
  /** Written by QEMU and private to the VM: its svirt categories are the isolation. */
  readonly exclusiveWritable: boolean;
  /**
   * libvirt records the owner and label it replaced (trusted.libvirt.security.*, counted per domain) and
   * gives them back at stop; false: labelled without a record (reset at stop, or never given back).
   * Only meaningful where `labelled`. The doctor and the hook's record check take their files from this.
   */
  readonly remembered: boolean;
  readonly libvirt: string;
  /** What a person can do instead, where the general advice is not true for this file. */
  readonly alternatives?: Readonly<Record<Model, string>>;
}

/** Said for `<os firmware=…>` without a loader path: what is chosen at start cannot be decided from the XML. */
export const FIRMWARE_AUTO =
  'the firmware is chosen by libvirt at start (<os firmware=…>, firmware descriptors): its code is never labelled and its vars are created from the template, owned by the qemu user; neither is named in this XML, so neither is decided';

const IMAGE_LABEL = "the VM's svirt_image_t:s0:cX,cY (imagelabel)";
const CONTENT_LABEL = 'virt_content_t:s0 (content label)';
/** The second line of virtual_image_context, as libvirt reads it (Debian and Fedora ship the same). */
export const CONTENT_CONTEXT = 'system_u:object_r:virt_content_t:s0';
/** The first line of virtual_image_context (the imagelabel's user, role and type; libvirt adds the VM's categories). */
export const IMAGE_CONTEXT = 'system_u:object_r:svirt_image_t:s0';

/** The imagelabel's type at s0, unless the domain names its own <imagelabel> (then it is not judged). */
function imageContextFor(domain: Domain, conn: Connection): string | undefined {
  const s = seclabelFor(domain, 'selinux', conn);
  return s?.element.children.some((c) => c.name === 'imagelabel') ? undefined : IMAGE_CONTEXT;
}

function treatment(f: OtherFile, conn: Pick<Connection, 'stdioHandler'>): Treatment | { readonly undecided: string } {
  switch (f.kind) {
    case 'loader':
      return { qemuOpens: true, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: 'libvirt never labels the firmware (no reference to the loader in either driver): QEMU opens it as it is' };
    case 'nvram':
      if (f.nvramForm === 'legacy')
        return { qemuOpens: true, labelled: true, optOut: false, selinuxLabel: IMAGE_LABEL, remembered: true, exclusiveWritable: true, libvirt: "libvirt chowns it to the qemu user and gives it the VM's image label at start, and gives both back at stop; the <nvram>/path</nvram> form has no <source> for a per-element seclabel (write it as <nvram type='file'><source file=…/></nvram> to get one)" };
      if (f.nvramForm !== 'file') return { undecided: `<nvram type='${f.nvramForm}'> is not decided (libvirt 9.0 knows file nvram only)` };
      return { qemuOpens: true, labelled: true, optOut: true, selinuxLabel: IMAGE_LABEL, remembered: true, exclusiveWritable: true, libvirt: "libvirt chowns it to the qemu user and gives it the VM's image label at start (given back at stop) unless its <source> carries a seclabel with relabel='no'" };
    case 'kernel':
    case 'initrd':
    case 'dtb':
    case 'acpi-table':
      return { qemuOpens: true, labelled: true, optOut: false, selinuxLabel: CONTENT_LABEL, remembered: true, exclusiveWritable: false, libvirt: `libvirt chowns it to the qemu user and labels it ${CONTENT_LABEL} at start, given back at stop; there is no per-element opt-out` };
    case 'fwcfg':
      // virSecurityDACSetSysinfoLabel / virSecuritySELinuxSetSysinfoLabel (9.0 and 11.3): every entry's file=,
      // remembered and given back (…RestoreSysinfoLabel); the schema has no seclabel on <entry>.
      if (f.fwcfgValueWins)
        return { qemuOpens: false, labelled: true, optOut: false, selinuxLabel: CONTENT_LABEL, remembered: true, exclusiveWritable: false, libvirt: `the <entry> also has text (the schema allows one or the other; libvirt's parser takes both unless defined with --validate), which libvirt passes instead (-fw_cfg name=…,string=…): QEMU never opens the file, yet libvirt still chowns it to the qemu user and labels it ${CONTENT_LABEL} at start, given back at stop` };
      return { qemuOpens: true, labelled: true, optOut: false, selinuxLabel: CONTENT_LABEL, remembered: true, exclusiveWritable: false, libvirt: `libvirt passes it as -fw_cfg name=${f.fwcfgName ?? ''},file=… and chowns it to the qemu user and labels it ${CONTENT_LABEL} at start, given back at stop; there is no per-element opt-out` };
    case 'tpm':
      return tpmTreatment(f);
    case 'hostdev':
      return hostdevTreatment(f);
    case 'rng':
      return { qemuOpens: true, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: 'libvirt never labels an <rng> random backend (neither driver has a hook for it): it only adds the path to QEMU\'s mount namespace and devices cgroup (qemuDomainSetupRNG, qemuSetupRNGCgroup); QEMU opens it read-only itself (rng-random)' };
    case 'input':
      return { qemuOpens: true, labelled: true, optOut: false, selinuxLabel: IMAGE_LABEL, remembered: true, exclusiveWritable: false, libvirt: "libvirt chowns the event device to the qemu user and gives it the VM's image label at start, given back at stop (virSecurityDACSetInputLabel, virSecuritySELinuxSetInputLabel); with qemu.conf namespaces = [\"mount\"] (the default) that is QEMU's own copy of the /dev node; there is no per-element opt-out" };
    case 'memory':
      return { qemuOpens: true, labelled: true, optOut: false, selinuxLabel: IMAGE_LABEL, remembered: true, exclusiveWritable: true, libvirt: "libvirt chowns the backing file to the qemu user and gives it the VM's image label at start, given back at stop (virSecurityDACSetMemoryLabel, virSecuritySELinuxSetMemoryLabel); there is no per-element opt-out" };
    case 'filesystem':
      if (f.fsDriver === '9p')
        return { qemuOpens: true, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: `libvirt never labels a 9p share (neither driver touches <filesystem>): QEMU opens the directory itself as the qemu user at start (-fsdev local,path=…,security_model=${f.fsAccessMode === 'squash' ? 'none' : f.fsAccessMode ?? 'passthrough'}, qemuBuildFSStr) and fails to start when it cannot; the files inside are then used as that user, one by one, and are not judged here` };
      if (f.fsDriver === 'virtiofs')
        return { qemuOpens: false, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: 'virtiofsd opens the shared directory, not QEMU: libvirt 9.0 starts it as root (qemuVirtioFSStart, virCommandSetUID 0) and never labels the directory; QEMU only connects to the vhost-user socket libvirt creates in the domain\'s directory and hands to virtiofsd' };
      return { undecided: `<filesystem> with <driver type='${f.fsDriver ?? '?'}'> is not decided` };
    case 'shmem':
      if (f.shmemModel === 'ivshmem-plain')
        return { qemuOpens: true, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: "libvirt never labels a <shmem> (neither driver has a hook for it): QEMU maps /dev/shm/NAME itself (memory-backend-file mem-path=…,share=on, qemuBuildShmemBackendMemProps), opening it read-write as the qemu user, or creating it (mode 0644) when it does not exist; it is left behind at stop" };
      if (f.shmemModel === 'ivshmem-doorbell')
        return { qemuOpens: true, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: "libvirt never labels a <shmem> server socket (it is not one of the chardevs the drivers walk): QEMU connects to it itself as the qemu user (-chardev socket, qemuBuildShmemCommandLine); ivshmem-server, not libvirt, creates it" };
      return { undecided: `<shmem> model '${f.shmemModel ?? 'ivshmem'}' is not decided (the legacy ivshmem device is gone from QEMU 4.0 on; libvirt 9.0 refuses it there)` };
    case 'graphics':
      return { qemuOpens: true, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: `libvirt never labels a <graphics> socket the XML names: QEMU itself removes an old one and binds a new one there as the qemu user (${f.graphicsType === 'spice' ? '-spice unix=on,addr=…' : '-vnc unix:…'}), so it needs to create files in its directory` };
    case 'qemu-arg':
      return { qemuOpens: true, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: 'libvirt passes <qemu:commandline> arguments to QEMU verbatim and never labels what they name: QEMU opens it as it is' };
    case 'chardev': {
      if (f.chardevHost !== undefined) return hostedChardevTreatment(f);
      const t = f.chardevType;
      if (t === 'file') {
        if ((conn.stdioHandler ?? 'logd') === 'logd') {
          const forced = f.seclabels.some((s) => s.relabel);
          return {
            qemuOpens: false,
            labelled: forced,
            optOut: true,
            remembered: forced,
            selinuxLabel: IMAGE_LABEL,
            exclusiveWritable: true,
            libvirt: `stdio_handler = "logd": virtlogd opens the file and passes QEMU an fd, so QEMU needs no access; ${forced ? "a seclabel with relabel='yes' forces both drivers to label it" : 'neither driver labels it (it has no seclabel of its own)'}`,
          };
        }
        return { qemuOpens: false, labelled: true, optOut: true, selinuxLabel: IMAGE_LABEL, remembered: true, exclusiveWritable: true, libvirt: 'stdio_handler = "file": libvirtd opens the file and passes QEMU an fd (QEMU needs no access), and still chowns and relabels the path at start, given back at stop, unless the <source> has relabel=\'no\'' };
      }
      if (t === 'unix' && f.unixMode === 'bind')
        return { qemuOpens: false, labelled: true, optOut: true, selinuxLabel: IMAGE_LABEL, remembered: false, exclusiveWritable: true, libvirt: "libvirt creates the listening socket and passes QEMU its fd (QEMU needs no access); an existing path is chowned and relabelled and not given back" };
      if (t === 'unix')
        return { qemuOpens: true, labelled: true, optOut: true, selinuxLabel: IMAGE_LABEL, remembered: false, exclusiveWritable: true, libvirt: "libvirt chowns the socket to the qemu user and gives it the VM's image label at start unless its <source> carries a seclabel with relabel='no'; QEMU connects to it; neither is remembered for a socket: at stop libvirt 9.0 sets it to root:root and to the label the policy's file contexts give its path, whatever it had (both measured)" };
      return { qemuOpens: true, labelled: true, optOut: true, selinuxLabel: IMAGE_LABEL, remembered: true, exclusiveWritable: true, libvirt: "libvirt chowns it to the qemu user and gives it the VM's image label at start (given back at stop) unless its <source> carries a seclabel with relabel='no'; QEMU opens it read-write" };
    }
  }
}

const DROPPED_SECLABEL =
  "a <seclabel> in its <source> is schema-valid but dropped by libvirt's parser (virDomainChrSourceDefParseXML reads one only for serial, parallel, console and channel), so there is no per-element opt-out";

/**
 * The chardev behind a passthrough `<smartcard>`, a `<redirdev>` or an egd `<rng>` (9.0 and 11.3): opened like
 * a serial's (qemuProcessPrepareHostBackendChardevOne: fd passing for file and unix bind), but DAC labels
 * none of them (virSecurityDACSetAllLabel walks virDomainChrDefForeach only), SELinux only the smartcard's
 * (virSecuritySELinuxSetSecuritySmartcardCallback → …SetChardevLabel with chardevStdioLogd false: a file is
 * labelled even under virtlogd), and the parser drops their per-element seclabel.
 */
function hostedChardevTreatment(f: OtherFile): Treatment {
  const element = f.chardevHost === 'smartcard' ? "<smartcard mode='passthrough'>" : f.chardevHost === 'redirdev' ? '<redirdev>' : "<rng><backend model='egd'>";
  const smartcard = f.chardevHost === 'smartcard';
  const fdPassed = f.chardevType === 'file' || (f.chardevType === 'unix' && f.unixMode === 'bind');
  const opens = f.chardevType === 'file'
    ? 'virtlogd (stdio_handler = "logd") or libvirtd opens the file and passes QEMU an fd, so QEMU needs no access'
    : fdPassed
      ? 'libvirt creates the listening socket and passes QEMU its fd, so QEMU needs no access'
      : f.chardevType === 'unix'
        ? 'QEMU connects to the socket itself'
        : 'QEMU opens it itself, read-write';
  const who = smartcard
    ? `libvirt's DAC driver never labels it (it walks serial, parallel, console and channel only); its SELinux driver gives the path the VM's image label at start (virSecuritySELinuxSetSecuritySmartcardCallback, ${f.chardevType === 'file' ? 'even under virtlogd, ' : ''}${f.chardevType === 'unix' ? "whether a socket's label is given back at stop is not verified" : 'given back at stop'})`
    : 'neither driver labels it (libvirt has no security hook for this device)';
  return {
    qemuOpens: !fdPassed,
    labelled: smartcard,
    only: 'selinux',
    optOut: false,
    selinuxLabel: IMAGE_LABEL,
    remembered: smartcard && f.chardevType !== 'unix',
    exclusiveWritable: true,
    libvirt: `the chardev of ${element}: ${opens}; ${who}; ${DROPPED_SECLABEL}`,
  };
}

/** libvirt 9.0's hostdev labelling (virSecurityDACSetHostdevLabel, virSecuritySELinuxSetHostdevSubsysLabel). */
function hostdevTreatment(f: OtherFile): Treatment | { readonly undecided: string } {
  const img = "the VM's image label";
  const node: Record<string, string> = {
    pci: `the device's VFIO group /dev/vfio/<group> (its IOMMU group, read from sysfs at start) to the qemu user and gives it ${img}, without remembering either: at stop DAC sets root:root and SELinux the default context`,
    mdev: `the mediated device's VFIO group /dev/vfio/<group> to the qemu user and gives it ${img}, remembered and given back at stop (libvirt 11.3 no longer remembers it)`,
    usb: `the USB node /dev/bus/usb/<bus>/<device> (found from vendor/product or bus/device at start) to the qemu user and gives it ${img}, remembered and given back at stop`,
    scsi: `the SCSI generic node /dev/sgN of <adapter>/<address> to the qemu user, and SELinux gives it svirt_image_t:s0 when <shareable/>, virt_content_t:s0 when <readonly/>, else ${img}; remembered and given back at stop`,
    scsi_host: `the vhost-scsi node to the qemu user and gives it ${img}, remembered and given back at stop`,
  };
  if (f.hostdevType === 'scsi' && f.hostdevProtocol === 'iscsi')
    return { qemuOpens: false, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: 'an iSCSI <hostdev> is reached over the network by QEMU: no host file, nothing labelled' };
  const what = f.hostdevType === undefined ? undefined : node[f.hostdevType];
  if (what === undefined) return { undecided: `<hostdev type='${f.hostdevType ?? '?'}'> is not decided` };
  return {
    qemuOpens: true,
    labelled: true,
    optOut: false,
    selinuxLabel: IMAGE_LABEL,
    // virSecurityDACSetHostdevLabelHelper: remembered for all but a PCI device's VFIO group (9.0).
    remembered: f.hostdevType !== 'pci',
    exclusiveWritable: true,
    libvirt: `libvirt chowns ${what}; with qemu.conf namespaces = ["mount"] (the default) only QEMU's own copy of the node changes; there is no per-element opt-out (only a domain-level seclabel or dynamic_ownership = 0 stops it). The node is found on the host at start, so it is not judged from the XML`,
  };
}

/** What libvirt does for a TPM emulator's own files (qemu_tpm.c, 9.0 and 11.3), not named in a 9.0 XML. */
export const SWTPM_FILES =
  "QEMU opens none of swtpm's files: it connects to swtpm's socket (/run/libvirt/qemu/swtpm/<id>-<name>-swtpm.sock), which libvirt chowns to the qemu user and labels with the VM's image label, with no opt-out. swtpm runs as qemu.conf swtpm_user:swtpm_group (default tss:tss, root when no tss user exists when libvirtd starts); libvirt creates its state /var/lib/libvirt/swtpm/<uuid>/tpm2 (0700) and chowns it and every file in it to that user (qemuTPMEmulatorCreateStorage), creates its log /var/log/swtpm/libvirt/qemu/<name>-swtpm.log and chowns it (qemuTPMEmulatorPrepareHost), both unconditionally: no domain seclabel or dynamic_ownership = 0 stops it, and they are never given back; SELinux labels both with the VM's image label while swtpm runs (qemuSecuritySetTPMLabels). The state is deleted at undefine unless persistent_state='yes' or virsh undefine --keep-tpm";

/** Where libvirt finds swtpm: the first `swtpm` on libvirtd's PATH (virTPMBinaryGetPath); Debian's swtpm package installs it here. */
export const SWTPM_BINARY = '/usr/bin/swtpm';

/**
 * A TPM emulator under SELinux: libvirt runs swtpm under the VM's own process label (qemuTPMEmulatorStart →
 * qemuSecurityCommandRun → SetChildProcessLabel), so the start needs the policy to let that domain be entered
 * through swtpm's binary. Debian 12's policy has no swtpm module and lets svirt_t be entered only through
 * qemu_exec_t: swtpm (bin_t) is refused `entrypoint`, it never runs, and the VM fails to start
 * (test/selinux-kernel/files-doctor-enforcing.test.ts).
 */
function swtpmEntrypoint(domain: Domain, conn: Connection, ports: DecisionPorts, findings: Finding[]): FileModelDecision {
  const unconfined = selinuxConfined(domain, conn);
  if (unconfined) return { action: 'n/a', accessible: null, reason: `${unconfined}; ${SWTPM_FILES}` };
  const c = checkChain('selinux', { kind: 'ok', files: [{ path: SWTPM_BINARY, access: 'read', role: 'top', entrypoint: true }] }, ports, domain);
  findings.push(...c.findings);
  const v = c.verdict;
  const runs = `libvirt runs swtpm (${SWTPM_BINARY}, the first swtpm on libvirtd's PATH) under the VM's own process label, so execve(2) must be allowed to enter the VM's domain through swtpm's binary`;
  if (v.accessible === false)
    return { action: 'as-is', accessible: false, reason: `${runs}, and the policy refuses it: ${v.reason}; swtpm never starts and the VM fails to start (no per-device setting in libvirt changes the label swtpm runs under)` };
  const then = v.accessible === true ? `the policy allows it: ${v.because}` : `whether the policy allows it cannot be told: ${v.reason}`;
  return { action: 'n/a', accessible: null, reason: `${runs}; ${then}. ${SWTPM_FILES}` };
}

function tpmTreatment(f: OtherFile): Treatment | { readonly undecided: string } {
  if (f.tpmBackend === 'passthrough')
    return {
      qemuOpens: false,
      labelled: true,
      optOut: false,
      selinuxLabel: IMAGE_LABEL,
      // virSecurityDACSetTPMFileLabel: virSecurityDACSetChardevLabelHelper(..., remember false).
      remembered: false,
      exclusiveWritable: true,
      libvirt: "libvirt opens the TPM device (and, for SELinux, labels its sysfs cancel file too) and passes QEMU fds (qemuBuildTPMOpenBackendFDs); it chowns the device to the qemu user and gives it the VM's image label at start without remembering either: at stop DAC sets root:root and SELinux the file_contexts default; with qemu.conf namespaces = [\"mount\"] (the default) only QEMU's copy in its private /dev is changed",
      alternatives: { dac: ALTERNATIVES_DAC_DOMAIN, selinux: ALTERNATIVES_SELINUX },
    };
  if (f.tpmBackend === 'emulator') {
    if (f.path === undefined) return { qemuOpens: false, labelled: false, optOut: false, selinuxLabel: '', remembered: false, exclusiveWritable: false, libvirt: SWTPM_FILES };
    return {
      qemuOpens: false,
      labelled: true,
      optOut: false,
      selinuxLabel: IMAGE_LABEL,
      // chowned to swtpm_user by qemu_tpm.c, never recorded
      remembered: false,
      exclusiveWritable: true,
      libvirt: `<source type='${f.tpmSourceType ?? '?'}' path=…> is read by libvirt 11 and later only (9.0 ignores it and uses /var/lib/libvirt/swtpm/<uuid>): there libvirt creates the ${f.tpmSourceType === 'file' ? 'state file' : 'directory (0700)'} and chowns it${f.tpmSourceType === 'file' ? '' : ' and every file in it'} to qemu.conf swtpm_user:swtpm_group, unconditionally, and deletes it at undefine unless persistent_state='yes'; swtpm, not QEMU, opens it`,
    };
  }
  return { undecided: `<tpm><backend type='${f.tpmBackend ?? '?'}'> is not decided (QEMU connects to a TPM emulator libvirt does not start; its socket is not labelled by libvirt 9.0)` };
}

/** A file beyond the disks that libvirt labels at start, as the doctor and the hook's record check see it. */
export interface LabelledOtherFile {
  readonly file: OtherFile;
  readonly path: string;
  /** Per model: labelled at start (the element's own seclabel honoured; the domain's is the caller's). */
  readonly labelled: Readonly<Record<Model, boolean>>;
  /** libvirt records what it replaced and gives it back at stop (Treatment.remembered). */
  readonly remembered: boolean;
  /** The SELinux label libvirt gives it: the VM's imagelabel, or the content label (CONTENT_CONTEXT). */
  readonly selinuxLabel: 'image' | 'content';
}

/**
 * Every file beyond the disks that libvirt 9.0 labels at start, from treatment(): a new file kind joins the
 * doctor and the hook's record check through its Treatment, with no change there. Undecided forms (an
 * nvram type libvirt 9.0 does not know) and elements without a path are left out.
 */
export function labelledOtherFiles(domain: Domain, conn: Pick<Connection, 'stdioHandler'>): LabelledOtherFile[] {
  const out: LabelledOtherFile[] = [];
  for (const f of domain.other?.files ?? []) {
    if (f.path === undefined) continue;
    const t = treatment(f, conn);
    if ('undecided' in t || !t.labelled) continue;
    const on = (m: Model) => (t.only === undefined || t.only === m) && !(t.optOut && f.seclabels.some((s) => s.model === m && !s.relabel));
    out.push({ file: f, path: f.path, labelled: { dac: on('dac'), selinux: on('selinux') }, remembered: t.remembered, selinuxLabel: t.selinuxLabel === CONTENT_LABEL ? 'content' : 'image' });
  }
  return out;
}

const ALTERNATIVES_DAC =
  "what you can do instead: make the qemu user its owner (libvirt skips a chown to the same owner), or stop DAC labelling for the whole domain with <seclabel type='static' model='dac' relabel='no'><label>+UID:+GID</label></seclabel> (or qemu.conf dynamic_ownership = 0), which also stops it for every disk: each must then already be usable by that identity";
/** For files libvirt does not remember (reset to root:root at stop whoever owned them). */
const ALTERNATIVES_DAC_DOMAIN =
  "what you can do instead: owning it already does not help (the owner is set to root:root at stop whatever it was); only a domain-level <seclabel type='static' model='dac' relabel='no'><label>+UID:+GID</label></seclabel> (or qemu.conf dynamic_ownership = 0) stops it, and that stops DAC labelling for every disk too";
const ALTERNATIVES_SELINUX =
  "what you can do instead: only a domain-level SELinux seclabel (type='none', or static with relabel='no') stops it, and that drops the per-VM svirt isolation for every file of the domain";

/** Whether QEMU runs under an svirt label at all (a domain seclabel type='none', or unconfined by default, does not). */
function selinuxConfined(domain: Domain, conn: Connection): string | undefined {
  const s = seclabelFor(domain, 'selinux', conn);
  if (s?.type === 'none') return `domain <seclabel type='none'> (line ${s.element.line}): QEMU does not run under an svirt label`;
  if (!s && !conn.defaultConfined) return 'security_default_confined = 0 and the domain has no seclabel: QEMU does not run under an svirt label';
  return undefined;
}

/** The files QEMU opens for this element: a -drive with a format has its backing chain. */
export function otherFileChain(f: OtherFile, ports: DecisionPorts): Chain {
  return f.path === undefined ? { kind: 'unprovable', reason: 'no path in the XML' } : chainFor(f, ports);
}

/** The options whose file QEMU opens as a block device, probing its format when none is given. */
const QEMU_DRIVE_OPTIONS = new Set(['drive', 'cdrom', 'pflash', 'hda', 'hdb', 'hdc', 'hdd', 'fda', 'fdb', 'mtdblock', 'sd', '']);

function chainFor(f: OtherFile, ports: DecisionPorts): Chain {
  const path = f.path!;
  const probed = f.kind === 'qemu-arg' && f.format === undefined && f.qemuOption !== undefined && QEMU_DRIVE_OPTIONS.has(f.qemuOption);
  if (f.kind === 'qemu-arg' && ((f.format !== undefined && f.format !== 'raw') || probed))
    return ports.resolveChain({
      element: f.element, index: -1, type: 'file', rawType: 'file', device: 'disk', target: undefined, source: f.element,
      path, format: f.format ?? QEMU_PROBES, readonly: f.access === 'read', shareable: false, backing: undefined, seclabels: [],
    });
  if (f.kind === 'filesystem') return { kind: 'ok', files: [{ path: `${path.replace(/\/+$/, '')}/.`, access: 'read', role: 'top', directory: true }] };
  if (f.kind === 'graphics') return { kind: 'ok', files: [{ path, access: 'readwrite', role: 'top', create: true }] };
  const endpoint = (f.kind === 'chardev' && (f.chardevType === 'unix' || f.chardevType === 'pipe')) || (f.kind === 'shmem' && f.shmemModel === 'ivshmem-doorbell');
  // QEMU maps the direct-boot initrd (x86_load_linux, g_mapped_file_new): SELinux asks `map` too (seen
  // refused for svirt_t on virt_content_t under Debian's policy, test/selinux-kernel/files-doctor-enforcing.test.ts).
  // A memory device's backing file is mapped shared (memory-backend-file): `map` on it too.
  const mapped = f.kind === 'initrd' || f.kind === 'memory' || (f.kind === 'qemu-arg' && f.qemuOption === 'initrd');
  return { kind: 'ok', files: [{ path, access: f.access, role: 'top', ...(f.format !== undefined && { format: f.format }), ...(endpoint && { endpoint: true as const }), ...(mapped && { mapped: true as const }) }] };
}

/**
 * A pipe chardev (qemu_chr_open_pipe): QEMU opens PATH.out for writing and PATH.in for reading, and only
 * when either cannot be opened PATH read-write; libvirt labels .in and .out when both exist, else PATH.
 * Both are asked read-write (more than QEMU needs, never less).
 */
function pipeChains(path: string): readonly [Chain, Chain] {
  const one = (p: string) => ({ path: p, access: 'readwrite' as const, role: 'top' as const, endpoint: true as const });
  return [{ kind: 'ok', files: [one(`${path}.in`), one(`${path}.out`)] }, { kind: 'ok', files: [one(path)] }];
}

/** Why libvirt will not label for `model` in this domain at all (a domain seclabel, dynamic_ownership = 0); undefined: it will. */
function driverOff(model: Model, domain: Domain, conn: Connection): string | undefined {
  const labelling = domainLabelling(domain, model, conn);
  return !labelling.on ? labelling.why : model === 'dac' && !conn.dynamicOwnership ? 'dynamic_ownership = 0: libvirt never chowns' : undefined;
}

function decideModel(model: Model, f: OtherFile, domain: Domain, conn: Connection, ports: DecisionPorts, findings: Finding[]): FileModelDecision {
  const state = conn.models[model];
  if (!state.active) return { action: 'n/a', accessible: null, reason: `${model} is not active: ${state.why}` };
  if (f.path === undefined) {
    if (f.kind === 'hostdev') {
      const h = treatment(f, conn);
      if ('undecided' in h) return { action: 'keep', accessible: null, reason: h.undecided };
      if (!h.labelled) return { action: 'n/a', accessible: null, reason: h.libvirt };
      const unconfined = model === 'selinux' ? selinuxConfined(domain, conn) : undefined;
      if (unconfined) return { action: 'n/a', accessible: null, reason: unconfined };
      const off = driverOff(model, domain, conn);
      if (off) return { action: 'as-is', accessible: null, reason: `${off}, so QEMU opens the node as it is; the node is found on the host at start and is not judged here` };
      return { action: 'relabel', accessible: null, reason: h.libvirt };
    }
    if (f.kind === 'tpm' && f.tpmBackend === 'emulator') {
      if (model === 'dac') {
        const l = domainLabelling(domain, 'dac', conn);
        const off = !l.on ? l.why : !conn.dynamicOwnership ? 'dynamic_ownership = 0' : undefined;
        // virSecurityDACSetTPMFileLabel runs inside SetAllLabel: off with it, unlike qemu_tpm.c's chowns.
        if (off)
          return { action: 'as-is', accessible: false, reason: `${off}, so libvirt does not chown swtpm's socket to the qemu user: QEMU cannot connect to it unless it runs as qemu.conf swtpm_user itself, and the VM fails to start ("Failed to connect to '…-swtpm.sock': Permission denied", measured on libvirt 9.0 with a static DAC label and relabel='no'); swtpm's state and log are chowned to swtpm_user all the same` };
      }
      if (model === 'selinux') return swtpmEntrypoint(domain, conn, ports, findings);
      return { action: 'n/a', accessible: null, reason: SWTPM_FILES };
    }
    if (f.kind === 'chardev') return { action: 'n/a', accessible: null, reason: 'no path: libvirt creates the socket itself in the domain\'s channel directory' };
    return { action: 'n/a', accessible: null, reason: 'no path in the XML: libvirt chooses it at start' };
  }
  const t = treatment(f, conn);
  if ('undecided' in t) return { action: 'keep', accessible: null, reason: t.undecided };

  const off = driverOff(model, domain, conn);
  const labelled = t.labelled && (t.only === undefined || t.only === model);
  const check = () => {
    let c = checkChain(model, chainFor(f, ports), ports, domain);
    if (f.kind === 'chardev' && f.chardevType === 'pipe') {
      const [pair, single] = pipeChains(f.path!);
      c = checkChain(model, pair, ports, domain);
      // .in or .out missing: QEMU (and libvirt's labelling) fall back to the path itself.
      if (c.findings.some((x) => x.code === 'missing-file')) c = checkChain(model, single, ports, domain);
    }
    // ivshmem-plain: QEMU creates a missing /dev/shm/NAME itself.
    if (f.kind === 'shmem' && f.shmemModel === 'ivshmem-plain' && c.findings.some((x) => x.code === 'missing-file'))
      c = checkChain(model, { kind: 'ok', files: [{ path: f.path!, access: 'readwrite', role: 'top', create: true }] }, ports, domain);
    // libvirt creates a missing nvram from its template, owned by the qemu user, mode 0600.
    const missingNvram = f.kind === 'nvram' && c.findings.some((x) => x.code === 'missing-file');
    findings.push(...c.findings.filter((x) => !(missingNvram && x.code === 'missing-file')));
    return { ...c, missingNvram };
  };

  // An existing per-element seclabel: left as written, re-checked when it says relabel='no'.
  const existing = t.optOut ? f.seclabels.find((s) => s.model === model) : undefined;
  if (existing) {
    if (existing.relabel) return { action: 'existing', accessible: null, reason: `the <source> already has a ${model} seclabel with relabel='yes'`, stale: false };
    if (!t.qemuOpens) return { action: 'existing', accessible: null, reason: `relabel='no' already present; QEMU gets an fd and needs no access to the path`, stale: false };
    const c = check();
    const v = c.verdict;
    if (v.accessible === false && !c.missingNvram)
      return { action: 'existing', accessible: false, reason: `stale relabel='no': ${v.reason}; the VM will fail to start`, stale: true, denied: v.reason };
    return { action: 'existing', accessible: v.accessible, reason: v.accessible ? `relabel='no' already present and still valid: ${v.because}` : `relabel='no' already present; cannot re-check: ${v.reason}`, stale: false };
  }

  if (!t.qemuOpens) {
    if (!labelled || off) return { action: 'n/a', accessible: null, reason: `${t.libvirt}${off && labelled ? `; ${off}` : ''}` };
    if (!t.optOut) return { action: 'relabel', accessible: null, reason: `${t.libvirt}; QEMU needs no access to it, and there is no per-element opt-out; ${t.alternatives?.[model] ?? (model === 'dac' ? ALTERNATIVES_DAC : ALTERNATIVES_SELINUX)}` };
    return { action: 'keep', accessible: null, reason: `${t.libvirt}; QEMU needs no access, so there is nothing to prove and it is left to libvirt`, byRule: true };
  }

  // From here QEMU opens the path itself.
  if (model === 'selinux') {
    const unconfined = selinuxConfined(domain, conn);
    if (unconfined) return { action: 'n/a', accessible: null, reason: unconfined };
    if (f.kind === 'graphics' || (f.kind === 'shmem' && f.shmemModel === 'ivshmem-plain'))
      return { action: 'as-is', accessible: null, reason: `${t.libvirt}; whether svirt may ${f.kind === 'graphics' ? 'create the socket there' : 'use or create it'} under the policy is not judged here` };
  }
  if (!labelled || off) {
    const c = check();
    const v = c.verdict;
    const why = labelled ? `${off}, so QEMU opens it as it is` : f.kind === 'qemu-arg' ? 'libvirt never labels what <qemu:commandline> names' : t.labelled ? `libvirt's ${model === 'dac' ? 'DAC' : 'SELinux'} driver never labels it` : 'libvirt never labels it';
    if (v.accessible === true) return { action: 'as-is', accessible: true, reason: `${why}; QEMU can open it: ${v.because}` };
    if (c.missingNvram) return { action: 'as-is', accessible: null, reason: `${why}; it does not exist yet: libvirt creates it from the template, owned by the qemu user, mode 0600` };
    return { action: 'as-is', accessible: v.accessible, reason: `${why}; ${v.accessible === false ? 'QEMU cannot open it, the VM fails to start' : 'cannot tell whether QEMU can open it'}: ${v.reason}` };
  }

  if (!t.optOut && model === 'selinux') {
    // The content label is one fixed label: the policy can judge QEMU's access to the file once it has it.
    // The image label carries the VM's own categories, which its process dominates: only its type can refuse,
    // and that matters for a file QEMU maps (a memory device's backing file: Debian's policy gives svirt_t no
    // `map` on svirt_image_t). The type is judged at s0, which the VM's process dominates as it does its own level.
    const image = f.kind === 'memory' ? imageContextFor(domain, conn) : undefined;
    if (t.selinuxLabel !== CONTENT_LABEL && image === undefined)
      return { action: 'relabel', accessible: null, reason: `libvirt labels it ${t.selinuxLabel} at start with no per-element opt-out; that label carries the VM's own categories, made for QEMU to use; ${ALTERNATIVES_SELINUX}` };
    const top = chainFor(f, ports);
    const assumeLabel = image ?? CONTENT_CONTEXT;
    const assumed: Chain = top.kind === 'ok' ? { kind: 'ok', files: top.files.map((x) => ({ ...x, assumeLabel })) } : top;
    const c = checkChain(model, assumed, ports, domain);
    findings.push(...c.findings);
    const v = c.verdict;
    const use = f.kind === 'memory' ? 'map it read-write' : 'read it';
    const then = v.accessible === true ? `QEMU can then ${use}: ${v.because}` : v.accessible === false ? `even then QEMU cannot ${use}, the VM fails to start: ${v.reason}` : `cannot tell whether QEMU can then ${use}: ${v.reason}`;
    return { action: 'relabel', accessible: v.accessible, reason: `libvirt labels it ${t.selinuxLabel} at start with no per-element opt-out; ${then}; ${ALTERNATIVES_SELINUX}` };
  }
  if (!t.optOut) {
    const c = model === 'dac' ? check() : undefined;
    const label = model === 'dac' ? 'chowns it to the qemu user' : `labels it ${t.selinuxLabel}`;
    const now =
      c === undefined
        ? ''
        : c.missingNvram
          ? '; it does not exist yet: libvirt creates it from the template, owned by the qemu user, mode 0600'
          : c.verdict.accessible === true
            ? `; QEMU could already use it as it is (${c.verdict.because}), but libvirt relabels regardless`
            : `; as it is now QEMU could not use it (${c.verdict.reason})`;
    const after = c === undefined || c.missingNvram ? undefined : afterChown(f, ports, domain, findings);
    const sel = model === 'selinux' ? `; ${ALTERNATIVES_SELINUX}` : `; ${ALTERNATIVES_DAC}`;
    return {
      action: 'relabel',
      accessible: c === undefined ? null : c.missingNvram ? null : c.verdict.accessible,
      reason: `libvirt ${label} at start with no per-element opt-out${now}${after ? `; ${after.sentence}` : ''}${sel}`,
      ...(after && { afterChown: after.accessible }),
    };
  }

  // A per-element seclabel would be honoured: decided as a disk is.
  if (model === 'selinux' && t.exclusiveWritable)
    return { action: 'keep', accessible: null, reason: "exclusive writable per-VM file: its svirt categories are the isolation, libvirt must relabel it", byRule: true };
  const c = check();
  const v = c.verdict;
  if (c.missingNvram) return { action: 'keep', accessible: null, reason: 'it does not exist yet: libvirt creates it from the template, owned by the qemu user, mode 0600; decide again once it exists' };
  if (v.accessible === true && c.proof) return { action: 'annotate', accessible: true, reason: v.because, proof: c.proof };
  if (v.accessible === true) return { action: 'keep', accessible: null, reason: 'no proof recorded' };
  // libvirt will chown it (no seclabel here): say whether that is enough.
  const after = model === 'dac' && labelled ? afterChown(f, ports, domain, findings) : undefined;
  return { action: 'keep', accessible: v.accessible, reason: after ? `${v.reason}; ${after.sentence}` : v.reason, ...(after && { afterChown: after.accessible }) };
}

/**
 * DAC: what QEMU gets once libvirt has chowned the file to the qemu user (virSecurityDACSetOwnership changes
 * owner and group only): the owner bits of its mode (the ACL's user_obj) then decide, and every directory on
 * the way is as it is. A file that gives its owner nothing (mode 0000, 0200 for a read) stays unusable, and a
 * file QEMU reads today through the group or other bits can lose it. Files QEMU opens itself only; a pipe's
 * .in/.out pair and a -drive's chain are not chowned that way and are not asked here.
 */
function afterChown(f: OtherFile, ports: DecisionPorts, domain: Domain, findings: Finding[]): { accessible: boolean | null; sentence: string } | undefined {
  if (f.path === undefined || (f.kind === 'chardev' && f.chardevType === 'pipe')) return undefined;
  const top = chainFor(f, ports);
  if (top.kind !== 'ok' || top.files.length !== 1) return undefined;
  const c = checkChain('dac', { kind: 'ok', files: [{ ...top.files[0]!, assumeQemuOwner: true }] }, ports, domain);
  const v = c.verdict;
  const lead = "after libvirt's chown to the qemu user (mode and ACL unchanged)";
  if (v.accessible === true) return { accessible: true, sentence: `${lead} QEMU can use it: ${v.because}` };
  if (v.accessible === null) return { accessible: null, sentence: `${lead}: cannot tell whether QEMU can use it: ${v.reason}` };
  findings.push({
    code: 'dac-denied-after-chown',
    severity: 'warning',
    path: f.path,
    message: `even ${lead} QEMU cannot use it, the VM fails to start: ${v.reason}`,
  });
  // A directory on the way, or a missing file: the engine's own findings (already reported) say what to do.
  if (c.findings.some((x) => x.code === 'dac-dir-search-denied' || x.code === 'missing-file')) return { accessible: false, sentence: `even ${lead} QEMU cannot use it, the VM fails to start: ${v.reason}` };
  const fix = `fix: give the file's owner ${f.access === 'read' ? 'read (chmod u+r' : 'read and write (chmod u+rw'} ${shellQuote(f.path)}), which the qemu user becomes; an ACL entry for the qemu user no longer applies once it owns the file`;
  return { accessible: false, sentence: `even ${lead} QEMU cannot use it, the VM fails to start: ${v.reason}; ${fix}` };
}

export function decideOtherFile(f: OtherFile, domain: Domain, conn: Connection, ports: DecisionPorts): OtherFileDecision {
  const findings: Finding[] = [];
  for (const s of f.seclabels)
    if (s.model === undefined)
      findings.push({ code: 'seclabel-without-model', severity: 'warning', message: "a <seclabel> without model= matches no security driver: libvirt fails at start with \"Security driver model '(null)' is not available\"" });
    else if ((s.model === 'dac' || s.model === 'selinux') && !conn.models[s.model].active)
      findings.push({ code: 'seclabel-model-inactive', severity: 'warning', message: `a seclabel for model '${s.model}', which is not active on this connection: the VM fails at start` });
  if (f.droppedSeclabel)
    findings.push({ code: 'seclabel-dropped', severity: 'warning', message: `the <seclabel> at line ${f.droppedSeclabel.line} is dropped by libvirt when the domain is defined and never honoured: ${DROPPED_SECLABEL}` });
  const models = Object.fromEntries(MODELS.map((m) => [m, decideModel(m, f, domain, conn, ports, findings)])) as Record<Model, FileModelDecision>;
  const t = f.path === undefined && f.kind !== 'tpm' && f.kind !== 'hostdev' ? undefined : treatment(f, conn);
  const libvirt = t === undefined ? 'no path in the XML' : 'undecided' in t ? t.undecided : t.libvirt;
  const apparmor = decideAppArmorOther(f, domain, conn, ports);
  if (apparmor) findings.push(...appArmorFinding(apparmor, models.dac.accessible));
  return { file: f, libvirt, models, ...(apparmor && { apparmor }), findings: dedupe(findings) };
}

export function decideOtherFiles(domain: Domain, conn: Connection, ports: DecisionPorts): OtherFileDecision[] {
  return (domain.other?.files ?? []).map((f) => decideOtherFile(f, domain, conn, ports));
}
