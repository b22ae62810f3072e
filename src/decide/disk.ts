/**
 * The rules of libvirt-labeling.md applied to one disk: which models libvirt would label it with, and
 * whether each relabel is provably useless. The only way to an 'annotate' is a proof over every file of
 * the chain; everything unknown ends in 'keep'.
 */
import { LABELLABLE_DISK_TYPES, type Disk, type Domain } from '../domain/model.js';
import type { Connection } from './connection.js';
import { domainLabelling } from './domain-labelling.js';
import { appArmorFinding, decideAppArmorDisk, type AppArmorDecision } from './apparmor.js';
import type { Chain, DecisionPorts } from './ports.js';
import type { ChainFile, FileVerdict } from '../access/engine.js';
import type { DiskAccess, Finding } from '../access/types.js';
import { isStale, MODELS, type Model, type ModelDecision, type Proof } from './types.js';

export interface DiskDecision {
  readonly disk: Disk;
  readonly access: DiskAccess;
  readonly models: Readonly<Record<Model, ModelDecision>>;
  /** The apparmor row, only where libvirt's AppArmor driver is active (it never annotates). */
  readonly apparmor?: AppArmorDecision;
  readonly findings: readonly Finding[];
}

/** Whether any disk carries a stale relabel='no' for any model. */
export const anyStale = (disks: readonly DiskDecision[]): boolean => disks.some((d) => Object.values(d.models).some(isStale));

const na = (reason: string): ModelDecision => ({ action: 'n/a', accessible: null, reason });
const keep = (accessible: false | null, reason: string, byRule = false): ModelDecision => ({ action: 'keep', accessible, reason, ...(byRule && { byRule }) });

export function diskAccess(disk: Disk): DiskAccess {
  return disk.readonly ? 'read' : 'readwrite';
}

/** Why libvirt applies no per-disk seclabel to this disk at all, whatever the model. */
function notLabellable(disk: Disk): string | undefined {
  if (disk.type === undefined) return `disk type '${disk.rawType}' is not one libvirt knows`;
  if (!LABELLABLE_DISK_TYPES.has(disk.type))
    return `libvirt takes no per-disk seclabel on ${disk.type} disks`;
  if (!disk.source) return `${disk.device} without media: nothing to label`;
  return undefined;
}

export interface ChainCheck {
  readonly verdict: FileVerdict;
  readonly proof?: Proof;
  readonly findings: readonly Finding[];
}

const ROLE_WORDS = { backing: 'backing file', 'data-file': 'data file', extent: 'extent' } as const;

/**
 * Names the layer a sentence is about: nothing for the top image, else the role, and the path unless
 * the engine's sentence already starts with it.
 */
function aboutLayer(file: ChainFile, text: string): string {
  if (file.role === 'top') return text;
  return text.startsWith(file.path) ? `${ROLE_WORDS[file.role]} ${text}` : `${ROLE_WORDS[file.role]} ${file.path}: ${text}`;
}

/** Checks every file of the chain; the first one not proven decides. */
export function checkChain(model: Model, chain: Chain, ports: DecisionPorts, domain: Domain): ChainCheck {
  if (chain.kind === 'unprovable') return { verdict: { accessible: null, reason: chain.reason }, findings: [] };
  const bound = ports.engineFor(model, domain);
  if (!bound.ok) return { verdict: { accessible: null, reason: bound.reason }, findings: [] };
  const findings: Finding[] = [];
  const reasons: string[] = [];
  for (const file of chain.files) {
    const v = bound.engine.check(file);
    findings.push(...(v.findings ?? []));
    if (v.accessible !== true) {
      const reason = aboutLayer(file, v.reason);
      return { verdict: v.accessible === false ? { accessible: false, reason } : { accessible: null, reason }, findings };
    }
    reasons.push(aboutLayer(file, v.because));
  }
  const because = reasons.join('; ');
  return {
    verdict: { accessible: true, because },
    proof: { model, files: chain.files.map((f) => ({ path: f.path, access: f.access })), because },
    findings,
  };
}

/**
 * SELinux on an exclusive writable file: never annotated (svirt's categories are its isolation), so
 * libvirt's relabel stays. On a mount whose label is fixed (engine.fixedLabel: NFS without
 * security_label, CIFS, FUSE...) that relabel cannot happen: the kernel refuses setfilecon with
 * EOPNOTSUPP, virSecuritySELinuxSetFileconImpl ignores it, and QEMU opens the file with the mount's
 * label. Then the reason says so, and what the policy answers for that label (its conditional rules
 * name the boolean that decides, e.g. virt_use_nfs); a refusal there fails the start whatever libvirt does.
 */
