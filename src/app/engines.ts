/**
 * Binds the engines to the decision core's ports. Each engine is created lazily, per domain, so a
 * command that needs no SELinux answer never loads a policy.
 */
import { failure, success, type Result } from '../result.js';
import type { Connection } from '../decide/connection.js';
import type { Chain, DecisionPorts } from '../decide/ports.js';
import type { Disk } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import { diskAccess } from '../decide/disk.js';
import type { HostOptions } from './host-options.js';
import { resolveChain } from '../images/chain.js';
import { accountNames, readAccounts, type Accounts } from '../host/accounts.js';
import { createDacEngine } from '../dac/engine.js';
import { DacHostFacts } from '../dac/host-facts.js';
import { walkAsView } from '../host/walk-as.js';
import { parseDacLabel, resolveIdentity, type QemuIdentity } from '../dac/identity.js';
import { seclabelFor } from '../decide/domain-labelling.js';
import type { Domain } from '../domain/model.js';
import { lazySelinux, type PolicyLoader } from './selinux-engine.js';
import type { SvirtLabelSource } from '../selinux/svirt-process.js';
import type { VirtAaHelper } from '../apparmor/virt-aa-helper.js';
import { lazyAppArmor } from './apparmor-engine.js';

/**
 * A view whose readBytes, where this view's reader (root) is refused (EACCES/EPERM: NFS root_squash, a
 * FUSE daemon refusing root), reads as QEMU's identity instead, and whose lstat/readlink do the same on a
 * filesystem that delegates permission (host/walk-as.ts), so the chain's paths resolve where only QEMU's
 * user may look; `readAs` collects the paths read so.
 */
function headersAs(view: HostView, who: QemuIdentity, readAs: Set<string>): HostView {
  const readBytesAs = view.readBytesAs?.bind(view);
  if (!readBytesAs) return view;
  const facts = new DacHostFacts(view);
  const as = walkAsView(view, who, (p) => facts.mountOf(p)).view;
  return {
    ...as,
    readBytes(path, offset, length) {
      const a = view.readBytes(path, offset, length);
      if (a.kind !== 'unknown' || !/\((EACCES|EPERM)\)/.test(a.why)) return a;
      const b = readBytesAs(who, path, offset, length);
      if (b.kind === 'ok') readAs.add(path);
      return b.kind === 'ok' ? b : a;
    },
  };
}

/**
 * The images module's chain, in the decision core's terms. `readAs`: QEMU's identity, to read the
 * headers root may not (the file then says who read it).
 */
export function chainOf(view: HostView, disk: Disk, readAs?: QemuIdentity): Chain {
  if (!disk.path) return { kind: 'unprovable', reason: 'the disk has no local source path' };
  const readSo = new Set<string>();
  const reader = readAs ? headersAs(view, readAs, readSo) : view;
  const r = resolveChain(reader, { path: disk.path, format: disk.format, declared: disk.backing, access: diskAccess(disk) });
  if (r.kind === 'unprovable') return { kind: 'unprovable', reason: r.reason };
  const who = readAs ? (readAs.userName ?? `uid ${readAs.uid}`) : '';
  return {
    kind: 'ok',
    files: r.files.map((f) => ({
      path: f.path,
      access: f.access,
      format: f.format,
      role: f.role === 'image' ? (f.layer === 0 ? 'top' : 'backing') : f.role,
      ...(readSo.has(f.path) ? { note: `its header was read as ${who} (uid ${readAs!.uid}), since root may not read it` } : {}),
    })),
  };
}

/**
 * The qemu identity for a domain: a static DAC label overrides the connection's, whether or not libvirt
 * relabels for it (virSecurityDACGetIds reads the label either way: with relabel='no' QEMU still runs as
 * that uid:gid, which is what matters for the files it must open as they are).
 */
export function dacIdentity(domain: Domain, conn: Connection, accounts: Accounts): Result<QemuIdentity, string> {
  const s = seclabelFor(domain, 'dac', conn);
  const label = s?.type === 'static' ? s.label : undefined;
  if (label !== undefined) {
    const parsed = parseDacLabel(label);
    if (!parsed.ok) return failure(`domain DAC <label>${label}</label>: ${parsed.error}`);
    return resolveIdentity(parsed.value, accounts.passwd, accounts.groups);
  }
  return resolveIdentity({ user: conn.user, group: conn.group }, accounts.passwd, accounts.groups);
}

export function buildPorts(
  view: HostView,
  conn: Connection,
  opts: HostOptions,
  loadPolicy?: PolicyLoader,
  svirtLabel: SvirtLabelSource = 'any-dynamic',
  virtAaHelper?: VirtAaHelper,
): Result<DecisionPorts, string> {
  let accounts: Result<Accounts, string> | undefined;
  const getAccounts = () => (accounts ??= readAccounts(view));
  let connIdentity: QemuIdentity | undefined;
  if (conn.models.dac.active) {
    // The connection's qemu identity must resolve: an unknown user or group is an error, not a guess.
    const a = getAccounts();
    if (!a.ok) return a;
    const id = resolveIdentity({ user: conn.user, group: conn.group }, a.value.passwd, a.value.groups);
    if (!id.ok) return failure(`qemu identity (${conn.identitySource}): ${id.error}`);
    connIdentity = id.value;
  }
  // The mount table and sysctls, read once for all the domains these ports decide (not once per domain).
  const dacFacts = new DacHostFacts(view);
  // The SELinux walk needs the inodes on the way too: where root may not search a directory of a
  // delegating filesystem, they are looked up as the connection's QEMU user, as the chain's are.
  const selinuxView = connIdentity ? walkAsView(view, connIdentity, (p) => dacFacts.mountOf(p)).view : view;
  const selinux = lazySelinux(selinuxView, conn, opts, loadPolicy, svirtLabel);
  const fsuidOf = (domain: Domain) => {
    const a = getAccounts();
    if (!a.ok) return undefined;
    const id = dacIdentity(domain, conn, a.value);
    return id.ok ? id.value.uid : undefined;
  };
  const apparmor = conn.apparmor.active ? lazyAppArmor(view, virtAaHelper, fsuidOf) : undefined;
  return success({
    // Headers root may not read (squashed) are read as the connection's QEMU user: the bytes are the
    // file's whoever reads them; whether the domain's own identity may open it is the DAC engine's question.
    resolveChain: (disk) => chainOf(view, disk, connIdentity),
    ...(apparmor && { apparmorFor: apparmor }),
    engineFor: (model, domain) => {
      if (model === 'dac') {
        const a = getAccounts();
        if (!a.ok) return { ok: false, reason: a.error };
        const id = dacIdentity(domain, conn, a.value);
        if (!id.ok) return { ok: false, reason: id.error };
        return { ok: true, engine: createDacEngine(view, id.value, accountNames(a.value), dacFacts) };
      }
      return selinux(domain);
    },
  });
}
