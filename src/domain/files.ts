/**
 * The files of a domain beyond `<disk>` that libvirt labels or QEMU opens (docs/libvirt-files.md):
 * firmware (`<loader>`, `<nvram>` in both forms), direct kernel boot (`<kernel>`, `<initrd>`, `<dtb>`,
 * `<acpi><table>`), the sources of serial/parallel/console/channel chardevs and of the chardevs behind a
 * passthrough `<smartcard>`, a `<redirdev>` and an egd `<rng>`, `<sysinfo type='fwcfg'>`
 * entry files, `<tpm>` backends, `<filesystem>` shares, `<rng>` random backends, evdev `<input>`s, nvdimm
 * and virtio-pmem `<memory>` paths, `<hostdev>`s (their nodes are found at start), and the files the arguments
 * of `<qemu:commandline>` name. Only what the XML says: which driver does what to each is decide/'s.
 */
import { attr, child, childrenNamed, type XmlElement } from '../xml/tree.js';
import type { DiskSeclabel } from './model.js';
import { qemuFileArgs, type QemuArgProblem } from './qemu-options.js';

export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

export type FileKind =
  | 'loader'
  | 'nvram'
  | 'kernel'
  | 'initrd'
  | 'dtb'
  | 'acpi-table'
  | 'fwcfg'
  | 'tpm'
  | 'filesystem'
  | 'rng'
  | 'input'
  | 'memory'
  | 'hostdev'
  | 'chardev'
  | 'shmem'
  | 'graphics'
  | 'qemu-arg';

export const CHARDEV_ELEMENTS = ['serial', 'parallel', 'console', 'channel'] as const;

export interface OtherFile {
  readonly kind: FileKind;
  /** The element the file belongs to (`<loader>`, `<nvram>`, `<serial>`, `<qemu:arg>`, …): reports group by it. */
  readonly element: XmlElement;
  /** How reports name that element, unique in the domain: `os/loader`, `devices/serial[1]`, `qemu:commandline/arg[2] -fw_cfg`. */
  readonly where: string;
  /** The local path; undefined when the element names none (firmware chosen at start, pty chardev, …). */
  readonly path: string | undefined;
  /** What QEMU asks for on it when QEMU opens it itself. */
  readonly access: 'read' | 'readwrite';
  /** Where a per-element `<seclabel>` goes (nvram's and chardevs' `<source>`); undefined for the rest. */
  readonly source: XmlElement | undefined;
  readonly seclabels: readonly DiskSeclabel[];
  /** nvram: 'legacy' (`<nvram>/path</nvram>`) or the `type=` of the source form. */
  readonly nvramForm?: 'legacy' | string;
  /** chardev: its type= (file, pipe, unix, dev, pty, …) and, for unix, its source mode=. */
  readonly chardevType?: string;
  readonly unixMode?: string;
  /**
   * chardev: the device whose backend it is when that is not serial/parallel/console/channel
   * (`<smartcard mode='passthrough'>`, `<redirdev>`, `<rng><backend model='egd'>`). libvirt's parser drops a
   * `<seclabel>` in their `<source>` (virDomainChrSourceDefParseXML is called without a chr_def), so
   * `seclabels` stays empty for them and `droppedSeclabel` is the first one written there.
   */
  readonly chardevHost?: 'smartcard' | 'redirdev' | 'rng';
  readonly droppedSeclabel?: XmlElement;
  /** loader: type= (rom, pflash) as written. */
  readonly loaderType?: string;
  /** fwcfg: the entry's name= and whether its text content wins over file= (QEMU then gets `string=`). */
  readonly fwcfgName?: string;
  readonly fwcfgValueWins?: boolean;
  /** tpm: the backend type= (passthrough, emulator, external) and, for an emulator, its `<source type=…>` (libvirt ≥ 11). */
  readonly tpmBackend?: string;
  readonly tpmSourceType?: string;
  /** filesystem: the driver (`9p` for type='path' or none, `virtiofs`, or as written) and its accessmode. */
  readonly fsDriver?: '9p' | 'virtiofs' | string;
  readonly fsAccessMode?: string;
  /** hostdev: the subsystem type= (pci, usb, scsi, scsi_host, mdev) and, for scsi, its source protocol= (iscsi). */
  readonly hostdevType?: string;
  readonly hostdevProtocol?: string;
  /** shmem: the `<model type=…>` (ivshmem-plain, ivshmem-doorbell; absent: libvirt's legacy `ivshmem`). */
  readonly shmemModel?: string;
  /** graphics: its type= (vnc, spice) for a `<listen type='socket' socket=…>`. */
  readonly graphicsType?: string;
  /** qemu-arg: the QEMU option (without dash) and the image format it names, if any. */
  readonly qemuOption?: string;
  readonly format?: string;
}

