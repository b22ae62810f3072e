/**
 * The AppArmor engine for one domain: the rules of the profile libvirt would load for it (profile.ts),
 * asked for one file and the permissions QEMU needs on it. AppArmor mediates the object QEMU finally
 * opens, named by its path with symlinks resolved (a directory with a trailing '/'); search on the
 * directories on the way is not mediated. The owner rules need the file's uid and QEMU's fsuid.
 */
import type { AppArmorChecker, AppArmorVerdict } from '../access/engine.js';
import type { HostView } from '../host/view.js';
import { walkPath } from '../host/walk.js';
import { pathProblem } from '../host/errno.js';
import { evaluate, permText, ruleRef } from './evaluate.js';
import { filterSlashes } from './glob.js';
import type { FileRule, Perm } from './parse.js';


export interface AppArmorProfileRules {
  /** The profile's name (libvirt-UUID). */
  readonly name: string;
  readonly rules: readonly FileRule[];
  /** Where a site-specific rule for every domain goes, and where one for this domain's profile goes. */
  readonly localFile: string;
  readonly templateFile: string;
}

const OWNER_WORD = (r: FileRule) => (r.owner ? 'owner ' : '');

/** The rule a person would add for this path and these permissions. */
export const suggestRule = (path: string, perms: readonly Perm[]) => `"${path}" ${permText(perms)},`;

export function checkPath(
  view: HostView,
  profile: AppArmorProfileRules,
  path: string,
  needed: readonly Perm[],
  /** QEMU's fsuid, when known (the DAC identity libvirt runs it as). */
  fsuid: number | undefined,
  /** A missing file is created before QEMU opens it (libvirt's nvram): judge its path as written. */
  created = false,
): AppArmorVerdict {
  const walk = walkPath(view, path);
  let object: string;
  let uid: number | undefined;
  let missingNote = '';
  if (walk.end.kind === 'found') {
    object = walk.end.file.path + (walk.end.file.inode.type === 'dir' ? '/' : '');
    uid = walk.end.file.inode.uid;
  } else if (walk.end.kind === 'error' && walk.end.errno === 'ENOENT' && created) {
    // Not there yet, made at start (libvirt's nvram from its template): judged by its path as written.
    object = filterSlashes(path);
    missingNote = ' (it does not exist yet: judged by its path as written)';
  } else if (walk.end.kind === 'error') {
    return { accessible: null, reason: `${pathProblem(walk.end.at, walk.end.errno)}: QEMU's open fails before AppArmor is asked about it` };
  } else return { accessible: null, reason: `cannot resolve ${path}: ${walk.end.why}` };

  const named = (object === path ? path : `${path} (which is ${object})`) + missingNote;
  const isOwner = fsuid !== undefined && uid === fsuid;
  const e = evaluate(profile.rules, object, needed, isOwner);
  // When the answer turns on owner rules and QEMU's fsuid is unknown, or libvirt may chown the file at
  // start, say so rather than guess.
  if (!isOwner) {
    const asOwner = evaluate(profile.rules, object, needed, true);
    if (asOwner.verdict !== e.verdict) {
      const by = asOwner.verdict === 'allowed' ? asOwner.by.filter((r) => r.owner) : asOwner.verdict === 'denied' ? [asOwner.by] : [];
      const who = fsuid === undefined ? "QEMU's uid is unknown" : `it is owned by uid ${uid ?? '?'}, not QEMU's uid ${fsuid}, now, and libvirt's DAC driver chowns it to QEMU's user at start unless relabel='no' or dynamic_ownership = 0 says otherwise`;
      return {
        accessible: null,
        reason: `${named}: the answer turns on owner rules (${by.map((r) => `${r.file}:${r.line}`).join(', ') || 'owner rules'}), which count only while QEMU's uid owns the file; ${who}`,
        ...(by.length > 0 && { rule: by.map(ruleRef).join(' + ') }),
      };
    }
  }
  const want = permText(needed);
  if (e.verdict === 'allowed') {
    const rule = e.by.map(ruleRef).join(' + ');
    return { accessible: true, reason: `profile ${profile.name} allows ${want} on ${named}`, rule };
  }
  if (e.verdict === 'denied') {
    return {
      accessible: false,
      reason: `profile ${profile.name} denies ${permText(e.perms)} on ${named} (${OWNER_WORD(e.by)}deny rule): QEMU cannot open it; remove or narrow that rule (a deny always wins over an allow)`,
      rule: ruleRef(e.by),
    };
  }
  const have = e.partial.length > 0 ? ` (only ${e.partial.map((r) => `${OWNER_WORD(r)}${permText(r.perms)} from ${r.file}:${r.line}`).join(', ')})` : '';
  return {
    accessible: false,
    reason: `no rule of profile ${profile.name} allows ${permText(e.perms)} on ${named}${have}: QEMU cannot open it; to allow it add ${suggestRule(object, needed)} to ${profile.localFile} (every domain) or to ${profile.templateFile} (domains created from now on)`,
  };
}

/** The engine for one domain: its profile's rules, QEMU's fsuid, the host the paths are resolved on. */
export function bindAppArmor(view: HostView, profile: AppArmorProfileRules, fsuid: number | undefined): AppArmorChecker {
  return { profile: profile.name, check: (path, perms, opts) => checkPath(view, profile, path, perms, fsuid, opts?.created === true) };
}
