/**
 * Builds the SELinux engine for a domain: finds the policy (--policy, else the policy the running
 * kernel loaded, else the one /etc/selinux/config names), the boolean values (the live kernel's when
 * there is one, --boolean on top), and the svirt process context libvirt would give the domain.
 * The policy is loaded once, on first use, through the host view.
 */
import type { ConnectMode, Connection } from '../decide/connection.js';
import { SELINUXFS } from '../decide/connection.js';
import { domainLabelling } from '../decide/domain-labelling.js';
import type { BoundEngine } from '../decide/ports.js';
import type { Domain } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import { failure, success, type Result } from '../result.js';
import { createSelinuxFileEngine } from '../selinux/file-engine.js';
import type { SelinuxOracle } from '../selinux/oracle.js';
import type { Policy } from '../selinux/policy/model.js';
import { isMls } from '../selinux/policy/query.js';
import { policyOracle } from '../selinux/policy-oracle.js';
import { highestPolicyFile, policyDir, selinuxTypeFromConfig } from '../selinux/policy-store.js';
import { instanceOf, parseBootId, type PolicyInstance } from '../selinux/kernel-status.js';
import { daemonFromContext, dynamicProcess, SYSTEM_DAEMON, type DaemonIdentity, type SvirtLabelSource, type SvirtProcess } from '../selinux/svirt-process.js';
import type { HostOptions } from './host-options.js';
import { parsePolicy } from './policy-cache.js';

export interface LoadedPolicy {
  readonly oracle: SelinuxOracle;
  readonly mls: boolean;
  readonly source: string;
}

/** /etc/selinux/config's SELINUXTYPE, then the highest policy.N in that store. */
/** The policy file /etc/selinux/config names: policy.N with the highest N in /etc/selinux/<type>/policy/. */
export function configuredPolicyPath(view: HostView): Result<string, string> {
  const config = view.readText('/etc/selinux/config');
  if (config.kind !== 'ok') return failure('no --policy given, no SELinux kernel, and no /etc/selinux/config');
  const type = selinuxTypeFromConfig(config.value);
  if (!type) return failure('/etc/selinux/config names no SELINUXTYPE');
  const dir = policyDir(type);
  const names = view.listDir(dir);
  if (names.kind !== 'ok') return failure(`${dir}: cannot list the policy store`);
  const file = highestPolicyFile(names.value);
  if (!file) return failure(`${dir}: no policy.N file`);
  return success(`${dir}/${file}`);
}

/** Where the kernel says which policy it holds (src/selinux/kernel-status.ts). */
export const SELINUX_STATUS_PATH = `${SELINUXFS}/status`;
export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

/** The loaded policy instance the running kernel reports; undefined without an SELinux kernel or a whole status page. */
export function liveInstance(view: HostView): PolicyInstance | undefined {
  const boot = view.readText(BOOT_ID_PATH);
  const page = () => {
    const r = view.readBinary(SELINUX_STATUS_PATH);
    return r.kind === 'ok' ? r.value : undefined;
  };
  return instanceOf(boot.kind === 'ok' ? parseBootId(boot.value) : undefined, page(), page());
}

/** Current values of the running kernel's booleans, when selinuxfs is there. */
function liveBooleans(view: HostView): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const names = view.listDir(`${SELINUXFS}/booleans`);
  if (names.kind !== 'ok') return out;
  for (const n of names.value) {
    const t = view.readText(`${SELINUXFS}/booleans/${n}`);
    // "cur pending": the first number is the value in force.
    if (t.kind === 'ok' && /^[01]\s/.test(t.value)) out[n] = t.value.startsWith('1');
  }
  return out;
}

/** The binary policy a host decides under, and the boolean values in force there. */
export interface HostPolicyModel {
  readonly policy: Policy;
  /** The live kernel's boolean values (when it is the source) with --boolean on top. */
  readonly booleans: Readonly<Record<string, boolean>>;
  readonly source: string;
}

