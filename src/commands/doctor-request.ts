/**
 * What `doctor` was asked, from its flags: the targets in the order given, --apply's owner and label,
 * or why the flags do not make a request (a usage error). Pure; the command line checks it before the
 * doctor's core loads.
 */
import type { Target } from '../app/doctor.js';
import type { HostOptions } from '../app/host-options.js';
import { plausibleContext } from '../doctor/records.js';
import { failure, success, type Result } from '../result.js';
import type { DoctorRequest } from './doctor.js';

export interface DoctorFlags {
  readonly files: readonly string[];
  readonly domain: readonly string[];
  readonly allDomains: boolean;
  readonly path: readonly string[];
  readonly stateDir: string;
  readonly owner?: string;
  readonly label?: string;
  readonly apply: boolean;
  readonly json: boolean;
}

export function doctorRequest(f: DoctorFlags, host: HostOptions): Result<DoctorRequest, string> {
  if (f.files.length + f.domain.length + f.path.length === 0 && !f.allDomains) return failure('doctor: name FILEs, --domain NAME, --all-domains or --path PATH');
  if (f.files.some((p) => !p.startsWith('/')) || f.path.some((p) => !p.startsWith('/'))) return failure('doctor: FILE and --path take absolute paths');
  let owner: { uid: number; gid: number } | undefined;
  if (f.owner !== undefined) {
    const m = /^([0-9]{1,10}):([0-9]{1,10})$/.exec(f.owner);
    if (!m || Number(m[1]) >= 0xffffffff || Number(m[2]) >= 0xffffffff) return failure(`--owner ${f.owner}: expected UID:GID (numbers)`);
    owner = { uid: Number(m[1]), gid: Number(m[2]) };
  }
  if (f.label !== undefined && !plausibleContext(f.label)) return failure(`--label ${f.label}: not an SELinux context (user:role:type[:level])`);
  const targets: Target[] = [
    ...f.files.map((path) => ({ kind: 'file' as const, path })),
    ...f.domain.map((name) => ({ kind: 'domain' as const, name })),
    ...(f.allDomains ? [{ kind: 'all-domains' as const }] : []),
    ...f.path.map((path) => ({ kind: 'path' as const, path })),
  ];
  return success({
    targets,
    stateDir: f.stateDir,
    host,
    options: { ...(owner ? { owner } : {}), ...(f.label !== undefined ? { label: f.label } : {}) },
    apply: f.apply,
    json: f.json,
  });
}
