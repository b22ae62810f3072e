/**
 * `virt-seclabel doctor [FILE...|--domain NAME...|--all-domains|--path PATH...] [--json] [--apply]`:
 * the records libvirt left in trusted.libvirt.security.* (decoded as libvirt 9.0 reads them), who uses
 * each file (libvirt's status files), and a verdict per file and model; --apply then does only what
 * libvirt's last stop would have done, through descriptors under libvirt's metadata lock.
 *
 * Exit codes: 0 nothing found (every record consistent, nothing left chowned), or with --apply everything
 * found was undone; 1 something was found (and, with --apply, something remains that it does not change);
 * 2 usage or read error, or a change that failed (the other changes are still made).
 */
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { scanDoctor, type DoctorScanInput } from '../app/doctor.js';
import { hostOptionsRefusal } from '../app/host-option-rules.js';
import type { HostOptions } from '../app/host-options.js';
import { applyActions, type DoctorEffects } from '../doctor/apply.js';
import type { DoctorReader } from '../doctor/ports.js';
import type { Action } from '../doctor/verdict.js';
import { isProblem } from '../doctor/verdict.js';
import type { HostView } from '../host/view.js';
import type { LibvirtClient } from '../libvirt/client.js';
import { renderOutcomesText, renderScanText, scanJson } from '../report/doctor.js';

export interface DoctorRequest extends DoctorScanInput {
  readonly apply: boolean;
  readonly json: boolean;
}

export interface DoctorDeps {
  readonly view: HostView;
  readonly reader: DoctorReader;
  readonly client: () => LibvirtClient;
  /** Needed only with --apply. */
  readonly effects?: DoctorEffects<unknown, unknown>;
}

/** doctor on this host: the live reader, virsh for definitions, the live effects for --apply. */
export async function runDoctorRequest(req: DoctorRequest, host: HostOptions, connectUri: string, io: CliIo): Promise<ExitCode> {
  const refusal = hostOptionsRefusal('doctor', host);
  if (refusal) {
    io.stderr.write(`virt-seclabel: ${refusal}\n`);
    return EXIT.error;
  }
  const { createLiveView } = await import('../adapters/live/live-view.js');
  const { createDoctorReader } = await import('../adapters/live/doctor-reader.js');
  const { virshClient } = await import('../adapters/libvirt/virsh-client.js');
  const effects = req.apply ? (await import('../adapters/live/doctor-effects.js')).createLiveDoctorEffects() : undefined;
  return runDoctor(req, { view: createLiveView(), reader: createDoctorReader(), client: () => virshClient(connectUri), ...(effects ? { effects: effects as DoctorEffects<unknown, unknown> } : {}) }, io);
}

export async function runDoctor(req: DoctorRequest, deps: DoctorDeps, io: CliIo): Promise<ExitCode> {
  const self = deps.reader.selfXattrs();
  if (!self.ok) {
    // The kernel hides trusted.* from anyone else: a scan that finds nothing would prove nothing.
    io.stderr.write(`virt-seclabel: doctor needs root in the initial user namespace to see libvirt's records (trusted.* is hidden otherwise): ${self.why}\n`);
    return EXIT.error;
  }
  const scan = scanDoctor(req, deps.view, deps.reader, deps.client);
  const actions: Action[] = scan.findings.flatMap((f) => (f.action ? [f.action] : []));
  const readError = scan.problems.length > 0 || scan.findings.some((f) => f.verdict === 'unknown');
  if (!req.apply) {
    io.stdout.write(req.json ? JSON.stringify(scanJson(scan), null, 2) + '\n' : renderScanText(scan));
    if (readError) return EXIT.error;
    return scan.findings.some(isProblem) ? EXIT.found : EXIT.ok;
  }
  if (!deps.effects) {
    io.stderr.write('virt-seclabel: doctor --apply needs the live host\n');
    return EXIT.error;
  }
  const outcomes = await applyActions(actions, deps.effects);
  if (req.json) io.stdout.write(JSON.stringify(scanJson(scan, outcomes), null, 2) + '\n');
  else io.stdout.write(renderScanText(scan) + renderOutcomesText(outcomes));
  if (readError || outcomes.some((o) => o.status === 'failed')) return EXIT.error;
  // Undone: applied in full. A record removed while its owner/label was kept (`keeps`) leaves a person's decision.
  const undone = new Set(outcomes.filter((o) => o.status === 'applied' && !o.why && !(o.action.kind === 'restore-record' && o.action.keeps)).map((o) => o.action));
  const remaining = scan.findings.filter((f) => isProblem(f) && !(f.action && undone.has(f.action)));
  return remaining.length > 0 ? EXIT.found : EXIT.ok;
}
