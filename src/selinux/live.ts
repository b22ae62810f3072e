/**
 * Live mode: ask the running kernel through selinuxfs instead of reading a policy file.
 *
 * The kernel numbers classes and permissions itself (class/<c>/index, class/<c>/perms/<p>), checks each
 * context on the `context` node, and answers `scon tcon tclass` written to the `access` node with
 * `allowed decided auditallow auditdeny seqno flags` (hex, seqno decimal). That answer already includes
 * TE, conditional rules under the kernel's CURRENT booleans, constraints, MLS and typebounds.
 *
 * Booleans cannot be overridden here: the kernel only ever uses its current values. A request that
 * overrides a boolean to a value different from the kernel's current one is answered instead by the
 * policy engine on the policy the kernel loaded (the `policy` node, whose stored boolean states are the
 * kernel's current values), with the overrides applied on top.
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import type { AccessAnswer, AccessRequest } from './access.js';
import { computeAccess } from './access.js';
import type { SelinuxFs } from './selinuxfs.js';
import { loadPolicy } from './policy/load.js';
import type { Policy } from './policy/model.js';

export interface LiveStatus {
  readonly enforcing: boolean;
  readonly mls: boolean;
  /** policyvers node; undefined when the kernel does not expose it. */
  readonly policyVersion: number | undefined;
}

/** The kernel's answer carries no rule: it says what, never why. */
export type LiveAnswer =
  | {
      readonly ok: true;
      readonly allowed: boolean;
      readonly granted: string[];
      readonly denied: string[];
      /** The kernel's AVD_FLAGS_PERMISSIVE: the source domain is permissive (not enforced). */
      readonly permissive: boolean;
      readonly reason: string;
    }
  | { readonly ok: false; readonly error: string };

/** kernel's AVD_FLAGS_PERMISSIVE bit in the access reply's flags word */
const AVD_FLAGS_PERMISSIVE = 0x1;
const HEX = /^[0-9a-fA-F]{1,8}$/;
const DECIMAL = /^[0-9]{1,9}$/;

function flag(text: string | undefined): boolean | undefined {
  const t = text?.trim();
  return t === '1' ? true : t === '0' ? false : undefined;
}

/** `cur pending` as the kernel prints a boolean node. */
export function parseBooleanNode(text: string): boolean | undefined {
  const m = /^\s*([01])\s+([01])\s*$/.exec(text);
  return m ? m[1] === '1' : undefined;
}

export interface AccessReply {
  readonly allowed: number;
  readonly flags: number;
}

/** Parses the access node's reply; undefined on anything that is not the kernel's format. */
export function parseAccessReply(reply: string): AccessReply | undefined {
  const f = reply.replace(/\0+$/, '').trim().split(/\s+/);
  // Kernels before 2.6.39 print five fields (no flags); all print allowed first.
  if (f.length < 5 || f.length > 6) return undefined;
  const [allowed, decided, auditallow, auditdeny, seqno, flags = '0'] = f as [string, string, string, string, string, string?];
  if (![allowed, decided, auditallow, auditdeny, flags].every((x) => HEX.test(x)) || !DECIMAL.test(seqno)) return undefined;
  return { allowed: parseInt(allowed, 16) >>> 0, flags: parseInt(flags, 16) >>> 0 };
}

export class LiveKernel {
  private readonly classIndexes = new Map<string, number | undefined>();
  private readonly permBits = new Map<string, number | undefined>();
  private loaded: Result<Policy, string> | undefined;

  constructor(
    private readonly fs: SelinuxFs,
    readonly status: LiveStatus,
  ) {}

