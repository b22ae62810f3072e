/**
 * The doctor's reads, wired: which files (named on the command line, named by libvirt's definitions
 * through the LibvirtClient, or found under --path), which running domains use them (libvirt's status
 * files, never the daemon), the host (boot stamp, qemu identity, whether the daemon may write trusted.*),
 * and the findings of doctor/verdict.ts on each file.
 */
import { dirname, join } from 'node:path';
import { computeBootStamp } from '../doctor/boot-stamp.js';
import type { DoctorReader, StatFollowed } from '../doctor/ports.js';
import { diskFileUses, domainFileUses, holderOf, parseDomainStatus, type DomainStatus, type FileRole, type Holder } from '../doctor/status.js';
import { diagnoseFile, type DoctorHost, type DoctorOptions, type FileFacts, type Finding, type Neighbours } from '../doctor/verdict.js';
import { detectConnection, type Connection } from '../decide/connection.js';
import { resolveIdentity } from '../dac/identity.js';
import { resolveOwnership } from '../dac/ownership.js';
import { readAccounts } from '../host/accounts.js';
import { confNumber, parseQemuConf } from '../host/qemu-conf.js';
import type { HostView } from '../host/view.js';
import { readDomainXml } from '../domain/read.js';
import { resolveChain } from '../images/chain.js';
import type { LibvirtClient } from '../libvirt/client.js';
import type { HostOptions } from './host-options.js';
import { processInvoker } from './host-context.js';

export { DEFAULT_STATE_DIR } from '../doctor/status.js';
/** --path never walks more than this many files: a mistaken `--path /` ends with an error, not a day of stats. */
export const MAX_PATH_FILES = 200_000;

export type Target = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'domain'; readonly name: string } | { readonly kind: 'all-domains' } | { readonly kind: 'path'; readonly path: string };

export interface StatusSeen {
  readonly file: string;
  readonly domain?: string;
  readonly pid?: number;
  readonly alive?: boolean;
  readonly rememberOwner?: boolean;
  readonly problem?: string;
}

export interface DoctorScan {
  readonly host: DoctorHost;
  readonly bootStamp: string | undefined;
  readonly stateDir: string;
  readonly statuses: readonly StatusSeen[];
  readonly files: number;
  readonly findings: readonly Finding[];
  /** Inputs that could not be read (a domain libvirt does not know, a file that does not exist, …). */
  readonly problems: readonly string[];
  /** Things a person should know that are not findings (a named file missing, a chain not followed). */
  readonly notes: readonly string[];
}

interface Named {
  path: string;
  roles: Set<FileRole | 'path'>;
  dacLabels?: string[];
  /** The elements naming a file beyond the disks (`os/nvram`). */
  elements?: string[];
  /** Per model: the definition has libvirt label it (undefined: named on the command line or by --path). */
  labelled?: { dac: boolean; selinux: boolean };
}

/** What decides which chardev files libvirt labels (stdio_handler); libvirt's default when qemu.conf is unread. */
type Stdio = Pick<Connection, 'stdioHandler'>;

/** The files of the domains libvirt defines: the named ones, or with undefined every one, read in batches. */
function definedDomainsFiles(names: readonly string[] | undefined, client: LibvirtClient, view: HostView, stdio: Stdio, named: Named[], problems: string[], notes: string[]): void {
  const reads = client.readDefinitions(names);
  if (!reads.ok) return void problems.push(reads.error);
  for (const r of reads.value) {
    if (r.kind === 'failed') problems.push(`domain ${r.name}: ${r.why}`);
    // A transient domain has no definition for a next start; while it runs, its status file names its files.
    else if (r.kind === 'transient') notes.push(`domain ${r.name}: transient (no persistent definition to read); name its files to check them`);
    else domainFiles(r.name, r.xml, view, stdio, named, problems, notes);
  }
}