export interface OtherFiles {
  readonly files: readonly OtherFile[];
  /** Arguments of `<qemu:commandline>` that name a file in a way that cannot be decided. */
  readonly argProblems: readonly (QemuArgProblem & { readonly element: XmlElement })[];
  /** `<os firmware=…>` without a loader path: libvirt picks the firmware at start. */
  readonly firmwareAuto: boolean;
}

/** Per-element seclabels as written; the caller (parse.ts) validates them as for disks. */
export type SeclabelReader = (source: XmlElement) => readonly DiskSeclabel[];

const text = (el: XmlElement | undefined): string | undefined => {
  const t = el?.text.trim();
  return t === undefined || t === '' ? undefined : t;
};

/** The prefix bound to libvirt's QEMU namespace on the root (libvirt matches by URI, not by prefix). */
function qemuPrefixes(root: XmlElement): Set<string> {
  const out = new Set<string>();
  for (const a of root.attributes) if (a.name.startsWith('xmlns:') && a.value === QEMU_NS) out.add(a.name.slice('xmlns:'.length));
  return out;
}

function inQemuNs(el: XmlElement, prefixes: Set<string>, local: string): boolean {
  const i = el.name.indexOf(':');
  if (i === -1) return el.name === local && el.attributes.some((a) => a.name === 'xmlns' && a.value === QEMU_NS);
  const prefix = el.name.slice(0, i);
  if (el.name.slice(i + 1) !== local) return false;
  return prefixes.has(prefix) || el.attributes.some((a) => a.name === `xmlns:${prefix}` && a.value === QEMU_NS);
}

/**
 * libvirt's console back-compat (virDomainDefAddConsoleCompat, virDomainSkipBackcompatConsole; 9.0 and
 * 11.3): in an HVM domain the first `<console>` whose target type is absent or 'serial' is an alias of
 * the first `<serial>`. With a `<serial>` present the console's own source is kept only if equal to the
 * serial's and dropped otherwise; either way no driver labels it (virDomainChrDefForeach skips it) and
 * the defined XML writes it as a copy of the serial. So it is no file of its own: the serial is decided.
 * Without a `<serial>`, the console becomes serial[0] and is labelled as one: decided as written.
 */
function aliasedConsole(root: XmlElement, devices: XmlElement): XmlElement | undefined {
  const os = child(root, 'os');
  if (!os || text(child(os, 'type')) !== 'hvm') return undefined;
  const first = childrenNamed(devices, 'console')[0];
  if (!first || childrenNamed(devices, 'serial').length === 0) return undefined;
  const target = child(first, 'target');
  const type = target ? attr(target, 'type') : undefined;
  return type === undefined || type === 'serial' ? first : undefined;
}

/** The chardev kinds QEMU or libvirt open a path for; pty, tcp, udp, spicevmc, null, vc, stdio, …: no file. */
const FILE_CHARDEVS = ['file', 'pipe', 'unix', 'dev'];

function chardevFiles(root: XmlElement, devices: XmlElement, readSeclabels: SeclabelReader): OtherFile[] {
  const out: OtherFile[] = [];
  const alias = aliasedConsole(root, devices);
  for (const name of CHARDEV_ELEMENTS) {
    childrenNamed(devices, name).forEach((el, i) => {
      if (el === alias) return;
      const type = attr(el, 'type') ?? 'pty';
      const source = child(el, 'source');
      const where = `devices/${name}[${i + 1}]`;
      // pty, tcp, udp, spicevmc, null, vc, stdio, …: no file (a pty's live path is libvirt's own).
      if (!FILE_CHARDEVS.includes(type)) return;
      const path = source ? attr(source, 'path') : undefined;
      out.push({
        kind: 'chardev',
        element: el,
        where,
        path,
        access: 'readwrite',
        source,
        seclabels: source ? readSeclabels(source) : [],
        chardevType: type,
        ...(type === 'unix' && { unixMode: (source && attr(source, 'mode')) ?? 'connect' }),
      });
    });
  }
  return out;
}

/**
 * Chardevs that back another device (qemuDomainDeviceBackendChardevForeachOne, 9.0 and 11.3): a
 * passthrough `<smartcard type=…>`, a `<redirdev type=…>` and an egd `<rng><backend type=…>`. Their sources
 * are opened as a serial's are (fd passing for file and unix bind, qemuProcessPrepareHostBackendChardevOne),
 * but the security drivers treat them differently (decide/files.ts).
 */
