/**
 * Which security drivers libvirt runs on this connection, and with what settings
 * (libvirt-labeling.md, "Which models exist on a connection" and "qemu.conf"). A per-disk seclabel for a
 * driver that is not active makes the VM fail at start, so this is decided once, up front, and explained.
 */
import { failure, success, type Result } from '../result.js';
import { readPasswd } from '../host/accounts.js';
import type { HostView } from '../host/view.js';
import { confNumber, confString, confStringList, parseQemuConf, type QemuConf } from '../host/qemu-conf.js';
import type { Model, SecurityDriver } from './types.js';
import { probeAppArmor } from './apparmor.js';

export type ConnectMode = 'system' | 'session';

export interface ConnectionOptions {
  readonly connect: ConnectMode;
  readonly qemuConfPath: string;
  /** --models: when given, replaces detection entirely. */
  readonly models?: readonly SecurityDriver[];
  readonly user?: string;
  readonly group?: string;
  /** The invoking user's uid/gid for session mode. */
  readonly invoker?: { readonly uid: number; readonly gid: number };
}

export interface ModelState {
  readonly active: boolean;
  /** Why it is (in)active, for explanations. */
  readonly why: string;
}

export interface Connection {
  readonly mode: ConnectMode;
  readonly models: Readonly<Record<Model, ModelState>>;
  /** The AppArmor driver: reported, never annotated (it labels nothing and ignores per-disk seclabels). */
  readonly apparmor: ModelState;
  /** dynamic_ownership: false means the DAC driver never chowns. */
  readonly dynamicOwnership: boolean;
  /** security_default_confined: false means domains without a seclabel are not labelled at all. */
  readonly defaultConfined: boolean;
  /** The qemu identity as configured (names or +N); session mode: the invoker as +uid/+gid. */
  readonly user: string;
  readonly group: string;
  /** Where the user/group came from, for explanations. */
  readonly identitySource: string;
  /**
   * qemu.conf stdio_handler: 'logd' (default) has virtlogd open file chardevs, and neither driver labels
   * them unless they carry a seclabel; 'file' has libvirtd open them, and both drivers label them.
   * Undefined (hand-built connections) means libvirt's default, logd.
   */
  readonly stdioHandler?: 'logd' | 'file';
}

export const SELINUXFS = '/sys/fs/selinux';

/** is_selinux_enabled(): selinuxfs mounted with a policy loaded (enforce is readable). */
export function hostSelinuxEnabled(view: HostView): boolean {
  return view.readText(`${SELINUXFS}/enforce`).kind === 'ok';
}

/** libvirt's build-time default qemu identity: Debian builds with libvirt-qemu, Fedora/RHEL with qemu. */
function defaultIdentity(view: HostView): { user: string; group: string } | undefined {
  const passwd = readPasswd(view);
  if (!passwd.ok) return undefined;
  const has = (name: string) => passwd.value.some((p) => p.name === name);
  if (has('libvirt-qemu')) return { user: 'libvirt-qemu', group: 'libvirt-qemu' };
  if (has('qemu')) return { user: 'qemu', group: 'qemu' };
  return undefined;
}

function loadConf(view: HostView, path: string): Result<QemuConf, string> {
  const text = view.readText(path);
  if (text.kind === 'missing') return success(new Map());
  if (text.kind === 'unknown') return failure(`${path}: cannot read: ${text.why}`);
  const parsed = parseQemuConf(text.value);
  if (!parsed.ok) return failure(`${path}:${parsed.error.line}: ${parsed.error.message}`);
  return success(parsed.value);
}

/** The names libvirt 9.0's virSecurityDriverLookup accepts in qemu.conf's security_driver. */
const SECURITY_DRIVER_NAMES: readonly string[] = ['selinux', 'apparmor', 'none'];

