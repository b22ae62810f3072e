/**
 * The hook's look at libvirt's records before libvirt's own Set runs (issue 25, item 3): for the domain
 * starting, the remembered files whose same-boot record will make libvirt refuse the start with
 * "already in use", and whether that record is stale (no running domain holds it: `doctor --apply` fixes
 * it). It reads only files and libvirt's status files, never the daemon (the hook runs under its lock),
 * and it only adds the cause: the start is still libvirt's to refuse. It gets the domain the check parsed and
 * the check's own host context (its view and connection): nothing is read or derived twice per start.
 */
import { join } from 'node:path';
import { createDoctorReader } from '../adapters/live/doctor-reader.js';
import { resolveIdentity } from '../dac/identity.js';
import { resolveOwnership } from '../dac/ownership.js';
import type { Connection } from '../decide/connection.js';
import type { Model } from '../decide/types.js';
import { computeBootStamp } from '../doctor/boot-stamp.js';
import type { DoctorReader } from '../doctor/ports.js';
import { checkStart, type StartTarget } from '../doctor/start-check.js';
import { DEFAULT_STATE_DIR, domainFileUses, holderOf, parseDomainStatus, type Holder } from '../doctor/status.js';
import type { Domain } from '../domain/model.js';
import { readAccounts } from '../host/accounts.js';
import type { HookContext } from '../hook/judge.js';
import type { Result } from '../result.js';

function holdersOther(vm: string, reader: DoctorReader, stateDir: string, stdio: Pick<Connection, 'stdioHandler'>): Map<string, Holder[]> {
  const out = new Map<string, Holder[]>();
  const files = reader.statusFiles(stateDir);
  if (files.kind !== 'ok') return out;
  for (const f of files.value) {
    if (f.file === join(stateDir, `${vm}.xml`)) continue;
    const st = parseDomainStatus(f.bytes);
    if (!st.ok || st.value.name === vm) continue;
    for (const use of domainFileUses(st.value.domain, stdio)) {
      const real = reader.realPath(use.path);
      if (real.kind !== 'ok') continue;
      out.set(real.value, [...(out.get(real.value) ?? []), holderOf(st.value, use)]);
    }
  }
  return out;
}

function target(domain: Domain, model: Model, context: () => Result<HookContext, string>): StartTarget {
  const sec = domain.seclabels.find((s) => s.model === model);
  if (model === 'selinux') {
    const il = sec?.element.children.find((c) => c.name === 'imagelabel')?.text.trim();
    return il ? { label: il } : {};
  }
  const ctx = context();
  if (!ctx.ok) return {};
  const accounts = readAccounts(ctx.value.view);
  if (!accounts.ok) return {};
  if (sec?.label) {
    const o = resolveOwnership(sec.label, (n) => accounts.value.passwd.find((e) => e.name === n)?.uid, (n) => accounts.value.groups.find((e) => e.name === n)?.gid);
    return o.ok ? { owner: o.value } : {};
  }
  const { user, group } = ctx.value.conn;
  const id = resolveIdentity({ user, group }, accounts.value.passwd, accounts.value.groups);
  return id.ok ? { owner: { uid: id.value.uid, gid: id.value.gid } } : {};
}

/** The hook's lines for `domain` at the phase whose model is `model`; [] when nothing will fail. */
export function startRecordLines(
  vm: string,
  domain: Domain,
  model: Model,
  context: () => Result<HookContext, string>,
  reader: DoctorReader = createDoctorReader(),
  stateDir = DEFAULT_STATE_DIR,
): string[] {
  const tgt = target(domain, model, context);
  // stdio_handler decides which chardev files libvirt labels; libvirt's default when the context is unreadable.
  const ctx = context();
  const stdio = ctx.ok ? { stdioHandler: ctx.value.conn.stdioHandler } : {};
  // libvirt's status files (one XML per running domain) are read only once a file's record needs its
  // holders counted: most starts meet no record at all, and the hook runs on every one.
  let holders: Map<string, Holder[]> | undefined;
  const holdersOf = (real: string): Holder[] => (holders ??= holdersOther(vm, reader, stateDir, stdio)).get(real) ?? [];
  const problems = checkStart(domain, model, tgt, computeBootStamp(reader.bootStampInputs()), (path) => {
    const real = reader.realPath(path);
    if (real.kind !== 'ok') return undefined;
    const st = reader.stat(real.value);
    const label = model === 'selinux' ? reader.selinuxLabel(real.value) : undefined;
    return {
      records: reader.records(real.value),
      owner: st.kind === 'ok' ? { uid: st.value.uid, gid: st.value.gid } : undefined,
      label: label?.kind === 'ok' ? label.value : undefined,
      get holders() {
        return holdersOf(real.value);
      },
    };
  }, stdio);
  return problems.map((p) => p.line);
}
