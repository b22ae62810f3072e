/** `FILE:LINE:COL: severity: message`, the one diagnostic format on stderr (editors and CI parse it). */
import type { Severity } from '../decide/types.js';

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly severity: Severity;
  readonly message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}
