/**
 * The doctor's renderings: the text a person reads (each finding with libvirt's own words and what
 * --apply will or will not do) and the JSON of schemas/doctor.schema.json. Pure.
 */
import type { DoctorScan } from '../app/doctor.js';
import type { ActionOutcome } from '../doctor/apply.js';
import type { Action, Finding, Owner } from '../doctor/verdict.js';

export const DOCTOR_FORMAT_VERSION = 1;

const own = (o: Owner) => `${o.uid}:${o.gid}`;
const VERDICT_WORDS: Readonly<Record<Finding['verdict'], string>> = {
  consistent: 'consistent',
  stale: 'stale',
  unrecordable: 'cannot be recorded',
  'left-chowned': 'left chowned',
  unknown: 'cannot tell',
};

export function actionText(a: Action): string {
  if (a.kind === 'set-owner') return `chown ${a.realPath} from ${own(a.from)} to ${own(a.to)}`;
  if (a.kind === 'set-label') return `relabel ${a.realPath} from ${a.from} to ${a.to}`;
  const names = Object.keys(a.expect).filter((n) => a.expect[n] !== null);
  const give = a.restore ? ('owner' in a.restore ? `, then give back the owner ${own(a.restore.owner)}` : `, then give back the label ${a.restore.label}`) : '';
  return `under libvirt's metadata lock remove ${names.join(', ')}${give}`;
}

function recordLine(f: Finding): string | undefined {
  const r = f.record;
  if (!r || !f.model) return undefined;
  const part = (n: string, v: string | null) => (v === null ? `${n} absent` : `${n}=${v}`);
  const boot = r.thisBoot === null ? '' : r.thisBoot ? ' (this boot)' : ' (another boot)';
  return `record: ${part(f.model, r.label)}, ${part(`ref_${f.model}`, r.count)}, ${part(`timestamp_${f.model}`, r.stamp)}${boot}`;
}

export function renderFindingText(f: Finding): string {
  // A label libvirt left is "left labelled"; the JSON verdict stays left-chowned for both models.
  const word = f.verdict === 'left-chowned' && f.model === 'selinux' ? 'left labelled' : VERDICT_WORDS[f.verdict];
  const lines = [`${f.path}: ${f.model ?? 'file'}: ${word} (${f.cause}): ${f.summary}`];
  const rec = recordLine(f);
  if (rec) lines.push(`  ${rec}`);
  if (f.realPath && f.realPath !== f.path) lines.push(`  the records live on ${f.realPath} (libvirt follows links)`);
  if (f.users.length > 0) lines.push(`  used by: ${f.users.map((u) => `${u.domain} (${u.disk}, ${u.role}${u.counts.dac || u.counts.selinux ? ', counted' : ''})`).join(', ')}`);
  if (f.libvirtWillSay) lines.push(`  libvirt will say: ${f.libvirtWillSay}`);
  if (f.consequence) lines.push(`  next: ${f.consequence}`);
  if (f.avoid) lines.push(`  avoid it: ${f.avoid.setting}; cost: ${f.avoid.cost}`);
  if (f.likely) {
    const what = f.likely.owner ? `owner ${own(f.likely.owner)}` : f.likely.label ? `label ${f.likely.label}` : 'nothing to go on';
    lines.push(`  most likely had: ${what} (confidence ${f.likely.confidence}: ${f.likely.why})`);
  }
  if (f.action) lines.push(`  --apply: ${actionText(f.action)}`);
  else if (f.noAction && f.verdict !== 'consistent') lines.push(`  --apply changes nothing: ${f.noAction}`);
  return lines.join('\n') + '\n';
}

export function summaryCounts(findings: readonly Finding[]): Record<Finding['verdict'], number> {
  const c = { consistent: 0, stale: 0, unrecordable: 0, 'left-chowned': 0, unknown: 0 };
  for (const f of findings) c[f.verdict]++;
  return c;
}