/** Which policy file a host decides under: --policy, else the running kernel's, else the configured store's. */
export function hostPolicyPath(view: HostView, opts: Pick<HostOptions, 'policy'>): Result<{ path: string; live: boolean }, string> {
  const live = view.readText(`${SELINUXFS}/enforce`).kind === 'ok';
  if (opts.policy !== undefined) return success({ path: opts.policy, live });
  if (live) return success({ path: `${SELINUXFS}/policy`, live });
  const p = configuredPolicyPath(view);
  return p.ok ? success({ path: p.value, live }) : p;
}

/** The policy file a host decides under and its bytes (see hostPolicyPath). */
export interface HostPolicyBytes {
  readonly path: string;
  readonly live: boolean;
  readonly bytes: Uint8Array;
}

export function readHostPolicyBytes(view: HostView, opts: Pick<HostOptions, 'policy'>): Result<HostPolicyBytes, string> {
  const where = hostPolicyPath(view, opts);
  if (!where.ok) return where;
  const { path, live } = where.value;
  const bytes = view.readBinary(path);
  if (bytes.kind !== 'ok') return failure(`${path}: cannot read the SELinux policy${bytes.kind === 'unknown' ? `: ${bytes.why}` : ''}`);
  return success({ path, live, bytes: bytes.value });
}

/** --policy, else the running kernel's policy, else the store /etc/selinux/config names; loaded and checked. */
export function readHostPolicy(view: HostView, opts: Pick<HostOptions, 'policy' | 'booleans'>): Result<HostPolicyModel, string> {
  const read = readHostPolicyBytes(view, opts);
  if (!read.ok) return read;
  const { path, live } = read.value;
  const policy = parsePolicy(read.value.bytes);
  if (!policy.ok) return failure(`${path}: not a usable kernel policy: ${policy.error.message} (${policy.error.section} at byte ${policy.error.offset})`);
  const booleans = { ...(live && opts.policy === undefined ? liveBooleans(view) : {}), ...opts.booleans };
  return success({ policy: policy.value, booleans, source: path });
}

/**
 * The running kernel's value of each named boolean that selinuxfs shows (only those names: the hook's
 * projection reads the few its rules depend on, not all of them), with --boolean on top.
 */
export function namedLiveBooleans(view: HostView, opts: Pick<HostOptions, 'policy' | 'booleans'>, live: boolean, names: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (live && opts.policy === undefined) {
    for (const n of names) {
      if (n.includes('/')) continue;
      const t = view.readText(`${SELINUXFS}/booleans/${n}`);
      if (t.kind === 'ok' && /^[01]\s/.test(t.value)) out[n] = t.value.startsWith('1');
    }
  }
  return { ...out, ...opts.booleans };
}

export function loadHostPolicy(view: HostView, opts: Pick<HostOptions, 'policy' | 'booleans'>): Result<LoadedPolicy, string> {
  const model = readHostPolicy(view, opts);
  if (!model.ok) return model;
  const { policy, booleans, source } = model.value;
  return success({ oracle: policyOracle(policy, booleans), mls: isMls(policy), source });
}

/** The contexts/virtual_domain_context lines of the policy store /etc/selinux/config names, if any. */
export function domainContexts(view: HostView): { primary: string; tcg?: string } | undefined {
  const config = view.readText('/etc/selinux/config');
  const type = config.kind === 'ok' ? selinuxTypeFromConfig(config.value) : undefined;
  if (!type) return undefined;
  const text = view.readText(`/etc/selinux/${type}/contexts/virtual_domain_context`);
  if (text.kind !== 'ok') return undefined;
  const [primary, tcg] = text.value.split('\n').map((l) => l.trim());
  if (!primary) return undefined;
  return { primary, ...(tcg ? { tcg } : {}) };
}

/**
 * The daemon whose user, role and category range libvirt copies into dynamic labels: the system
 * libvirtd runs as system_u:system_r:virtd_t; the session daemon runs in the user's own context, which
 * is this process's when the same user runs virt-seclabel. Unknown means no SELinux proof at all, since
 * user-based constraints (UBAC) depend on it.
 */
function daemonIdentity(view: HostView, mode: ConnectMode): Result<DaemonIdentity, string> {
  if (mode === 'system') return success(SYSTEM_DAEMON);
  const own = view.readText('/proc/self/attr/current');
  if (own.kind !== 'ok') return failure('qemu:///session: cannot read this process\'s SELinux context, which the session daemon shares');
  const d = daemonFromContext(own.value);
  return d.ok ? d : failure(`qemu:///session: this process's context ${JSON.stringify(own.value.trim())} is not an SELinux context: ${d.error}`);
}


