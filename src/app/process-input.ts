/**
 * One input (a file or standard input) through the flow: usually one domain document, sometimes a
 * stream of them (`virt-install --print-xml` prints two). Each document is decided on its own; the
 * output is the whole input again with every document's insertions, and nothing at all when any
 * document failed (no partial output).
 */
import type { Connection } from '../decide/connection.js';
import type { DecisionPorts } from '../decide/ports.js';
import type { Diagnostic } from '../decide/types.js';
import { joinDocuments, refusalMessage, splitDocuments } from '../xml/documents.js';
import { processFile, type FileOutcome } from './process-file.js';

/** A document's outcome, and which document of its input it was (undefined when the input holds one). */
export type DocumentOutcome = FileOutcome & { readonly document: number | undefined };

export interface InputOutcome {
  readonly file: string;
  readonly documents: readonly DocumentOutcome[];
  /** The whole input with every document's edits; undefined when a document failed. */
  readonly output: Uint8Array | undefined;
  readonly changed: boolean;
}

/** In a stream, every message says which document its line belongs to. */
export function inDocument(message: string, document: number | undefined): string {
  return document === undefined ? message : `document ${document}: ${message}`;
}

const labelled = (d: Diagnostic, document: number | undefined): Diagnostic => ({ ...d, message: inDocument(d.message, document) });

export function processInput(file: string, bytes: Uint8Array, conn: Connection, ports: DecisionPorts, opts: { pruneStale: boolean }): InputOutcome {
  const parts = splitDocuments(bytes);
  if (!Array.isArray(parts)) {
    const message = refusalMessage(parts);
    const failed: DocumentOutcome = { ok: false, file, error: { file, line: 1, column: 1, severity: 'error', message }, document: undefined };
    return { file, documents: [failed], output: undefined, changed: false };
  }
  const stream = parts.length > 1;
  const documents: DocumentOutcome[] = parts.map((part) => {
    const o = processFile(file, part.parse, conn, ports, opts);
    const document = stream ? part.index : undefined;
    if (!o.ok) return { ...o, error: labelled(o.error, document), document };
    return { ...o, diagnostics: o.diagnostics.map((d) => labelled(d, document)), document };
  });
  const outputs = documents.flatMap((d) => (d.ok ? [d.output] : []));
  const output = outputs.length === parts.length ? joinDocuments(parts, outputs) : undefined;
  return { file, documents, output, changed: documents.some((d) => d.ok && d.changed) };
}
