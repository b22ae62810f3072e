/**
 * `virt-seclabel labels`: the file types the svirt process may use for disks on this host, and
 * `labels --check LABEL` for one label. Thin: the policy and the process come from the host view
 * (app/selinux-engine.ts, as annotate gets them), the answers from selinux/usable-types.ts and
 * selinux/label-check.ts, the text from report/labels.ts.
 *
 * Exit codes: 0 listed (or --check: LABEL is usable for read-only media as a regular file), 1 --check:
 * it is not, 2 usage, policy or context error.
 */
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { parseConnectUri } from '../app/host-options.js';
import { hostDynamicProcess, readHostPolicy } from '../app/selinux-engine.js';
import type { HostView } from '../host/view.js';
import { labelCheckJson, labelCheckText, labelsJson, labelsText } from '../report/labels.js';
import { checkLabel } from '../selinux/label-check.js';
import { typeExists } from '../selinux/policy/query.js';
import type { SvirtProcess } from '../selinux/svirt-process.js';
import { usableTypes } from '../selinux/usable-types.js';

export interface LabelsOptions {
  readonly policy?: string;
  readonly booleans: Readonly<Record<string, boolean>>;
  readonly connect: string;
  /** Another process context (a static label) instead of libvirt's dynamic one. */
  readonly context?: string;
  readonly check?: string;
  readonly json: boolean;
}

/** labels on this host's live view (its policy, its selinuxfs, its libvirt daemon's context). */
export async function runLabelsOnHost(opts: LabelsOptions, io: CliIo): Promise<ExitCode> {
  const { createLiveView } = await import('../adapters/live/live-view.js');
  return runLabels(opts, createLiveView(), io);
}

export function runLabels(opts: LabelsOptions, view: HostView, io: CliIo): ExitCode {
  const fail = (msg: string): ExitCode => {
    io.stderr.write(`virt-seclabel labels: ${msg}\n`);
    return EXIT.error;
  };
  const mode = parseConnectUri(opts.connect);
  if (!mode) return fail(`--connect ${opts.connect}: expected qemu:///system or qemu:///session`);
  const model = readHostPolicy(view, { policy: opts.policy, booleans: opts.booleans });
  if (!model.ok) return fail(model.error);
  const { policy, booleans, source } = model.value;
  let proc: SvirtProcess;
  if (opts.context !== undefined) proc = { kind: 'static', context: opts.context };
  else {
    // A KVM domain without a seclabel: what annotate assumes for a domain that says nothing.
    const p = hostDynamicProcess(view, mode, { baselabel: undefined, domainType: 'kvm', tcgTypeExists: typeExists(policy, 'svirt_tcg_t'), mls: policy.mls });
    if (!p.ok) return fail(p.error);
    proc = p.value;
  }
  if (opts.check !== undefined) {
    const verdicts = checkLabel(policy, proc, opts.check, booleans);
    if (!verdicts.ok) return fail(verdicts.error);
    io.stdout.write(opts.json ? labelCheckJson(opts.check, verdicts.value, proc, source) : labelCheckText(opts.check, verdicts.value, proc));
    const readOnlyFile = verdicts.value.find((v) => v.use === 'read-only' && v.tclass === 'file');
    return readOnlyFile?.allowed ? EXIT.ok : EXIT.found;
  }
  const answer = usableTypes(policy, proc, booleans);
  if (!answer.ok) return fail(answer.error);
  io.stdout.write(opts.json ? labelsJson(answer.value, proc, source) : labelsText(answer.value, proc, source));
  return EXIT.ok;
}
