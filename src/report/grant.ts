/**
 * Renderings of a grant plan: a shell script a person can review (comments say why, each command is
 * one inode's `setfacl`), the JSON document (schemas/grant.schema.json), and the report after --apply.
 */
import { entryText, permString } from '../dac/acl.js';
import type { ChangeOutcome } from '../dac/grant-apply.js';
import { specFor } from '../dac/grant-apply.js';
import type { InodeGrant } from '../dac/grant-plan.js';
import type { AppliedDisk, DiskGrant, GrantPlan } from '../app/grant-disks.js';
import { shellQuote } from '../shell-quote.js';

export const GRANT_JSON_VERSION = 1;

function diskName(d: DiskGrant): string {
  const where = d.document !== undefined ? `${d.file} document ${d.document}` : d.file;
  const what = d.element !== undefined ? d.element : `disk ${d.target ?? '?'}`;
  return `${where}: ${d.domain ? `domain ${d.domain}, ` : ''}${what}${d.path ? ` ${d.path}` : ''} (${d.access === 'read' ? 'read-only' : 'read-write'})`;
}

const who = (g: { identity: { uid: number; userName?: string } }) => g.identity.userName ?? String(g.identity.uid);

export function commandFor(g: InodeGrant, user: string): string {
  return `setfacl -n -m ${specFor(g, user)} ${shellQuote(g.path)}`;
}

function widenNote(g: InodeGrant): string[] {
  return g.widens.map(
    (w) => `#   note: the wider mask on ${g.path} also widens ${entryText({ ...w.entry })} from ${permString(w.from)} to ${permString(w.to)} in effect`,
  );
}

function selinuxLines(d: DiskGrant): string[] {
  if (!d.selinux) return [];
  const s = d.selinux;
  return [
    `#   SELinux also denies it (${s.reason}); grant never changes labels. A persistent fix a person may choose:`,
    `#     semanage fcontext -a -t ${s.type} ${shellQuote(`${s.directory === '/' ? '' : s.directory}(/.*)?`)}`,
    `#     restorecon -Rv ${shellQuote(s.directory)}`,
    `#   or leave libvirt's relabel in place (no seclabel): libvirt labels the file when the VM starts.`,
  ];
}

/** The plan as a reviewable shell script. */
export function renderPlanText(plan: GrantPlan): string {
  const lines: string[] = ['# virt-seclabel grant: the ACL changes that let QEMU open these disks (review, then run with --apply)'];
  const printed = new Set<string>();
  const byPath = new Map<string, { g: InodeGrant; user: string }>();
  for (const set of plan.changes) for (const g of set.changes) byPath.set(`${set.identity.uid}\0${g.path}`, { g, user: who(set) });
  for (const d of plan.disks) {
    lines.push(`# ${diskName(d)}: ${d.status}`);
    if (d.status !== 'planned') {
      lines.push(`#   ${d.reason}`);
      lines.push(...selinuxLines(d));
      continue;
    }
    lines.push(`#   ${d.reason}`);
    for (const f of d.files) {
      if (f.outcome !== 'grant') continue;
      for (const p of f.changes) {
        const key = `${d.identity!.uid}\0${p}`;
        const c = byPath.get(key);
        if (!c) continue;
        if (printed.has(key)) {
          lines.push(`#   (${p}: changed above)`);
          continue;
        }
        printed.add(key);
        lines.push(commandFor(c.g, c.user), ...widenNote(c.g));
      }
    }
    lines.push(...selinuxLines(d));
  }
  return lines.join('\n') + '\n';
}

function changeJson(g: InodeGrant, uid: number, user: string) {
  return {
    path: g.path,
    uid,
    need: permString(g.need),
    inode: { type: g.inode.type, mode: g.inode.mode.toString(8).padStart(4, '0'), uid: g.inode.uid, gid: g.inode.gid },
    before: g.before ? g.before.map(entryText) : null,
    after: g.after.map(entryText),
    entry: g.entry ? { from: g.entry.from === null ? null : permString(g.entry.from), to: permString(g.entry.to) } : null,
    mask: g.mask ? { from: g.mask.from === null ? null : permString(g.mask.from), to: permString(g.mask.to) } : null,
    widens: g.widens.map((w) => ({ entry: entryText(w.entry), from: permString(w.from), to: permString(w.to) })),
    command: commandFor(g, user),
  };
}

function diskJson(d: DiskGrant) {
  return {
    file: d.file,
    ...(d.document !== undefined ? { document: d.document } : {}),
    domain: d.domain ?? null,
    target: d.target ?? null,
    path: d.path ?? null,
    access: d.access,
    status: d.status,
    reason: d.reason,
    identity: d.identity ?? null,
    files: d.files.map((f) => ({ path: f.path, access: f.access, outcome: f.outcome, reason: f.reason, ...(f.outcome === 'grant' ? { changes: f.changes } : {}) })),
    selinux: d.selinux ?? null,
  };
}

export function planJson(plan: GrantPlan, applied?: { outcomes: readonly ChangeOutcome[]; disks: readonly AppliedDisk[] }) {
  return {
    formatVersion: GRANT_JSON_VERSION,
    disks: plan.disks.map(diskJson),
    changes: plan.changes.flatMap((set) => set.changes.map((g) => changeJson(g, set.identity.uid, who(set)))),
    ...(applied
      ? {
          applied: applied.outcomes,
          recheck: applied.disks.map((a) => ({ file: a.disk.file, target: a.disk.target ?? null, path: a.disk.path ?? null, accessible: a.nowAccessible, reason: a.reason })),
        }
      : {}),
  };
}

/** What --apply did: every change with its outcome, then every disk re-checked. */
export function renderApplied(outcomes: readonly ChangeOutcome[], disks: readonly AppliedDisk[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.status === 'applied') lines.push(`changed ${o.path}: setfacl -n -m ${o.spec}`);
    else if (o.status === 'refused') lines.push(`refused ${o.path}: ${o.why} (nothing changed on it)`);
    else if (o.status === 'failed') lines.push(`FAILED ${o.path}: ${o.why}${o.changed ? ' (its ACL did change: check it with getfacl)' : ' (its ACL is unchanged)'}`);
    else lines.push(`not attempted ${o.path} (stopped at the failure above)`);
  }
  for (const a of disks)
    lines.push(`${diskName(a.disk)}: ${a.nowAccessible === true ? `QEMU can open it now; annotate adds <seclabel model='dac' relabel='no'/> (${a.reason})` : `still not proven: ${a.reason}`}`);
  return lines.join('\n') + '\n';
}
