/**
 * The one place an input a command was given becomes decided documents: annotate, explain, grant, facts
 * and the domains mode all go through here, so an unreadable file, a stream of documents and a bad one
 * among them are handled the same way everywhere.
 */
import type { Input } from '../adapters/inputs.js';
import type { HostContext } from './host-context.js';
import { processInput, type DocumentOutcome, type InputOutcome } from './process-input.js';

export function decideInput(input: Input, ctx: HostContext, pruneStale: boolean): InputOutcome {
  if (!input.bytes) {
    const error = { file: input.name, line: 1, column: 1, severity: 'error' as const, message: input.readError ?? 'cannot read' };
    return { file: input.name, documents: [{ ok: false, file: input.name, error, document: undefined }], output: undefined, changed: false };
  }
  return processInput(input.name, input.bytes, ctx.conn, ctx.ports, { pruneStale });
}

/** Every document of every input, in order (a stream of documents in one input gives several). */
export function decideDocuments(inputs: readonly Input[], ctx: HostContext): DocumentOutcome[] {
  return inputs.flatMap((i) => decideInput(i, ctx, false).documents);
}
