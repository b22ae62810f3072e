/** The `explain --json` report: plain data, validated against schemas/report.schema.json in the tests. */
import type { FileOutcome } from '../app/process-file.js';
import type { Connection } from '../decide/connection.js';
import type { DiskDecision } from '../decide/disk.js';
import type { FileModelDecision, Model, ModelDecision } from '../decide/types.js';
import { FIRMWARE_AUTO, type OtherFileDecision } from '../decide/files.js';
import { APPARMOR_DISK_REASON, type AppArmorDecision } from '../decide/apparmor.js';

export const REPORT_FORMAT_VERSION = 1;

function modelJson(md: ModelDecision) {
  return {
    action: md.action,
    accessible: md.accessible,
    reason: md.reason,
    ...(md.action === 'existing' ? { stale: md.stale } : {}),
    ...(md.action === 'keep' && md.afterChown !== undefined ? { afterChown: md.afterChown } : {}),
    ...(md.action === 'annotate' ? { proof: { files: md.proof.files.map((f) => ({ ...f })) } } : {}),
  };
}

/** The apparmor row: never an annotation (action 'n/a'), the profile's verdict over the whole chain, the deciding rule. */
export function apparmorJson(d: AppArmorDecision) {
  return { action: d.action, accessible: d.accessible, reason: d.reason, ...(d.rule !== undefined && { rule: d.rule }) };
}

function fileModelJson(md: FileModelDecision) {
  if (md.action === 'relabel') return { action: md.action, accessible: md.accessible, reason: md.reason, ...(md.afterChown !== undefined && { afterChown: md.afterChown }) };
  return md.action === 'as-is' ? { action: md.action, accessible: md.accessible, reason: md.reason } : modelJson(md);
}

function otherFileJson(d: OtherFileDecision) {
  return {
    element: d.file.where,
    kind: d.file.kind,
    path: d.file.path ?? null,
    access: d.file.access,
    libvirt: d.libvirt,
    annotatable: d.file.source !== undefined,
    models: {
      ...Object.fromEntries((['dac', 'selinux'] as Model[]).map((m) => [m, fileModelJson(d.models[m])])),
      ...(d.apparmor && { apparmor: apparmorJson(d.apparmor) }),
    },
    findings: d.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message, ...(f.path ? { path: f.path } : {}) })),
  };
}

function diskJson(d: DiskDecision, apparmor: boolean) {
  return {
    target: d.disk.target ?? null,
    source: d.disk.path ?? null,
    type: d.disk.rawType,
    device: d.disk.device,
    access: d.access,
    readonly: d.disk.readonly,
    shareable: d.disk.shareable,
    models: {
      ...Object.fromEntries((['dac', 'selinux'] as Model[]).map((m) => [m, modelJson(d.models[m])])),
      // Only on AppArmor hosts, so readers of dac and selinux see what they always saw.
      ...(apparmor ? { apparmor: d.apparmor ? apparmorJson(d.apparmor) : { action: 'n/a', accessible: null, reason: APPARMOR_DISK_REASON } } : {}),
    },
    findings: d.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message, ...(f.path ? { path: f.path } : {}) })),
  };
}

export function connectionJson(conn: Connection) {
  return {
    mode: conn.mode,
    models: { dac: { ...conn.models.dac }, selinux: { ...conn.models.selinux }, apparmor: { ...conn.apparmor } },
    user: conn.user,
    group: conn.group,
    dynamicOwnership: conn.dynamicOwnership,
    defaultConfined: conn.defaultConfined,
  };
}

export function fileJson(o: FileOutcome, apparmor = false) {
  if (!o.ok) return { file: o.file, error: { line: o.error.line, column: o.error.column, message: o.error.message } };
  const files = o.decision.files ?? [];
  return {
    file: o.file,
    domain: o.decision.domain.name ?? null,
    disks: o.decision.disks.map((d) => diskJson(d, apparmor)),
    // Only when the domain has files beyond disks, so reports of disk-only domains read as before.
    ...(files.length > 0 && { otherFiles: files.map(otherFileJson) }),
    ...(o.decision.domain.other?.firmwareAuto && { firmwareAuto: FIRMWARE_AUTO }),
    ...((o.decision.domain.other?.argProblems.length ?? 0) > 0 && { qemuArgProblems: o.decision.domain.other!.argProblems.map((p) => ({ option: p.option, message: p.message })) }),
  };
}

export function reportJson(conn: Connection, outcomes: readonly FileOutcome[]) {
  return { formatVersion: REPORT_FORMAT_VERSION, connection: connectionJson(conn), files: outcomes.map((o) => fileJson(o, conn.apparmor.active)) };
}