  /** Current boolean values (the first of `cur pending`). Unreadable nodes are left out. */
  booleans(): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const name of this.fs.listDir('booleans') ?? []) {
      const text = this.fs.readText(`booleans/${name}`);
      const value = text === undefined ? undefined : parseBooleanNode(text);
      if (value !== undefined) out.set(name, value);
    }
    return out;
  }

  classIndex(tclass: string): number | undefined {
    if (!this.classIndexes.has(tclass)) {
      const text = this.fs.readText(`class/${tclass}/index`)?.trim();
      this.classIndexes.set(tclass, text !== undefined && DECIMAL.test(text) && Number(text) > 0 ? Number(text) : undefined);
    }
    return this.classIndexes.get(tclass);
  }

  /** The permission's bit in the class's access vector (perms/<p> holds its 1-based number). */
  permBit(tclass: string, perm: string): number | undefined {
    const key = `${tclass}\0${perm}`;
    if (!this.permBits.has(key)) {
      const text = this.fs.readText(`class/${tclass}/perms/${perm}`)?.trim();
      const n = text !== undefined && DECIMAL.test(text) ? Number(text) : 0;
      this.permBits.set(key, n >= 1 && n <= 32 ? (1 << (n - 1)) >>> 0 : undefined);
    }
    return this.permBits.get(key);
  }

  /** The kernel's verdict on one context string (the `context` node refuses invalid ones with EINVAL). */
  private checkContext(context: string, which: string): string | undefined {
    // The access node parses "%s %s %hu": whitespace would shift the fields.
    if (context === '' || /\s|\0/.test(context)) return `invalid ${which} ${JSON.stringify(context)}`;
    const r = this.fs.transact('context', `${context}\0`);
    return r.ok ? undefined : `invalid ${which} ${JSON.stringify(context)}: the kernel refuses it (${r.error})`;
  }

  /** Asks the kernel, ignoring req.booleans (see liveAccess for overrides). */
  kernelAccess(req: AccessRequest): LiveAnswer {
    const bad = this.checkContext(req.scontext, 'source context') ?? this.checkContext(req.tcontext, 'target context');
    if (bad) return { ok: false, error: bad };
    const index = this.classIndex(req.tclass);
    if (index === undefined) return { ok: false, error: `unknown class ${JSON.stringify(req.tclass)} in the running policy` };
    if (req.perms.length === 0) return { ok: false, error: 'no permission requested' };
    const bits: number[] = [];
    for (const p of req.perms) {
      const bit = this.permBit(req.tclass, p);
      if (bit === undefined) return { ok: false, error: `unknown permission ${JSON.stringify(p)} for class ${req.tclass}` };
      bits.push(bit);
    }
    const r = this.fs.transact('access', `${req.scontext} ${req.tcontext} ${index}`);
    if (!r.ok) return { ok: false, error: `the kernel refused the access question: ${r.error}` };
    const reply = parseAccessReply(r.reply);
    if (!reply) return { ok: false, error: `unexpected reply from selinuxfs access: ${JSON.stringify(r.reply.slice(0, 200))}` };
    const granted = req.perms.filter((_, i) => (reply.allowed & (bits[i] as number)) !== 0);
    const denied = req.perms.filter((_, i) => (reply.allowed & (bits[i] as number)) === 0);
    const permissive = (reply.flags & AVD_FLAGS_PERMISSIVE) !== 0;
    const allowed = denied.length === 0;
    const what = `${req.tclass} { ${(allowed ? granted : denied).join(' ')} }`;
    return {
      ok: true,
      allowed,
      granted,
      denied,
      permissive,
      reason: allowed
        ? `allowed by the running kernel's policy: ${what}`
        : `denied by the running kernel's policy: ${what}${permissive ? ' (the source domain is permissive: not enforced)' : ''}`,
    };
  }

  /** The policy the kernel loaded, read once from the `policy` node, for boolean overrides. */
  loadedPolicy(): Result<Policy, string> {
    if (!this.loaded) {
      const bytes = this.fs.readBinary('policy');
      if (!bytes) this.loaded = failure('cannot read the loaded policy from selinuxfs (policy node)');
      else {
        const p = loadPolicy(bytes);
        this.loaded = p.ok ? p : failure(`the kernel's loaded policy: ${p.error.section} at ${p.error.offset}: ${p.error.message}`);
      }
    }
    return this.loaded;
  }
}

/** Reads enforce/mls/policyvers; fails when selinuxfs does not look like a mounted, policy-loaded tree. */
export function openLiveKernel(fs: SelinuxFs): Result<LiveKernel, string> {
  const enforcing = flag(fs.readText('enforce'));
  if (enforcing === undefined) return failure('selinuxfs has no readable enforce node: SELinux is not enabled');
  const mls = flag(fs.readText('mls')) ?? false;
  const vers = fs.readText('policyvers')?.trim();
  return success(new LiveKernel(fs, { enforcing, mls, policyVersion: vers && DECIMAL.test(vers) ? Number(vers) : undefined }));
}

/**
 * One question in live mode. Overrides equal to the kernel's current values change nothing and stay
 * with the kernel; any real override goes to the engine on the kernel's loaded policy (documented above).
 */
export function liveAccess(kernel: LiveKernel, req: AccessRequest): LiveAnswer | AccessAnswer {
  const overrides = Object.entries(req.booleans ?? {});
  if (overrides.length === 0) return kernel.kernelAccess(req);
  const current = kernel.booleans();
  for (const [name] of overrides) {
    if (!current.has(name)) return { ok: false, error: `unknown boolean ${JSON.stringify(name)} in the running policy` };
  }
  if (overrides.every(([name, value]) => current.get(name) === value)) return kernel.kernelAccess(req);
  const policy = kernel.loadedPolicy();
  if (!policy.ok) return { ok: false, error: `booleans cannot be overridden in the running kernel and ${policy.error}` };
  return computeAccess(policy.value, req);
}