export function exclusiveWritable(what: string, chain: Chain, ports: DecisionPorts, domain: Domain, findings: Finding[]): ModelDecision {
  const rule = keep(null, `${what}: its per-VM svirt categories are the isolation, libvirt must relabel it`, true);
  if (chain.kind !== 'ok') return rule;
  const top = chain.files[0];
  const bound = ports.engineFor('selinux', domain);
  if (!top || !bound.ok || !bound.engine.fixedLabel) return rule;
  const fixed = bound.engine.fixedLabel(top.path);
  if (!fixed) return rule;
  const stays = `its label stays ${fixed.label ?? "the mount's"}`;
  const head = `${what}: libvirt keeps its relabel (svirt's isolation, never annotated), but ${top.path} is on ${fixed.fsType} (${fixed.mountPoint}) without security labels, where the kernel refuses setfilecon (EOPNOTSUPP) and libvirt ignores that: ${stays}, relabel or not`;
  const v = bound.engine.check(top);
  findings.push(...(v.findings ?? []));
  if (v.accessible === true) return keep(null, `${head}; QEMU opens it as it is: ${v.because}`, true);
  if (v.accessible === false) return keep(false, `${head}; QEMU cannot open it as it is, the VM fails to start: ${v.reason}`, true);
  return keep(null, `${head}; cannot tell whether QEMU can open it as it is: ${v.reason}`, true);
}

function decideModel(
  model: Model,
  disk: Disk,
  domain: Domain,
  conn: Connection,
  ports: DecisionPorts,
  chain: () => Chain,
  findings: Finding[],
): ModelDecision {
  const state = conn.models[model];
  if (!state.active) return na(`${model} is not active: ${state.why}`);
  const skip = notLabellable(disk);
  if (skip) return na(skip);
  const labelling = domainLabelling(domain, model, conn);
  if (!labelling.on) return na(labelling.why);
  if (model === 'dac' && !conn.dynamicOwnership) return na('dynamic_ownership = 0: libvirt never chowns disk files');

  const existing = disk.seclabels.find((s) => s.model === model);
  if (existing) {
    if (existing.relabel) return { action: 'existing', accessible: null, reason: `the disk already has a ${model} seclabel with relabel='yes'`, stale: false };
    const check = checkChain(model, chain(), ports, domain);
    findings.push(...check.findings);
    const v = check.verdict;
    if (v.accessible === false)
      return { action: 'existing', accessible: false, reason: `stale relabel='no': ${v.reason}; the VM will fail to start`, stale: true, denied: v.reason };
    return {
      action: 'existing',
      accessible: v.accessible,
      reason: v.accessible ? `relabel='no' already present and still valid: ${v.because}` : `relabel='no' already present; cannot re-check: ${v.reason}`,
      stale: false,
    };
  }
  if (disk.type === 'volume') return keep(null, 'volume disks are resolved through a storage pool: not evaluated');
  if (model === 'selinux' && !disk.readonly && !disk.shareable)
    return exclusiveWritable('exclusive writable disk', chain(), ports, domain, findings);

  const check = checkChain(model, chain(), ports, domain);
  findings.push(...check.findings);
  const v = check.verdict;
  if (v.accessible === true)
    return check.proof ? { action: 'annotate', accessible: true, reason: v.because, proof: check.proof } : keep(null, 'no proof recorded');
  return keep(v.accessible, v.reason);
}

export function decideDisk(disk: Disk, domain: Domain, conn: Connection, ports: DecisionPorts): DiskDecision {
  const findings: Finding[] = [];
  let cached: Chain | undefined;
  const chain = () => (cached ??= ports.resolveChain(disk));
  for (const s of disk.seclabels)
    if (s.model === undefined)
      findings.push({
        code: 'seclabel-without-model',
        severity: 'warning',
        message: "a per-disk <seclabel> without model= matches no security driver: libvirt fails at start with \"Security driver model '(null)' is not available\"",
      });
  for (const s of disk.seclabels)
    if (s.model !== undefined && (s.model === 'dac' || s.model === 'selinux') && !conn.models[s.model].active)
      findings.push({
        code: 'seclabel-model-inactive',
        severity: 'warning',
        message: `a per-disk seclabel for model '${s.model}', which is not active on this connection: the VM fails at start`,
      });
  const models = Object.fromEntries(
    MODELS.map((m) => [m, decideModel(m, disk, domain, conn, ports, chain, findings)]),
  ) as Record<Model, ModelDecision>;
  const apparmor = decideAppArmorDisk(disk, domain, conn, ports, chain);
  if (apparmor) findings.push(...appArmorFinding(apparmor, models.dac.accessible));
  return { disk, access: diskAccess(disk), models, ...(apparmor && { apparmor }), findings: dedupe(findings) };
}

export function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}\u0000${f.path ?? ''}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