export function detectConnection(view: HostView, opts: ConnectionOptions): Result<Connection, string> {
  const conf = loadConf(view, opts.qemuConfPath);
  if (!conf.ok) return conf;
  const c = conf.value;
  const dynOwn = confNumber(c, 'dynamic_ownership');
  if (!dynOwn.ok) return failure(`${opts.qemuConfPath}: ${dynOwn.error}`);
  const confined = confNumber(c, 'security_default_confined');
  if (!confined.ok) return failure(`${opts.qemuConfPath}: ${confined.error}`);
  const drivers = confStringList(c, 'security_driver');
  if (!drivers.ok) return failure(`${opts.qemuConfPath}: ${drivers.error}`);
  // virSecurityDriverLookup knows selinux, apparmor and none by name; the DAC driver is always stacked and
  // never named: security_driver = "dac" makes libvirtd fail to start ("Security driver dac not found").
  const unknownDriver = drivers.value?.find((d) => !SECURITY_DRIVER_NAMES.includes(d));
  if (unknownDriver !== undefined)
    return failure(`${opts.qemuConfPath}: security_driver names ${JSON.stringify(unknownDriver)}: libvirt knows only "selinux", "apparmor" and "none" (the DAC driver is always stacked, never named), and libvirtd will not start ("Security driver ${unknownDriver} not found")`);
  const confUser = confString(c, 'user');
  if (!confUser.ok) return failure(`${opts.qemuConfPath}: ${confUser.error}`);
  const confGroup = confString(c, 'group');
  if (!confGroup.ok) return failure(`${opts.qemuConfPath}: ${confGroup.error}`);
  const stdio = confString(c, 'stdio_handler');
  if (!stdio.ok) return failure(`${opts.qemuConfPath}: ${stdio.error}`);
  // virQEMUDriverConfigLoadLogEntry: anything but "logd" or "file" is refused by libvirtd.
  if (stdio.value !== undefined && stdio.value !== 'logd' && stdio.value !== 'file')
    return failure(`${opts.qemuConfPath}: stdio_handler = ${JSON.stringify(stdio.value)}: libvirt accepts only "logd" or "file"`);

  const session = opts.connect === 'session';
  // libvirt's default for dynamic_ownership is 1 for the system daemon and 0 for session.
  const dynamicOwnership = (dynOwn.value ?? (session ? 0 : 1)) !== 0;
  const defaultConfined = (confined.value ?? 1) !== 0;

  let dac: ModelState;
  let selinux: ModelState;
  let apparmor: ModelState;
  if (opts.models) {
    const given = new Set(opts.models);
    const why = `--models ${opts.models.join(',') || '(none)'}`;
    dac = { active: given.has('dac'), why };
    selinux = { active: given.has('selinux'), why };
    apparmor = { active: given.has('apparmor'), why };
  } else {
    dac = session
      ? { active: false, why: 'qemu:///session has no DAC security driver' }
      : { active: true, why: 'qemu:///system always stacks the DAC driver' };
    const wanted = drivers.value;
    const enabled = hostSelinuxEnabled(view);
    if (wanted && !wanted.includes('selinux'))
      selinux = { active: false, why: `qemu.conf security_driver = ${JSON.stringify(wanted)}` };
    else if (!enabled) selinux = { active: false, why: 'SELinux is not enabled on this host' };
    else selinux = { active: true, why: wanted ? 'qemu.conf security_driver includes selinux' : 'SELinux is enabled and security_driver is unset' };
    // Unset security_driver: libvirt takes the first driver whose probe succeeds, SELinux before AppArmor.
    if (wanted) apparmor = wanted.includes('apparmor') ? { active: true, why: 'qemu.conf security_driver includes apparmor' } : { active: false, why: `qemu.conf security_driver = ${JSON.stringify(wanted)}` };
    else if (selinux.active) apparmor = { active: false, why: 'libvirt probes SELinux first, and SELinux is enabled' };
    else {
      const probe = probeAppArmor(view);
      apparmor = { active: probe.available, why: probe.available ? `${probe.why}, and security_driver is unset` : probe.why };
    }
  }

  let user: string;
  let group: string;
  let identitySource: string;
  if (session && opts.invoker && !opts.user && !opts.group) {
    user = `+${opts.invoker.uid}`;
    group = `+${opts.invoker.gid}`;
    identitySource = 'qemu:///session runs QEMU as the invoking user';
  } else {
    const builtIn = defaultIdentity(view);
    const u = opts.user ?? confUser.value ?? builtIn?.user;
    const g = opts.group ?? confGroup.value ?? builtIn?.group;
    if (u === undefined || g === undefined)
      return failure('cannot tell the qemu user/group: not in qemu.conf and no libvirt-qemu or qemu account; use --user/--group');
    user = u;
    group = g;
    identitySource = opts.user || opts.group ? 'command line' : confUser.value || confGroup.value ? opts.qemuConfPath : "libvirt's built-in default";
  }
  return success({
    mode: opts.connect,
    models: { dac, selinux },
    apparmor,
    dynamicOwnership,
    defaultConfined,
    user,
    group,
    identitySource,
    stdioHandler: stdio.value === 'file' ? 'file' : 'logd',
  });
}
