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
  | {
      readonly kind: 'domains';
      readonly names: readonly string[] | undefined;
      readonly mode: DomainsMode;
      readonly pruneStale: boolean;
      /** schemas/domains.schema.json's "plan" document on stdout instead of text. */
      readonly json: boolean;
      /** --apply only what was decided on a definition with this digest (the plan a person was shown). */
      readonly expectDigest?: string;
    };

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
  readonly json?: boolean;
  readonly expectDigest?: string;
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
  if (f.json && !domains) return failure('--json is for --domain/--all-domains (a file\'s report is `explain --json`)');
  if (f.expectDigest !== undefined) {
    if (!f.apply || (f.domain ?? []).length !== 1) return failure('--expect-digest goes with --apply and one --domain');
    if (!/^[0-9a-f]{64}$/.test(f.expectDigest)) return failure('--expect-digest: expected the 64 hex digits of a sha256 (as `explain --domain NAME --json` reports it)');
  }
  if (domains)
    return success({
      kind: 'domains',
      names: named ? f.domain : undefined,
      mode: f.apply ? 'apply' : f.diff ? 'diff' : 'check',
      pruneStale,
      json: f.json === true,
      ...(f.expectDigest !== undefined && { expectDigest: f.expectDigest }),
    });
  const mode: FileMode = f.inPlace ? 'in-place' : f.check ? 'check' : f.diff ? 'diff' : 'filter';
  return success({ kind: 'files', files: f.files, mode, pruneStale, useConfig: f.config !== false });
}
