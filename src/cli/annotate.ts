/**
 * `virt-seclabel [annotate] [FILE...]`: the filter. Writes the XML with the proven seclabels inserted,
 * or rewrites files in place, or only checks, or prints a diff. Output is produced only after every
 * input was processed, so a bad file never leaves partial output on stdout.
 */
import type { HostContext } from '../app/host-context.js';
import { inDocument, processInput, type DocumentOutcome, type InputOutcome } from '../app/process-input.js';
import type { Diagnostic } from '../decide/types.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { gitDiffName, unifiedDiff } from '../report/unified-diff.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { readInputs, type Input } from '../adapters/inputs.js';
import { writeFileAtomic, writeFailure } from '../adapters/atomic-write.js';
import { parseDomain } from '../domain/parse.js';
import { parseXml } from '../xml/parse.js';
import { refusalMessage, splitDocuments } from '../xml/documents.js';

export interface AnnotateOptions {
  readonly inPlace: boolean;
  readonly check: boolean;
  readonly diff: boolean;
  readonly pruneStale: boolean;
}

const decoder = new TextDecoder();

export function outcomeFor(input: Input, ctx: HostContext, pruneStale: boolean): InputOutcome {
  if (!input.bytes) {
    const error = { file: input.name, line: 1, column: 1, severity: 'error' as const, message: input.readError ?? 'cannot read' };
    return { file: input.name, documents: [{ ok: false, file: input.name, error, document: undefined }], output: undefined, changed: false };
  }
  return processInput(input.name, input.bytes, ctx.conn, ctx.ports, { pruneStale });
}

/** The --check lines: what would be inserted or removed, where. */
export function checkDiagnostics(o: DocumentOutcome): Diagnostic[] {
  if (!o.ok) return [];
  return o.plan.changes.map((c) => {
    const d = o.decision.disks.find((x) => x.disk.target === c.target);
    const name = `disk ${c.target ?? '?'}${d?.disk.path ? ` (${d.disk.path})` : ''}`;
    const what = c.kind === 'insert' ? `add <seclabel model='${c.model}' relabel='no'/>` : `remove the stale <seclabel model='${c.model}' relabel='no'/>`;
    return { file: o.file, line: c.line, column: c.column, severity: 'warning' as const, message: inDocument(`${name}: ${what}`, o.document) };
  });
}

/**
 * The filter's answer for files no host can be asked about (unmapped by .virt-seclabel.json): the
 * document unchanged on stdout, still checked for well-formedness so bad input is an error as always.
 */
export async function passThrough(files: readonly string[], io: CliIo): Promise<ExitCode> {
  const inputs = await readInputs(files, io.stdin);
  if (inputs.length > 1) {
    io.stderr.write('virt-seclabel: several files need --in-place, --check or --diff (stdout takes one document)\n');
    return EXIT.error;
  }
  const input = inputs[0]!;
  if (!input.bytes) {
    io.stderr.write(formatDiagnostic({ file: input.name, line: 1, column: 1, severity: 'error', message: input.readError ?? 'cannot read' }) + '\n');
    return EXIT.error;
  }
  const parts = splitDocuments(input.bytes);
  if (!Array.isArray(parts)) {
    const message = refusalMessage(parts);
    io.stderr.write(formatDiagnostic({ file: input.name, line: 1, column: 1, severity: 'error', message }) + '\n');
    return EXIT.error;
  }
  for (const part of parts) {
    const doc = parseXml(part.parse);
    const domain = doc.ok ? parseDomain(doc.value.root) : undefined;
    const error = !doc.ok ? doc.error : domain && !domain.ok ? domain.error : undefined;
    if (error) {
      const message = inDocument(error.message, parts.length > 1 ? part.index : undefined);
      io.stderr.write(formatDiagnostic({ file: input.name, line: error.line, column: error.column, severity: 'error', message }) + '\n');
      return EXIT.error;
    }
  }
  io.stdout.write(input.bytes);
  return EXIT.ok;
}

export async function runAnnotate(files: readonly string[], opts: AnnotateOptions, ctx: HostContext, io: CliIo): Promise<ExitCode> {
  const inputs = await readInputs(files, io.stdin);
  if (opts.inPlace && inputs.some((i) => i.path === undefined)) {
    io.stderr.write('virt-seclabel: --in-place needs FILE arguments, not standard input\n');
    return EXIT.error;
  }
  if (!opts.inPlace && !opts.check && !opts.diff && inputs.length > 1) {
    io.stderr.write('virt-seclabel: several files need --in-place, --check or --diff (stdout takes one document)\n');
    return EXIT.error;
  }
  let failed = false;
  let found = false;
  const stdout: string[] = [];
  const stdoutBytes: Uint8Array[] = [];
  for (const input of inputs) {
    const o = outcomeFor(input, ctx, opts.pruneStale);
    for (const doc of o.documents) {
      if (!doc.ok) {
        io.stderr.write(formatDiagnostic(doc.error) + '\n');
        continue;
      }
      for (const d of doc.diagnostics) io.stderr.write(formatDiagnostic(d) + '\n');
      const stale = doc.decision.disks.some((d) => Object.values(d.models).some((m) => m.action === 'existing' && m.stale));
      if (doc.changed || stale) found = true;
      if (opts.check) for (const d of checkDiagnostics(doc)) io.stderr.write(formatDiagnostic(d) + '\n');
    }
    if (o.output === undefined) {
      failed = true;
      continue;
    }
    if (opts.check) continue;
    if (opts.diff) {
      stdout.push(unifiedDiff(gitDiffName('a/', o.file), gitDiffName('b/', o.file), decoder.decode(input.bytes!), decoder.decode(o.output)));
      continue;
    }
    if (opts.inPlace) {
      if (!o.changed || !input.path) continue;
      try {
        writeFileAtomic({ path: input.path, data: o.output, expected: input.bytes });
      } catch (e) {
        failed = true;
        io.stderr.write(`${input.name}: error: ${writeFailure(e)}\n`);
      }
      continue;
    }
    stdoutBytes.push(o.output);
  }
  if (failed && !opts.inPlace && !opts.check) return EXIT.error;
  for (const s of stdout) io.stdout.write(s);
  for (const b of stdoutBytes) io.stdout.write(b);
  if (failed) return EXIT.error;
  return opts.check && found ? EXIT.found : EXIT.ok;
}