function domainFiles(name: string, xml: Uint8Array, view: HostView, stdio: Stdio, named: Named[], problems: string[], notes: string[]): void {
  const read = readDomainXml(xml);
  if (!read.ok) return void problems.push(`domain ${name}: line ${read.error.line} column ${read.error.column}: ${read.error.message}`);
  const chain = (disk: Parameters<NonNullable<Parameters<typeof diskFileUses>[1]>>[0]) => {
    if (!disk.path) return undefined;
    const r = resolveChain(view, { path: disk.path, format: disk.format, ...(disk.backing ? { declared: disk.backing } : {}) });
    if (r.kind === 'unprovable') {
      notes.push(`domain ${name} disk ${disk.target ?? '?'}: backing chain not followed past ${r.path}: ${r.reason}`);
      return undefined;
    }
    return r.files.filter((f) => f.layer > 0 && f.role === 'image').map((f) => f.path);
  };
  // A static DAC label is an owner libvirt sets on the domain's files besides the qemu user (a per-disk
  // <label> overrides the domain's for that disk's files).
  const domainLabel = read.value.domain.seclabels.find((x) => x.model === 'dac' && x.type === 'static')?.label;
  const diskLabel = new Map(read.value.domain.disks.map((d) => [d.target ?? `#${d.index + 1}`, d.seclabels.find((x) => x.model === 'dac' && x.relabel)?.label]));
  for (const use of domainFileUses(read.value.domain, stdio, chain)) {
    const disk = use.role !== 'remembered-file' && use.role !== 'unremembered-file';
    const label = (disk ? diskLabel.get(use.disk) : undefined) ?? domainLabel;
    named.push({ path: use.path, roles: new Set([use.role]), labelled: { ...use.labelled }, ...(label ? { dacLabels: [label] } : {}), ...(!disk ? { elements: [use.disk] } : {}) });
  }
}

function walkPath(root: string, reader: DoctorReader, named: Named[], problems: string[]): void {
  const st = reader.stat(root);
  if (st.kind !== 'ok') return void problems.push(`--path ${root}: ${st.kind === 'missing' ? 'does not exist' : st.why}`);
  if (st.value.type !== 'dir') return void named.push({ path: root, roles: new Set(['path']) });
  const stack = [root];
  let count = 0;
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const names = reader.listDir(dir);
    if (names.kind !== 'ok') {
      problems.push(`--path ${dir}: ${names.kind === 'missing' ? 'does not exist' : names.why}`);
      continue;
    }
    for (const n of [...names.value].sort()) {
      const p = join(dir, n);
      const real = reader.realPath(p);
      // A link is followed to a file (libvirt would), never into a directory (the walk stays under --path).
      if (real.kind !== 'ok') continue;
      const s = reader.stat(real.value);
      if (s.kind !== 'ok') continue;
      if (s.value.type === 'dir') {
        if (real.value === p) stack.push(p);
        continue;
      }
      if (s.value.type !== 'file' && s.value.type !== 'block') continue;
      if (++count > MAX_PATH_FILES) return void problems.push(`--path ${root}: more than ${MAX_PATH_FILES} files; name a smaller tree`);
      named.push({ path: p, roles: new Set(['path']) });
    }
  }
}

function neighbours(realPath: string, reader: DoctorReader): Neighbours {
  const dir = dirname(realPath);
  const d = reader.stat(dir);
  const label = (p: string) => {
    const l = reader.selinuxLabel(p);
    return l.kind === 'ok' ? l.value : undefined;
  };
  const siblings: { uid: number; gid: number; label: string | null | undefined }[] = [];
  const names = reader.listDir(dir);
  if (names.kind === 'ok')
    for (const n of [...names.value].sort().slice(0, 64)) {
      const p = join(dir, n);
      if (p === realPath) continue;
      const s = reader.stat(p);
      if (s.kind === 'ok' && s.value.type === 'file') siblings.push({ uid: s.value.uid, gid: s.value.gid, label: label(p) });
      if (siblings.length >= 8) break;
    }
  return { dir: d.kind === 'ok' ? { uid: d.value.uid, gid: d.value.gid, label: label(dir) } : undefined, siblings };
}

function readStatuses(stateDir: string, reader: DoctorReader, problems: string[]): { seen: StatusSeen[]; running: DomainStatus[] } {
  const files = reader.statusFiles(stateDir);
  if (files.kind === 'missing') return { seen: [], running: [] };
  if (files.kind === 'unknown') {
    problems.push(`${stateDir}: ${files.why}`);
    return { seen: [], running: [] };
  }
  const seen: StatusSeen[] = [];
  const running: DomainStatus[] = [];
  for (const f of files.value) {
    const st = parseDomainStatus(f.bytes);
    if (!st.ok) {
      // Not every XML there is a <domstatus> (libvirt keeps others beside them); only a broken one is a problem.
      if (!/not <domstatus>/.test(st.error)) problems.push(`${f.file}: ${st.error}`);
      continue;
    }
    const alive = st.value.pid !== undefined && reader.qemuAlive(st.value.pid);
    seen.push({ file: f.file, domain: st.value.name, ...(st.value.pid !== undefined ? { pid: st.value.pid } : {}), alive, rememberOwner: st.value.rememberOwner });
    // A status whose QEMU is gone still counts: the daemon restores its files when it reconnects, and
    // undoing them first would have that restore give root:root.
    running.push(st.value);
  }
  return { seen, running };
}

