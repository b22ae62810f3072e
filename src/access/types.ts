/**
 * The vocabulary the engines and the decision core share: what QEMU needs on a file, and a finding an
 * engine reports about it. It sits below both, so an engine (dac/, selinux/, images/) never imports the
 * core that asks it (decide/), and the core never imports an engine.
 */

/** What QEMU needs on the top image of a disk; backing files always need only read. */
export type DiskAccess = 'read' | 'readwrite';

export type Severity = 'error' | 'warning' | 'info';

/** A finding is data (code, path, args); wording lives in the renderers and the reason string. */
export interface Finding {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly path?: string;
}
