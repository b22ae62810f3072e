/**
 * Builds the SELinux engine for a domain: finds the policy (--policy, else the policy the running
 * kernel loaded, else the one /etc/selinux/config names), the boolean values (the live kernel's when
 * there is one, --boolean on top), and the svirt process context libvirt would give the domain.
 * The policy is loaded once, on first use, through the host view.
 */
import type { Connection } from '../decide/connection.js';
import { SELINUXFS } from '../decide/connection.js';
import { domainLabelling } from '../decide/domain-labelling.js';
import type { BoundEngine } from '../decide/ports.js';
import type { Domain } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import { failure, success, type Result } from '../result.js';
import { createSelinuxFileEngine } from '../selinux/file-engine.js';
import type { SelinuxOracle } from '../selinux/oracle.js';
import { loadPolicy } from '../selinux/policy/load.js';
import { isMls } from '../selinux/policy/query.js';
import { policyOracle } from '../selinux/policy-oracle.js';
import { dynamicProcess, type SvirtProcess } from '../selinux/svirt-process.js';
import type { HostOptions } from './host-options.js';

export interface LoadedPolicy {
  readonly oracle: SelinuxOracle;
  readonly mls: boolean;
  readonly source: string;
}

/** /etc/selinux/config's SELINUXTYPE, then the highest policy.N in that store. */
function configuredPolicyPath(view: HostView): Result<string, string> {
  const config = view.readText('/etc/selinux/config');
  if (config.kind !== 'ok') return failure('no --policy given, no SELinux kernel, and no /etc/selinux/config');
  const m = /^\s*SELINUXTYPE\s*=\s*"?([A-Za-z0-9_.-]+)"?\s*$/m.exec(config.value);
  if (!m) return failure('/etc/selinux/config names no SELINUXTYPE');
  const dir = `/etc/selinux/${m[1]}/policy`;
  const names = view.listDir(dir);
  if (names.kind !== 'ok') return failure(`${dir}: cannot list the policy store`);
  const versions = names.value.map((n) => /^policy\.(\d+)$/.exec(n)).filter((x) => x !== null).map((x) => Number(x[1]));
  if (versions.length === 0) return failure(`${dir}: no policy.N file`);
  return success(`${dir}/policy.${Math.max(...versions)}`);
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

export function loadHostPolicy(view: HostView, opts: HostOptions): Result<LoadedPolicy, string> {
  const live = view.readText(`${SELINUXFS}/enforce`).kind === 'ok';
  let path: string;
  if (opts.policy !== undefined) path = opts.policy;
  else if (live) path = `${SELINUXFS}/policy`;
  else {
    const p = configuredPolicyPath(view);
    if (!p.ok) return p;
    path = p.value;
  }
  const bytes = view.readBinary(path);
  if (bytes.kind !== 'ok') return failure(`${path}: cannot read the SELinux policy${bytes.kind === 'unknown' ? `: ${bytes.why}` : ''}`);
  const policy = loadPolicy(bytes.value);
  if (!policy.ok) return failure(`${path}: not a usable kernel policy: ${policy.error.message} (${policy.error.section} at byte ${policy.error.offset})`);
  const base = { ...(live && opts.policy === undefined ? liveBooleans(view) : {}), ...opts.booleans };
  return success({ oracle: policyOracle(policy.value, base), mls: isMls(policy.value), source: path });
}

/** The svirt context of a domain, from its SELinux seclabel (static label, baselabel) or the defaults. */
export function svirtProcessFor(domain: Domain, conn: Connection, p: LoadedPolicy): Result<SvirtProcess, string> {
  const labelling = domainLabelling(domain, 'selinux', conn);
  const s = labelling.on ? labelling.seclabel : undefined;
  if (s?.type === 'static') {
    if (!s.label) return failure("a static SELinux seclabel without <label>");
    return success({ kind: 'static', context: s.label });
  }
  return dynamicProcess({ baselabel: s?.baselabel, domainType: domain.type, tcgTypeExists: p.oracle.typeExists('svirt_tcg_t'), mls: p.mls });
}

/** How the policy is obtained: from the host (loadHostPolicy), or recorded/replayed by a facts snapshot. */
export type PolicyLoader = (view: HostView, opts: HostOptions) => Result<LoadedPolicy, string>;

export function lazySelinux(view: HostView, conn: Connection, opts: HostOptions, load: PolicyLoader = loadHostPolicy): (domain: Domain) => BoundEngine {
  let loaded: Result<LoadedPolicy, string> | undefined;
  return (domain) => {
    loaded ??= load(view, opts);
    if (!loaded.ok) return { ok: false, reason: loaded.error };
    const proc = svirtProcessFor(domain, conn, loaded.value);
    if (!proc.ok) return { ok: false, reason: proc.error };
    return { ok: true, engine: createSelinuxFileEngine(view, loaded.value.oracle, proc.value, opts.booleans) };
  };
}
