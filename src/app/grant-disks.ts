/**
 * `grant` as composition: the decisions annotate makes, then for every disk whose DAC decision is
 * "not accessible", the ACL plan for every file of its chain (dac/grant-plan.ts). Pure given its ports,
 * the view and the ACL-support probe; nothing here changes the host.
 */
import type { DocumentOutcome } from './process-input.js';
import { dacIdentity } from './engines.js';
import type { HostContext } from './host-context.js';
import { GrantPlanner, type AclSupportProbe, type FileGrant, type InodeGrant } from '../dac/grant-plan.js';
import { accountNames, readAccounts } from '../host/accounts.js';
import type { QemuIdentity } from '../dac/identity.js';
import type { DiskDecision } from '../decide/disk.js';
import type { DiskAccess } from '../access/types.js';
import type { Domain } from '../domain/model.js';
import { ok, type HostView } from '../host/view.js';
import { otherFileChain } from '../decide/files.js';
import type { Chain } from '../decide/ports.js';

export type DiskGrantStatus = 'accessible' | 'planned' | 'refused' | 'not-applicable';

export interface DiskGrant {
  readonly file: string;
  readonly document: number | undefined;
  readonly domain: string | undefined;
  readonly target: string | undefined;
  /** A file beyond disks: its element (`os/nvram`, `qemu:commandline/arg[2] -fw_cfg`), also in target. */
  readonly element?: string;
  readonly path: string | undefined;
  readonly access: DiskAccess;
  readonly status: DiskGrantStatus;
  readonly reason: string;
  /** The qemu identity the plan is for (a domain's static DAC label may name another than the connection's). */
  readonly identity?: { readonly uid: number; readonly name?: string };
  readonly files: readonly FileGrant[];
  /** A read-only disk SELinux blocks: the persistent labelling fix a person may choose instead of libvirt's relabel. */
  readonly selinux?: { readonly reason: string; readonly directory: string; readonly type: string };
}

export interface GrantPlan {
  readonly disks: readonly DiskGrant[];
  /** Every inode edit, per identity, in the order first needed. */
  readonly changes: readonly { readonly identity: QemuIdentity; readonly changes: readonly InodeGrant[] }[];
}

export interface AppliedDisk {
  readonly disk: DiskGrant;
  /** After the changes: does annotate now prove DAC access (and add the dac relabel='no')? */
  readonly nowAccessible: boolean | null;
  readonly reason: string;
}

/** The type the SELinux hint names: virt_content_t is what libvirt itself uses for shared read-only media. */
export const READ_ONLY_MEDIA_TYPE = 'virt_content_t';

const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';

export function planGrants(docs: readonly DocumentOutcome[], ctx: HostContext, probe: AclSupportProbe): GrantPlan {
  const accounts = readAccounts(ctx.view);
  const planners = new Map<number, { identity: QemuIdentity; planner: GrantPlanner }>();
  const disks: DiskGrant[] = [];
  /**
   * The plan for one disk or file QEMU cannot open: the qemu identity, then its files (read only then),
   * each planned by that identity's planner; a refused file rolls the whole disk's changes back.
   */
  const planFor = (base: Omit<DiskGrant, 'status' | 'reason'>, domain: Domain, chainOf: () => Chain, reason: string): DiskGrant => {
    if (!accounts.ok) return { ...base, status: 'refused', reason: accounts.error };
    const id = dacIdentity(domain, ctx.conn, accounts.value);
    if (!id.ok) return { ...base, status: 'refused', reason: id.error };
    const chain = chainOf();
    if (chain.kind === 'unprovable') return { ...base, status: 'refused', reason: `its files cannot be judged: ${chain.reason}` };
    let entry = planners.get(id.value.uid);
    if (!entry) planners.set(id.value.uid, (entry = { identity: id.value, planner: new GrantPlanner(ctx.view, id.value, probe, accountNames(accounts.value)) }));
    const planner = entry.planner;
    const mark = planner.mark();
    const files = chain.files.map((f) => (f.create ? planCreate(planner, f.path) : planner.planFile(f.path, f.access)));
    const refused = files.find((f) => f.outcome === 'refused');
    if (refused) planner.rollback(mark);
    const identity = { uid: id.value.uid, ...(id.value.userName !== undefined ? { name: id.value.userName } : {}) };
    return {
      ...base,
      identity,
      files,
      status: refused ? 'refused' : files.some((f) => f.outcome === 'grant') ? 'planned' : 'accessible',
      reason: refused ? `${refused.path}: ${refused.reason}` : reason,
    };
  };
  /**
   * A file QEMU creates (a VNC socket): write and search on its directory. An existing name is left out: QEMU
   * must remove it first, which a sticky directory may forbid whatever the ACL says.
   */
  const planCreate = (planner: GrantPlanner, path: string): FileGrant => {
    const cut = path.lastIndexOf('/');
    const dir = path.slice(0, cut) || '/';
    if (ctx.view.lstat(path).kind !== 'missing') return { path, access: 'create', outcome: 'refused', reason: 'it exists and QEMU removes it before creating its own; remove it, or let QEMU own it, instead of an ACL' };
    return planner.planFile(`${dir === '/' ? '' : dir}/.`, 'create');
  };
  for (const doc of docs) {
    if (!doc.ok) continue;
    for (const d of doc.decision.disks) {
      const base = {
        file: doc.file,
        document: doc.document,
        domain: doc.decision.domain.name,
        target: d.disk.target,
        path: d.disk.path,
        access: d.access,
        files: [] as FileGrant[],
        ...selinuxHint(d, doc.decision.domain, ctx),
      };
      const dac = d.models.dac;
      if (dac.accessible === true) {
        disks.push({ ...base, status: 'accessible', reason: dac.reason });
        continue;
      }
      if (dac.action === 'n/a' || dac.action === 'existing') {
        disks.push({ ...base, status: 'not-applicable', reason: dac.reason });
        continue;
      }
      if (dac.accessible === null) {
        disks.push({ ...base, status: 'refused', reason: `the DAC engine cannot judge it: ${dac.reason}` });
        continue;
      }
      disks.push(planFor(base, doc.decision.domain, () => ctx.ports.resolveChain(d.disk), dac.reason));
    }
    // Files beyond disks QEMU must open itself and cannot: the ones libvirt never labels (firmware,
    // qemu:commandline files: the VM fails without access) and nvram/chardev sources (then annotated).
    // Files libvirt chowns with no opt-out are left out: an ACL would not stop the chown.
    for (const f of doc.decision.files ?? []) {
      const dac = f.models.dac;
      if (dac.action !== 'as-is' && dac.action !== 'keep') continue;
      const base = {
        file: doc.file,
        document: doc.document,
        domain: doc.decision.domain.name,
        target: f.file.where,
        element: f.file.where,
        path: f.file.path,
        access: f.file.access,
        files: [] as FileGrant[],
      };
      if (dac.accessible !== false || (dac.action === 'keep' && dac.byRule)) continue;
      disks.push(planFor(base, doc.decision.domain, () => otherFileChain(f.file, ctx.ports), dac.reason));
    }
  }
  return { disks, changes: [...planners.values()].map((p) => ({ identity: p.identity, changes: p.planner.changes() })) };
}