export function renderScanText(scan: DoctorScan): string {
  const out: string[] = [];
  const q = scan.host.qemu ? `${scan.host.qemuNames} (${own(scan.host.qemu)})` : scan.host.qemuNames;
  const stamp = scan.host.bootStamp.ok ? `${scan.host.bootStamp.value.value} (from ${scan.host.bootStamp.value.source === 'utmp' ? 'utmp BOOT_TIME' : '/proc/uptime, as libvirt without utmp: its daemons can land a second either side, and records within a second count as this boot\'s'})` : `unknown (${scan.host.bootStamp.error})`;
  out.push(`boot stamp ${stamp}; qemu user ${q}\n`);
  const alive = scan.statuses.map((s) => `${s.domain} (pid ${s.pid ?? '?'}${s.alive ? '' : ', QEMU gone'}${s.rememberOwner ? '' : ', no rememberOwner'})`);
  out.push(`running domains (status files in ${scan.stateDir}): ${alive.length > 0 ? alive.join(', ') : 'none'}\n`);
  for (const f of scan.findings) out.push(renderFindingText(f));
  for (const n of scan.notes) out.push(`note: ${n}\n`);
  for (const p of scan.problems) out.push(`error: ${p}\n`);
  const c = summaryCounts(scan.findings);
  out.push(`${scan.files} file${scan.files === 1 ? '' : 's'} checked: ${c.consistent} consistent, ${c.stale} stale, ${c.unrecordable} cannot be recorded, ${c['left-chowned']} left chowned, ${c.unknown} cannot tell\n`);
  return out.join('');
}

export function renderOutcomesText(outcomes: readonly ActionOutcome[]): string {
  if (outcomes.length === 0) return 'nothing to apply\n';
  return outcomes
    .map((o) => {
      const head = `${o.status}: ${o.action.realPath}${o.action.kind === 'restore-record' ? ` (${o.action.model})` : ''}`;
      const what = o.changed.length > 0 ? `: ${o.changed.join('; ')}` : '';
      return `${head}${what}${o.why ? ` (${o.why})` : ''}\n`;
    })
    .join('');
}

function actionJson(a: Action) {
  return { ...a, text: actionText(a) };
}

function findingJson(f: Finding) {
  return {
    path: f.path,
    realPath: f.realPath ?? null,
    model: f.model ?? null,
    verdict: f.verdict,
    cause: f.cause,
    summary: f.summary,
    record: f.record ?? null,
    original: f.original ?? null,
    counted: f.counted,
    users: f.users.map((u) => ({ domain: u.domain, disk: u.disk, role: u.role, counts: u.counts })),
    libvirtWillSay: f.libvirtWillSay ?? null,
    consequence: f.consequence ?? null,
    avoid: f.avoid ?? null,
    likely: f.likely ?? null,
    action: f.action ? actionJson(f.action) : null,
    noAction: f.noAction ?? null,
  };
}

export function scanJson(scan: DoctorScan, outcomes?: readonly ActionOutcome[]) {
  return {
    formatVersion: DOCTOR_FORMAT_VERSION,
    bootStamp: scan.host.bootStamp.ok ? { value: scan.host.bootStamp.value.value, source: scan.host.bootStamp.value.source } : { error: scan.host.bootStamp.error },
    qemu: { names: scan.host.qemuNames, uid: scan.host.qemu?.uid ?? null, gid: scan.host.qemu?.gid ?? null },
    stateDir: scan.stateDir,
    statusFiles: scan.statuses.map((s) => ({ file: s.file, domain: s.domain ?? null, pid: s.pid ?? null, alive: s.alive ?? false, rememberOwner: s.rememberOwner ?? false })),
    files: scan.files,
    counts: summaryCounts(scan.findings),
    findings: scan.findings.map(findingJson),
    notes: scan.notes,
    problems: scan.problems,
    ...(outcomes ? { applied: outcomes.map((o) => ({ action: actionJson(o.action), status: o.status, changed: o.changed, why: o.why ?? null })) } : {}),
  };
}