function hostedChardevFiles(devices: XmlElement): OtherFile[] {
  const out: OtherFile[] = [];
  const push = (host: 'smartcard' | 'redirdev' | 'rng', el: XmlElement, holder: XmlElement, where: string) => {
    const type = attr(holder, 'type');
    if (type === undefined || !FILE_CHARDEVS.includes(type)) return;
    const source = child(holder, 'source');
    const dropped = source ? child(source, 'seclabel') : undefined;
    out.push({
      kind: 'chardev',
      element: el,
      where,
      path: source ? attr(source, 'path') : undefined,
      access: 'readwrite',
      source: undefined,
      seclabels: [],
      chardevType: type,
      ...(type === 'unix' && { unixMode: (source && attr(source, 'mode')) ?? 'connect' }),
      chardevHost: host,
      ...(dropped && { droppedSeclabel: dropped }),
    });
  };
  childrenNamed(devices, 'smartcard').forEach((sc, i) => {
    if (attr(sc, 'mode') === 'passthrough') push('smartcard', sc, sc, `devices/smartcard[${i + 1}]`);
  });
  childrenNamed(devices, 'redirdev').forEach((r, i) => push('redirdev', r, r, `devices/redirdev[${i + 1}]`));
  childrenNamed(devices, 'rng').forEach((r, i) => {
    const backend = child(r, 'backend');
    if (backend && attr(backend, 'model') === 'egd') push('rng', r, backend, `devices/rng[${i + 1}]`);
  });
  return out;
}