/** The svirt context of a domain, from its SELinux seclabel (static label, baselabel) or the defaults. */
export function svirtProcessFor(
  domain: Domain,
  conn: Connection,
  p: LoadedPolicy,
  view: HostView,
  source: SvirtLabelSource = 'any-dynamic',
  host: SvirtHostFacts = svirtHostFacts(view, conn.mode),
): Result<SvirtProcess, string> {
  const labelling = domainLabelling(domain, 'selinux', conn);
  const s = labelling.on ? labelling.seclabel : undefined;
  if (source === 'generated' && s?.type === 'dynamic') {
    if (!s.label) return failure('start begin: the dynamic SELinux seclabel carries no generated <label>');
    return success({ kind: 'static', context: s.label });
  }
  if (s?.type === 'static') {
    if (!s.label) return failure("a static SELinux seclabel without <label>");
    return success({ kind: 'static', context: s.label });
  }
  return hostDynamicProcess(view, conn.mode, { baselabel: s?.baselabel, domainType: domain.type, tcgTypeExists: p.oracle.typeExists('svirt_tcg_t'), mls: p.mls }, host);
}

/**
 * The host's part of every dynamic label (the daemon's identity, virtual_domain_context), each read on
 * first use and then kept: one reading per run, not one per domain.
 */
export interface SvirtHostFacts {
  daemon(): Result<DaemonIdentity, string>;
  domainContexts(): { primary: string; tcg?: string } | undefined;
}

export function svirtHostFacts(view: HostView, mode: ConnectMode): SvirtHostFacts {
  let daemon: Result<DaemonIdentity, string> | undefined;
  let contexts: { value: ReturnType<typeof domainContexts> } | undefined;
  return {
    daemon: () => (daemon ??= daemonIdentity(view, mode)),
    domainContexts: () => (contexts ??= { value: domainContexts(view) }).value,
  };
}

/**
 * The dynamic label libvirt gives a domain on this host and connection: the policy store's
 * virtual_domain_context (or libvirt's defaults), the daemon's user, role and category range.
 */
export function hostDynamicProcess(
  view: HostView,
  mode: ConnectMode,
  domain: { baselabel: string | undefined; domainType: string | undefined; tcgTypeExists: boolean; mls: boolean },
  host: SvirtHostFacts = svirtHostFacts(view, mode),
): Result<SvirtProcess, string> {
  const daemon = host.daemon();
  if (!daemon.ok) return daemon;
  return dynamicProcess({ ...domain, domainContexts: host.domainContexts(), daemon: daemon.value });
}

/** How the policy is obtained: from the host (loadHostPolicy), or recorded/replayed by a facts snapshot. */
export type PolicyLoader = (view: HostView, opts: HostOptions) => Result<LoadedPolicy, string>;

export function lazySelinux(
  view: HostView,
  conn: Connection,
  opts: HostOptions,
  load: PolicyLoader = loadHostPolicy,
  source: SvirtLabelSource = 'any-dynamic',
): (domain: Domain) => BoundEngine {
  let loaded: Result<LoadedPolicy, string> | undefined;
  const host = svirtHostFacts(view, conn.mode);
  // Domains with the same svirt process (most: the default dynamic label) share one engine, and so its
  // answers per file label: a run over many domains asks the policy once per label, not once per domain.
  const engines = new Map<string, BoundEngine>();
  return (domain) => {
    loaded ??= load(view, opts);
    if (!loaded.ok) return { ok: false, reason: loaded.error };
    const proc = svirtProcessFor(domain, conn, loaded.value, view, source, host);
    if (!proc.ok) return { ok: false, reason: proc.error };
    const key = JSON.stringify(proc.value);
    let engine = engines.get(key);
    if (!engine) engines.set(key, (engine = { ok: true, engine: createSelinuxFileEngine(view, loaded.value.oracle, proc.value, opts.booleans) }));
    return engine;
  };
}