/**
 * remember_owner as the daemon itself reads it: its /etc/libvirt/qemu.conf seen from its mount namespace
 * (/proc/PID/root). false only when the file says 0; undefined when it cannot be read or says otherwise.
 */
function daemonRememberOwner(view: HostView, pid: number): boolean | undefined {
  const text = view.readText(`/proc/${pid}/root/etc/libvirt/qemu.conf`);
  if (text.kind !== 'ok') return undefined;
  const conf = parseQemuConf(text.value);
  if (!conf.ok) return undefined;
  const v = confNumber(conf.value, 'remember_owner');
  return v.ok && v.value === 0 ? false : undefined;
}

function ownerOfLabel(label: string, host: DoctorHost): { uid: number; gid: number } | undefined {
  const o = resolveOwnership(label, host.userId, host.groupId);
  return o.ok ? o.value : undefined;
}

function mayBeLeft(st: StatFollowed, label: string | null | undefined, qemu: { uid: number; gid: number } | undefined): boolean {
  return (qemu !== undefined && st.uid === qemu.uid) || (typeof label === 'string' && /:(svirt_image_t|virt_content_t|svirt_tcg_image_t):/.test(label));
}

export interface DoctorScanInput {
  readonly targets: readonly Target[];
  readonly stateDir: string;
  readonly host: HostOptions;
  readonly options: DoctorOptions;
}

