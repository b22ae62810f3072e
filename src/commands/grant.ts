/**
 * `virt-seclabel grant [FILE...] [--apply] [--json]`: for every disk QEMU cannot open (DAC), the
 * smallest POSIX ACL changes that let it, instead of libvirt's chown. Without --apply only the plan is
 * printed (a shell script, or JSON); with it, the plan is applied through the grant effects, then every
 * disk is decided again exactly as annotate decides it.
 *
 * Exit codes: 0 every disk is accessible or planned (and, with --apply, every change applied);
 * 1 some disk cannot be granted (refused, with the reason); 2 usage/input error or a change that failed.
 */
import type { HostContext } from '../app/host-context.js';
import type { HostOptions } from '../app/host-options.js';
import { hostOptionsRefusal } from '../app/host-option-rules.js';
import { runPerHost } from '../app/run-per-host.js';
import { planGrants, recheckGrants } from '../app/grant-disks.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { applyGrants, type ChangeOutcome, type GrantEffects } from '../dac/grant-apply.js';
import type { AclSupportProbe } from '../dac/grant-plan.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { planJson, renderApplied, renderPlanText } from '../report/grant.js';
import { decideDocuments } from '../app/decide-inputs.js';
import { readInputs, type Input } from '../adapters/inputs.js';
import { domainLabel } from '../app/domains.js';
import type { LibvirtClient } from '../libvirt/client.js';
import { failure, success, type Result } from '../result.js';

export interface GrantOptions {
  readonly apply: boolean;
  readonly json: boolean;
  /** Plan for these domains' libvirt definitions (on `uri`) instead of FILEs. */
  readonly domains?: { readonly names: readonly string[]; readonly uri: string };
}

export interface GrantDeps {
  readonly probe: AclSupportProbe;
  /** Needed only with --apply. */
  readonly effects?: GrantEffects<unknown>;
}

function decide(inputs: readonly Input[], ctx: HostContext, io: CliIo) {
  const docs = decideDocuments(inputs, ctx);
  for (const d of docs) if (!d.ok) io.stderr.write(formatDiagnostic(d.error) + '\n');
  return docs;
}

/** grant on this host: it asks the live filesystems whether they take ACLs, and (--apply) changes them. */
export async function runGrantRequest(files: readonly string[], opts: GrantOptions, host: HostOptions, io: CliIo): Promise<ExitCode> {
  const refusal = hostOptionsRefusal('grant', host);
  if (refusal) {
    io.stderr.write(`virt-seclabel: ${refusal}\n`);
    return EXIT.error;
  }
  const { createLiveGrantEffects, probeAclSupport } = await import('../adapters/live/acl-effects.js');
  const deps: GrantDeps = { probe: probeAclSupport, ...(opts.apply ? { effects: createLiveGrantEffects() } : {}) };
  const domains = opts.domains;
  if (domains) {
    const { virshClient } = await import('../adapters/libvirt/virsh-client.js');
    const client = virshClient(domains.uri);
    return runPerHost([], host, async (_names, ctx) => {
      const inputs = definitionInputs(domains.names, client);
      if (!inputs.ok) {
        io.stderr.write(`virt-seclabel: ${inputs.error}\n`);
        return EXIT.error;
      }
      return runGrantOn(inputs.value, opts, ctx, io, deps);
    }, io, { useConfig: false, cwd: process.cwd() });
  }
  return runPerHost(files, host, (names, ctx) => runGrant(names, opts, ctx, io, deps), io, { useConfig: false, cwd: process.cwd() });
}

/**
 * The named domains' persistent definitions as grant's inputs, each named `domain NAME`. A domain that
 * cannot be read, or has no persistent definition, fails the whole request: a plan is for what was asked.
 */
export function definitionInputs(names: readonly string[], client: LibvirtClient): Result<Input[], string> {
  const reads = client.readDefinitions(names);
  if (!reads.ok) return reads;
  const inputs: Input[] = [];
  for (const r of reads.value) {
    if (r.kind === 'failed') return failure(`${domainLabel(r.name)}: ${r.why}`);
    if (r.kind === 'transient') return failure(`${domainLabel(r.name)}: transient (no persistent definition)`);
    inputs.push({ name: domainLabel(r.name), path: undefined, bytes: r.xml });
  }
  return success(inputs);
}

export async function runGrant(files: readonly string[], opts: GrantOptions, ctx: HostContext, io: CliIo, deps: GrantDeps): Promise<ExitCode> {
  return runGrantOn(await readInputs(files, io.stdin), opts, ctx, io, deps);
}

export function runGrantOn(inputs: readonly Input[], opts: GrantOptions, ctx: HostContext, io: CliIo, deps: GrantDeps): ExitCode {
  const docs = decide(inputs, ctx, io);
  if (docs.some((d) => !d.ok)) return EXIT.error;
  const plan = planGrants(docs, ctx, deps.probe);
  const refused = plan.disks.some((d) => d.status === 'refused');
  if (!opts.apply) {
    io.stdout.write(opts.json ? JSON.stringify(planJson(plan), null, 2) + '\n' : renderPlanText(plan));
    return refused ? EXIT.found : EXIT.ok;
  }
  if (!deps.effects) {
    io.stderr.write('virt-seclabel: grant --apply needs the live host (not --facts)\n');
    return EXIT.error;
  }
  const outcomes: ChangeOutcome[] = [];
  for (const set of plan.changes) outcomes.push(...applyGrants(set.changes, deps.effects, set.identity.uid));
  const disks = recheckGrants(plan, decideDocuments(inputs, ctx));
  if (opts.json) io.stdout.write(JSON.stringify(planJson(plan, { outcomes, disks }), null, 2) + '\n');
  else io.stdout.write(renderPlanText(plan) + renderApplied(outcomes, disks));
  if (outcomes.some((o) => o.status !== 'applied')) return EXIT.error;
  return refused || disks.some((d) => d.nowAccessible !== true) ? EXIT.found : EXIT.ok;
}