/**
 * A read-only disk SELinux blocks: the labelling a person may choose instead of libvirt's relabel,
 * named only when the SELinux engine, asked about the host as `semanage fcontext` + `restorecon` would
 * leave it (the directory and everything under it of that type), proves every file of the chain readable.
 */
function selinuxHint(d: DiskDecision, domain: Domain, ctx: HostContext): { selinux?: DiskGrant['selinux'] } {
  const s = d.models.selinux;
  if (!d.disk.readonly || !d.disk.path || s.action !== 'keep' || s.accessible !== false || !ctx.portsOn) return {};
  const chain = ctx.ports.resolveChain(d.disk);
  if (chain.kind !== 'ok') return {};
  const directory = dirOf(chain.files[0]!.path);
  const label = `system_u:object_r:${READ_ONLY_MEDIA_TYPE}:s0`;
  const under = (p: string) => p === directory || p.startsWith(directory === '/' ? '/' : `${directory}/`);
  const relabelled: HostView = { ...ctx.view, selinuxLabel: (p) => (under(p) ? ok(label) : ctx.view.selinuxLabel(p)) };
  const ports = ctx.portsOn(relabelled);
  if (!ports.ok) return {};
  const bound = ports.value.engineFor('selinux', domain);
  if (!bound.ok) return {};
  const proven = chain.files.every((f) => bound.engine.check({ ...f, access: 'read' }).accessible === true);
  return proven ? { selinux: { reason: s.reason, directory, type: READ_ONLY_MEDIA_TYPE } } : {};
}

/**
 * After the changes: each planned disk as annotate decides it now (`docs` decided again, with fresh reads
 * of the host), and whether DAC access is proven for it.
 */
export function recheckGrants(plan: GrantPlan, docs: readonly DocumentOutcome[]): AppliedDisk[] {
  const out: AppliedDisk[] = [];
  for (const disk of plan.disks) {
    if (disk.status !== 'planned') continue;
    const doc = docs.find((d) => d.ok && d.file === disk.file && d.document === disk.document);
    if (disk.element !== undefined) {
      const f = doc?.ok ? doc.decision.files?.find((x) => x.file.where === disk.element && x.file.path === disk.path) : undefined;
      const dac = f?.models.dac;
      if (!dac) out.push({ disk, nowAccessible: null, reason: 'the file could not be decided again' });
      // An as-is file is then opened by QEMU as it is; an nvram or chardev source then gets its annotation.
      else out.push({ disk, nowAccessible: dac.accessible === true && (dac.action === 'annotate' || dac.action === 'as-is'), reason: dac.reason });
      continue;
    }
    const again = doc?.ok ? doc.decision.disks.find((x) => x.disk.target === disk.target && x.disk.path === disk.path) : undefined;
    if (!again) {
      out.push({ disk, nowAccessible: null, reason: 'the disk could not be decided again' });
      continue;
    }
    const dac = again.models.dac;
    out.push({ disk, nowAccessible: dac.accessible === true && dac.action === 'annotate', reason: dac.reason });
  }
  return out;
}
