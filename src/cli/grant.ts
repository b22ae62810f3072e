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
import { planGrants, type GrantPlan } from '../app/grant-disks.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { applyGrants, type ChangeOutcome, type GrantEffects } from '../dac/grant-apply.js';
import type { AclSupportProbe } from '../dac/grant-plan.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { planJson, renderApplied, renderPlanText, type AppliedDisk } from '../report/grant.js';
import { outcomeFor } from './annotate.js';
import { readInputs, type Input } from '../adapters/inputs.js';

export interface GrantOptions {
  readonly apply: boolean;
  readonly json: boolean;
}

export interface GrantDeps {
  readonly probe: AclSupportProbe;
  /** Needed only with --apply. */
  readonly effects?: GrantEffects<unknown>;
}

function decide(inputs: readonly Input[], ctx: HostContext, io: CliIo) {
  const docs = inputs.flatMap((i) => outcomeFor(i, ctx, false).documents);
  for (const d of docs) if (!d.ok) io.stderr.write(formatDiagnostic(d.error) + '\n');
  return docs;
}

/** Decides every planned disk again (fresh reads of the host), as annotate would. */
function recheck(plan: GrantPlan, inputs: readonly Input[], ctx: HostContext): AppliedDisk[] {
  const docs = inputs.flatMap((i) => outcomeFor(i, ctx, false).documents);
  const out: AppliedDisk[] = [];
  for (const disk of plan.disks) {
    if (disk.status !== 'planned') continue;
    const doc = docs.find((d) => d.ok && d.file === disk.file && d.document === disk.document);
    const again = doc?.ok ? doc.decision.disks.find((x) => x.disk.target === disk.target && x.disk.path === disk.path) : undefined;
    if (!again) {
      out.push({ disk, nowAccessible: null, reason: 'the disk could not be decided again' });
      continue;
    }
    const dac = again.models.dac;
    out.push({ disk, nowAccessible: dac.accessible === true && dac.action === 'annotate', reason: dac.reason });
  }
  return out;
}

export async function runGrant(files: readonly string[], opts: GrantOptions, ctx: HostContext, io: CliIo, deps: GrantDeps): Promise<ExitCode> {
  const inputs = await readInputs(files, io.stdin);
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
  const disks = recheck(plan, inputs, ctx);
  if (opts.json) io.stdout.write(JSON.stringify(planJson(plan, { outcomes, disks }), null, 2) + '\n');
  else io.stdout.write(renderPlanText(plan) + renderApplied(outcomes, disks));
  if (outcomes.some((o) => o.status !== 'applied')) return EXIT.error;
  return refused || disks.some((d) => d.nowAccessible !== true) ? EXIT.found : EXIT.ok;
}
