/** The shapes of the CLI's JSON the page reads (schemas/domains.schema.json, schemas/grant.schema.json). */
export type Status = 'left-alone' | 'needless' | 'required' | 'cannot-open' | 'unknown';

export interface ModelStatus {
  readonly status: Status;
  readonly words: string;
  readonly reason: string;
}

export interface FileRow {
  readonly kind: string;
  readonly element: string;
  readonly path: string | null;
  readonly access: string;
  /** apparmor: only on a host whose AppArmor driver is active (the per-VM profile's verdict). */
  readonly models: { readonly dac: ModelStatus; readonly selinux: ModelStatus; readonly apparmor?: ModelStatus };
}

export type DomainEntry =
  | { readonly name: string; readonly state: 'skipped' | 'failed'; readonly why: string }
  | { readonly name: string; readonly state: 'decided'; readonly running: boolean; readonly digest: string; readonly summary: string; readonly changes: number; readonly files: readonly FileRow[] };

export interface ExplainDoc {
  readonly kind: 'explain';
  readonly uri: string;
  readonly connection: { readonly models: Record<string, { readonly active: boolean; readonly why: string }> };
  readonly domains: readonly DomainEntry[];
}

export interface PlanDoc {
  readonly kind: 'plan';
  readonly domains: readonly (
    | { readonly name: string; readonly state: 'skipped' | 'failed'; readonly why: string }
    | {
        readonly name: string;
        readonly state: 'decided' | 'failed';
        readonly why?: string;
        readonly digest: string;
        readonly changes: readonly { readonly words: string }[];
        readonly diff: string;
        readonly result?: { readonly outcome: string; readonly why?: string };
      }
  )[];
}

export interface GrantDoc {
  readonly disks: readonly { readonly file: string; readonly target: string | null; readonly path: string | null; readonly status: string; readonly reason: string }[];
  readonly changes: readonly { readonly path: string; readonly command: string }[];
  readonly applied?: readonly { readonly path: string; readonly status: string; readonly spec?: string; readonly why?: string }[];
  readonly recheck?: readonly { readonly target: string | null; readonly path: string | null; readonly accessible: boolean | null; readonly reason: string }[];
}