export function scanDoctor(input: DoctorScanInput, view: HostView, reader: DoctorReader, client: () => LibvirtClient): DoctorScan {
  const problems: string[] = [];
  const notes: string[] = [];

  // The host: boot stamp, qemu identity, accounts, the daemon's right to write trusted.*.
  const bootStamp = computeBootStamp(reader.bootStampInputs());
  const accounts = readAccounts(view);
  if (!accounts.ok) problems.push(accounts.error);
  const conn = detectConnection(view, { connect: input.host.connect, qemuConfPath: input.host.qemuConf, user: input.host.user, group: input.host.group, invoker: processInvoker() });
  let qemu: { uid: number; gid: number } | undefined;
  let qemuNames = '?';
  if (!conn.ok) problems.push(conn.error);
  else {
    qemuNames = `${conn.value.user}:${conn.value.group}`;
    if (accounts.ok) {
      const id = resolveIdentity({ user: conn.value.user, group: conn.value.group }, accounts.value.passwd, accounts.value.groups);
      if (id.ok) qemu = { uid: id.value.uid, gid: id.value.gid };
      else problems.push(id.error);
    }
  }
  const daemonXattrs = reader.daemonXattrs(dirname(input.stateDir)) ?? { ok: true as const };
  const daemonRemembers = daemonXattrs.ok || daemonXattrs.pid === undefined ? undefined : daemonRememberOwner(view, daemonXattrs.pid);
  const host: DoctorHost = {
    bootStamp,
    qemu,
    qemuNames,
    userId: (n) => (accounts.ok ? accounts.value.passwd.find((p) => p.name === n)?.uid : undefined),
    groupId: (n) => (accounts.ok ? accounts.value.groups.find((g) => g.name === n)?.gid : undefined),
    daemonXattrs,
    ...(daemonRemembers === false ? { daemonRemembers } : {}),
  };
  if (daemonRemembers === false && !daemonXattrs.ok)
    notes.push(
      `the daemon cannot write trusted.* attributes (${daemonXattrs.why}), and its qemu.conf has remember_owner = 0: it records nothing, so starts do not fail on that, and every stop gives its files root:root (DAC) and the file_contexts default (SELinux) instead of what they had`,
    );

  // The files.
  const stdio: Stdio = conn.ok ? { stdioHandler: conn.value.stdioHandler } : {};
  const named: Named[] = [];
  let libvirt: LibvirtClient | undefined;
  const lv = () => (libvirt ??= client());
  // The named domains are read together, where the first --domain stands (one virsh process per batch).
  const domainNames = input.targets.flatMap((t) => (t.kind === 'domain' ? [t.name] : []));
  let domainsRead = false;
  for (const t of input.targets) {
    if (t.kind === 'file') named.push({ path: t.path, roles: new Set(['path']) });
    else if (t.kind === 'path') walkPath(t.path, reader, named, problems);
    else if (t.kind === 'domain') {
      if (!domainsRead) definedDomainsFiles(domainNames, lv(), view, stdio, named, problems, notes);
      domainsRead = true;
    } else definedDomainsFiles(undefined, lv(), view, stdio, named, problems, notes);
  }

  // Who uses them: libvirt's status files.
  const { seen, running } = readStatuses(input.stateDir, reader, problems);
  const holders = new Map<string, Holder[]>();
  for (const st of running)
    for (const use of domainFileUses(st.domain, stdio)) {
      const real = reader.realPath(use.path);
      if (real.kind !== 'ok') continue;
      const list = holders.get(real.value) ?? [];
      list.push(holderOf(st, use));
      holders.set(real.value, list);
    }

  // One entry per inode's path: the first name wins, the roles add up.
  const byReal = new Map<string, { named: string; roles: Set<FileRole | 'path'>; stat: StatFollowed; dacLabels: Set<string>; elements: Set<string>; labelled: { dac: boolean; selinux: boolean } | undefined }>();
  for (const n of named) {
    const real = reader.realPath(n.path);
    if (real.kind !== 'ok') {
      if (real.kind === 'missing') notes.push(`${n.path}: does not exist`);
      else problems.push(`${n.path}: ${real.why}`);
      continue;
    }
    const st = reader.stat(real.value);
    if (st.kind !== 'ok') {
      problems.push(`${n.path}: ${st.kind === 'missing' ? 'does not exist' : st.why}`);
      continue;
    }
    const prev = byReal.get(real.value);
    if (prev) {
      for (const r of n.roles) prev.roles.add(r);
      for (const l of n.dacLabels ?? []) prev.dacLabels.add(l);
      for (const e of n.elements ?? []) prev.elements.add(e);
      // Named on the command line too: nothing is known about it then; otherwise a model any definition labels counts.
      prev.labelled = prev.labelled && n.labelled ? { dac: prev.labelled.dac || n.labelled.dac, selinux: prev.labelled.selinux || n.labelled.selinux } : undefined;
    } else byReal.set(real.value, { named: n.path, roles: new Set(n.roles), stat: st.value, dacLabels: new Set(n.dacLabels ?? []), elements: new Set(n.elements ?? []), labelled: n.labelled ? { ...n.labelled } : undefined });
  }

  const findings: Finding[] = [];
  for (const [realPath, e] of byReal) {
    const label = reader.selinuxLabel(realPath);
    const facts: FileFacts = {
      path: e.named,
      realPath,
      inode: { uid: e.stat.uid, gid: e.stat.gid, type: e.stat.type, dev: e.stat.dev, ino: e.stat.ino },
      selinuxLabel: label.kind === 'ok' ? label.value : undefined,
      records: reader.records(realPath),
      holders: holders.get(realPath) ?? [],
      roles: [...e.roles],
      ...(e.elements.size > 0 ? { elements: [...e.elements] } : {}),
      ...(e.labelled ? { labelledBy: e.labelled } : {}),
      // The neighbours only matter for a file that may have been left chowned: one the qemu user owns or libvirt labelled.
      // A file libvirt labels without remembering may have been reset to root:root: its neighbours say whose it was.
      ...(mayBeLeft(e.stat, label.kind === 'ok' ? label.value : undefined, qemu) || (e.roles.has('unremembered-file') && e.stat.uid === 0 && e.stat.gid === 0)
        ? { neighbours: neighbours(realPath, reader) }
        : {}),
      dacLabels: [...e.dacLabels].flatMap((l) => {
        const o = ownerOfLabel(l, host);
        return o ? [o] : [];
      }),
    };
    findings.push(...diagnoseFile(facts, host, input.options));
  }
  return { host, bootStamp: bootStamp.ok ? bootStamp.value.value : undefined, stateDir: input.stateDir, statuses: seen, files: byReal.size, findings, problems, notes };
}
