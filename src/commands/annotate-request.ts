/**
 * What `annotate` was asked to do, from its flags: one of the file modes or the domains mode, or why the
 * flags do not make one. Pure and light (the command line checks it before any command code loads).
 */
import { failure, success, type Result } from '../result.js';
import { hostOptionsRefusal } from '../app/host-option-rules.js';

export type FileMode = 'filter' | 'in-place' | 'check' | 'diff';
export type DomainsMode = 'check' | 'diff' | 'apply';

export type AnnotateRequest =
  | { readonly kind: 'files'; readonly files: readonly string[]; readonly mode: FileMode; readonly pruneStale: boolean; readonly useConfig: boolean }
  /** names undefined: every domain libvirt lists. Without a mode nothing is changed: the --check report. */
  | { readonly kind: 'domains'; readonly names: readonly string[] | undefined; readonly mode: DomainsMode; readonly pruneStale: boolean };

export interface AnnotateFlags {
  readonly files: readonly string[];
  readonly inPlace?: boolean;
  readonly check?: boolean;
  readonly diff?: boolean;
  readonly apply?: boolean;
  readonly pruneStale?: boolean;
  readonly domain?: readonly string[];
  readonly allDomains?: boolean;
  readonly facts?: string;
  readonly config?: boolean;
}

/** Flags may be missing: yargs runs the check for --help too, before the defaults are filled in. */
export function annotateRequest(f: AnnotateFlags): Result<AnnotateRequest, string> {
  const modes = (['in-place', 'check', 'diff', 'apply'] as const).filter((k) => (k === 'in-place' ? f.inPlace : f[k]));
  if (modes.length > 1) return failure(`--${modes.join(' and --')} cannot be combined`);
  const named = (f.domain ?? []).length > 0;
  const domains = named || f.allDomains === true;
  if (named && f.allDomains) return failure('--domain and --all-domains cannot be combined');
  if (domains && f.files.length > 0) return failure('--domain/--all-domains read libvirt\'s definitions: give no FILE');
  if (domains && f.inPlace) return failure('--domain/--all-domains change definitions with --apply, not --in-place');
  if (!domains && f.apply) return failure('--apply needs --domain or --all-domains');
  const refusal = domains ? hostOptionsRefusal('domains', { facts: f.facts }) : undefined;
  if (refusal) return failure(refusal);
  const pruneStale = f.pruneStale === true;
  if (domains) return success({ kind: 'domains', names: named ? f.domain : undefined, mode: f.apply ? 'apply' : f.diff ? 'diff' : 'check', pruneStale });
  const mode: FileMode = f.inPlace ? 'in-place' : f.check ? 'check' : f.diff ? 'diff' : 'filter';
  return success({ kind: 'files', files: f.files, mode, pruneStale, useConfig: f.config !== false });
}
