/**
 * `labels --check LABEL`: may the svirt process use a file with this exact label for read-only media and
 * for a shareable writable disk, on a regular file and on a block device? A dynamic label is checked for
 * every category pair libvirt could pick (the representatives of svirt-process.ts, exact for all pairs);
 * the reason is the access computation's own sentence, for the first VM context that is denied.
 */
import { failure, success, type Result } from '../result.js';
import { computeAccess } from './access.js';
import { parseContext } from './context.js';
import type { Policy } from './policy/model.js';
import { processContexts, type SvirtProcess } from './svirt-process.js';
import { MEDIA_CLASSES, MEDIA_USES, type MediaClass, type MediaUse } from './usable-types.js';

export interface LabelVerdict {
  readonly use: MediaUse;
  readonly tclass: MediaClass;
  readonly allowed: boolean;
  /** Every process context checked (one for a static label, the representatives for a dynamic one). */
  readonly processContexts: readonly string[];
  /** The first denied process context, when denied. */
  readonly deniedFor?: string;
  readonly denied: readonly string[];
  readonly reason: string;
}

export function checkLabel(policy: Policy, proc: SvirtProcess, label: string, booleans: Readonly<Record<string, boolean>>): Result<LabelVerdict[], string> {
  const target = parseContext(label);
  if (!target.ok) return failure(`LABEL ${label}: ${target.error}`);
  const contexts = processContexts(proc, target.value);
  const out: LabelVerdict[] = [];
  for (const { use, perms } of MEDIA_USES) {
    for (const tclass of MEDIA_CLASSES) {
      let verdict: LabelVerdict | undefined;
      let lastReason = '';
      for (const scontext of contexts) {
        const a = computeAccess(policy, { scontext, tcontext: label, tclass, perms, booleans });
        if (!a.ok) return failure(a.error);
        lastReason = a.reason;
        if (!a.allowed) {
          verdict = { use, tclass, allowed: false, processContexts: contexts, deniedFor: scontext, denied: a.denied, reason: a.reason };
          break;
        }
      }
      out.push(verdict ?? { use, tclass, allowed: true, processContexts: contexts, denied: [], reason: lastReason });
    }
  }
  return success(out);
}
