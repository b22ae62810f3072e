/** `FILE:LINE:COL: severity: message`, the one diagnostic format on stderr (editors and CI parse it). */
import type { Diagnostic } from '../decide/types.js';

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}