export function readOtherFiles(root: XmlElement, readSeclabels: SeclabelReader): OtherFiles {
  const files: OtherFile[] = [];
  const argProblems: (QemuArgProblem & { element: XmlElement })[] = [];
  let firmwareAuto = false;
  const os = child(root, 'os');
  if (os) {
    const loader = child(os, 'loader');
    const loaderPath = text(loader);
    if (loader && loaderPath !== undefined) {
      const type = attr(loader, 'type');
      const readonly = attr(loader, 'readonly');
      // -bios (rom) is read; pflash is opened read-write unless readonly='yes'.
      const access = type === 'pflash' && readonly !== 'yes' ? 'readwrite' : 'read';
      files.push({ kind: 'loader', element: loader, where: 'os/loader', path: loaderPath, access, source: undefined, seclabels: [], ...(type !== undefined && { loaderType: type }) });
    } else if (attr(os, 'firmware') !== undefined || loader) firmwareAuto = true;
    const nvram = child(os, 'nvram');
    if (nvram) {
      const type = attr(nvram, 'type');
      const source = child(nvram, 'source');
      if (type === undefined && !source) {
        const p = text(nvram);
        if (p !== undefined) files.push({ kind: 'nvram', element: nvram, where: 'os/nvram', path: p, access: 'readwrite', source: undefined, seclabels: [], nvramForm: 'legacy' });
      } else {
        files.push({
          kind: 'nvram',
          element: nvram,
          where: 'os/nvram',
          path: source ? (attr(source, 'file') ?? attr(source, 'dev')) : undefined,
          access: 'readwrite',
          source,
          seclabels: source ? readSeclabels(source) : [],
          nvramForm: type ?? 'file',
        });
      }
    }
    for (const k of ['kernel', 'initrd', 'dtb'] as const) {
      const el = child(os, k);
      const p = text(el);
      if (el && p !== undefined) files.push({ kind: k, element: el, where: `os/${k}`, path: p, access: 'read', source: undefined, seclabels: [] });
    }
    const acpi = child(os, 'acpi');
    if (acpi)
      childrenNamed(acpi, 'table').forEach((t, i) => {
        const p = text(t);
        if (p !== undefined) files.push({ kind: 'acpi-table', element: t, where: `os/acpi/table[${i + 1}]`, path: p, access: 'read', source: undefined, seclabels: [] });
      });
  }
  const devices = child(root, 'devices');
  if (devices) {
    files.push(...chardevFiles(root, devices, readSeclabels));
    files.push(...hostedChardevFiles(devices));
    // <tpm>: the passthrough device (libvirt opens it and passes fds) and the emulator's state (swtpm's, not QEMU's).
    childrenNamed(devices, 'tpm').forEach((t, i) => {
      const backend = child(t, 'backend');
      const type = (backend && attr(backend, 'type')) ?? 'passthrough';
      const where = `devices/tpm[${i + 1}]`;
      if (type === 'passthrough') {
        const device = backend ? child(backend, 'device') : undefined;
        // virDomainTPMDefParseXML: no <device path> means VIR_DOMAIN_TPM_DEFAULT_DEVICE.
        files.push({ kind: 'tpm', element: t, where, path: (device && attr(device, 'path')) || '/dev/tpm0', access: 'readwrite', source: undefined, seclabels: [], tpmBackend: type });
        return;
      }
      const source = backend ? child(backend, 'source') : undefined;
      const sourceType = source ? attr(source, 'type') : undefined;
      files.push({
        kind: 'tpm',
        element: t,
        where,
        path: source ? attr(source, 'path') : undefined,
        access: 'readwrite',
        source: undefined,
        seclabels: [],
        tpmBackend: type,
        ...(sourceType !== undefined && { tpmSourceType: sourceType }),
      });
    });
    // <filesystem type='mount'>: a 9p share QEMU opens itself, or a virtiofs share virtiofsd opens.
    childrenNamed(devices, 'filesystem').forEach((fs, i) => {
      if ((attr(fs, 'type') ?? 'mount') !== 'mount') return;
      const driver = child(fs, 'driver');
      const dtype = driver ? attr(driver, 'type') : undefined;
      const source = child(fs, 'source');
      files.push({
        kind: 'filesystem',
        element: fs,
        where: `devices/filesystem[${i + 1}]`,
        path: source ? attr(source, 'dir') : undefined,
        access: child(fs, 'readonly') ? 'read' : 'readwrite',
        source: undefined,
        seclabels: [],
        fsDriver: dtype === undefined || dtype === 'path' ? '9p' : dtype,
        fsAccessMode: attr(fs, 'accessmode') ?? 'passthrough',
      });
    });
    // <rng><backend model='random'>PATH</backend>: QEMU opens PATH (rng-random); no text: QEMU's default.
    childrenNamed(devices, 'rng').forEach((r, i) => {
      const backend = child(r, 'backend');
      if (!backend || attr(backend, 'model') !== 'random') return;
      const p = text(backend);
      if (p !== undefined) files.push({ kind: 'rng', element: r, where: `devices/rng[${i + 1}]`, path: p, access: 'read', source: undefined, seclabels: [] });
    });
    // <input type='evdev'><source dev=…/> and <input type='passthrough'><source evdev=…/>.
    childrenNamed(devices, 'input').forEach((inp, i) => {
      const type = attr(inp, 'type');
      const source = child(inp, 'source');
      const p = source ? (type === 'evdev' ? attr(source, 'dev') : type === 'passthrough' ? attr(source, 'evdev') : undefined) : undefined;
      if (p !== undefined && p !== '') files.push({ kind: 'input', element: inp, where: `devices/input[${i + 1}]`, path: p, access: 'readwrite', source: undefined, seclabels: [] });
    });
    // <hostdev mode='subsys'>: the node libvirt labels (VFIO group, /dev/bus/usb/…, /dev/sgN) is found on the host at start.
    childrenNamed(devices, 'hostdev').forEach((h, i) => {
      if ((attr(h, 'mode') ?? 'subsys') !== 'subsys') return;
      const type = attr(h, 'type') ?? '?';
      const source = child(h, 'source');
      const protocol = source ? attr(source, 'protocol') : undefined;
      files.push({
        kind: 'hostdev',
        element: h,
        where: `devices/hostdev[${i + 1}] ${type}`,
        path: undefined,
        access: child(h, 'readonly') ? 'read' : 'readwrite',
        source: undefined,
        seclabels: [],
        hostdevType: type,
        ...(protocol !== undefined && { hostdevProtocol: protocol }),
      });
    });
    // <shmem name=…>: ivshmem-plain maps /dev/shm/NAME (qemuBuildShmemBackendMemProps); ivshmem-doorbell
    // connects to its <server path> (default /var/lib/libvirt/shmem-NAME-sock, qemuDomainPrepareShmemChardev).
    childrenNamed(devices, 'shmem').forEach((sh, i) => {
      const shmName = attr(sh, 'name') ?? '';
      const modelEl = child(sh, 'model');
      const model = (modelEl && attr(modelEl, 'type')) ?? 'ivshmem';
      const server = child(sh, 'server');
      const where = `devices/shmem[${i + 1}] ${shmName}`;
      const path = model === 'ivshmem-doorbell' ? ((server && attr(server, 'path')) ?? `/var/lib/libvirt/shmem-${shmName}-sock`) : model === 'ivshmem-plain' && shmName !== '' && !shmName.includes('/') ? `/dev/shm/${shmName}` : undefined;
      files.push({ kind: 'shmem', element: sh, where, path, access: 'readwrite', source: undefined, seclabels: [], shmemModel: model });
    });
    // <graphics type='vnc'|'spice'> listening on a unix socket the XML names: QEMU creates it (binds).
    childrenNamed(devices, 'graphics').forEach((g, i) => {
      const type = attr(g, 'type') ?? '?';
      // autoGenerated='yes': a path libvirt made in the domain's own directory (vnc_auto_unix_socket), not the user's.
      const listens = childrenNamed(g, 'listen').filter((l) => attr(l, 'type') === 'socket' && attr(l, 'autoGenerated') !== 'yes');
      const paths = listens.map((l) => attr(l, 'socket')).filter((p): p is string => p !== undefined && p !== '');
      // The older form: <graphics type='vnc' socket=…/> (virDomainGraphicsListensParseXML turns it into a socket listen).
      const legacy = type === 'vnc' && listens.length === 0 ? attr(g, 'socket') : undefined;
      const all = legacy ? [legacy] : paths;
      all.forEach((p, j) =>
        files.push({ kind: 'graphics', element: g, where: `devices/graphics[${i + 1}] ${type}${all.length > 1 ? ` socket[${j + 1}]` : ''}`, path: p, access: 'readwrite', source: undefined, seclabels: [], graphicsType: type }),
      );
    });
    // <memory model='nvdimm'|'virtio-pmem'><source><path>.
    childrenNamed(devices, 'memory').forEach((m, i) => {
      const model = attr(m, 'model');
      if (model !== 'nvdimm' && model !== 'virtio-pmem') return;
      const source = child(m, 'source');
      const p = text(source ? child(source, 'path') : undefined);
      if (p !== undefined) files.push({ kind: 'memory', element: m, where: `devices/memory[${i + 1}] ${model}`, path: p, access: 'readwrite', source: undefined, seclabels: [] });
    });
  }
  // <sysinfo type='fwcfg'><entry name=… file=…/>: libvirt passes -fw_cfg name=…,file=… (or string= when the
  // entry also has text, which wins: qemuBuildSysinfoCommandLine) and labels the file in both drivers.
  childrenNamed(root, 'sysinfo').forEach((si, i) => {
    if (attr(si, 'type') !== 'fwcfg') return;
    childrenNamed(si, 'entry').forEach((e, j) => {
      const p = attr(e, 'file');
      if (p === undefined || p === '') return;
      const name = attr(e, 'name') ?? '';
      files.push({
        kind: 'fwcfg',
        element: e,
        where: `sysinfo[${i + 1}]/entry[${j + 1}] ${name}`,
        path: p,
        access: 'read',
        source: undefined,
        seclabels: [],
        fwcfgName: name,
        fwcfgValueWins: text(e) !== undefined,
      });
    });
  });

  const prefixes = qemuPrefixes(root);
  for (const cl of root.children.filter((c) => inQemuNs(c, prefixes, 'commandline'))) {
    const args = cl.children.filter((c) => inQemuNs(c, prefixes, 'arg'));
    const argv = args.map((a) => attr(a, 'value') ?? '');
    const { files: found, problems } = qemuFileArgs(argv);
    for (const f of found)
      files.push({
        kind: 'qemu-arg',
        element: args[f.argIndex]!,
        where: `qemu:commandline/arg[${f.argIndex + 1}] -${f.option || 'hda'}`,
        path: f.path,
        access: f.access,
        source: undefined,
        seclabels: [],
        qemuOption: f.option,
        ...(f.format !== undefined && { format: f.format }),
      });
    for (const p of problems) argProblems.push({ ...p, element: args[p.argIndex] ?? cl });
  }
  // <qemu:override>: a -device property that names a file QEMU opens (romfile, read), also unlabelled.
  for (const ov of root.children.filter((c) => inQemuNs(c, prefixes, 'override')))
    for (const dev of ov.children.filter((c) => inQemuNs(c, prefixes, 'device')))
      for (const fe of dev.children.filter((c) => inQemuNs(c, prefixes, 'frontend')))
        for (const prop of fe.children.filter((c) => inQemuNs(c, prefixes, 'property'))) {
          if (attr(prop, 'name') !== 'romfile') continue;
          const value = attr(prop, 'value');
          const where = `qemu:override/device[${attr(dev, 'alias') ?? '?'}] romfile`;
          if (value === undefined || value === '') continue;
          if (!value.startsWith('/')) {
            argProblems.push({ option: 'device', argIndex: -1, element: prop, message: `${where} names ${JSON.stringify(value)}, not an absolute local path: not decided` });
            continue;
          }
          files.push({ kind: 'qemu-arg', element: prop, where, path: value, access: 'read', source: undefined, seclabels: [], qemuOption: 'device' });
        }
  return { files, argProblems, firmwareAuto };
}
