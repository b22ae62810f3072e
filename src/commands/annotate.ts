/**
 * `virt-seclabel [annotate] [FILE...]`: the filter. Writes the XML with the proven seclabels inserted,
 * or rewrites files in place, or only checks, or prints a diff. Output is produced only after every
 * input was processed, so a bad file never leaves partial output on stdout.
 */
import type { HostContext } from '../app/host-context.js';
import type { HostOptions } from '../app/host-options.js';
import { runPerHost } from '../app/run-per-host.js';
import type { AnnotateRequest } from './annotate-request.js';
import { inDocument } from '../app/process-input.js';
import { decideInput } from '../app/decide-inputs.js';
import { checkDiagnostics } from '../report/check.js';
import { needsAttention } from '../decide/domain.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { gitDiffName, unifiedDiff } from '../report/unified-diff.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { readInputs } from '../adapters/inputs.js';
import { writeFileAtomic, writeFailure } from '../adapters/atomic-write.js';
import { readDomainXml } from '../domain/read.js';
import { refusalMessage, splitDocuments } from '../xml/documents.js';

/**
 * The annotate command: files (through the host each belongs to: live, --facts, or the snapshot
 * .virt-seclabel.json maps it to) or libvirt's own definitions (commands/domains.ts).
 */
export async function runAnnotateRequest(req: AnnotateRequest, host: HostOptions, connectUri: string, io: CliIo): Promise<ExitCode> {
  const cwd = process.cwd();
  if (req.kind === 'domains') {
    const { runDomains } = await import('./domains.js');
    const { virshClient } = await import('../adapters/libvirt/virsh-client.js');
    const client = virshClient(connectUri);
    return runPerHost([], host, (_files, ctx) => runDomains({ names: req.names, mode: req.mode, pruneStale: req.pruneStale, json: req.json, expectDigest: req.expectDigest, uri: connectUri }, client, ctx, io), io, { useConfig: false, cwd });
  }
  const opts: AnnotateOptions = { inPlace: req.mode === 'in-place', check: req.mode === 'check', diff: req.mode === 'diff', pruneStale: req.pruneStale };
  // The filter still writes a document no host can be asked about, unchanged: a pipe into virsh define must receive it.
  const unmapped = req.mode === 'filter' ? (files: readonly string[]) => passThrough(files, io) : undefined;
  return runPerHost(req.files, host, (names, ctx) => runAnnotate(names, opts, ctx, io), io, { useConfig: req.useConfig, cwd, unmapped });
}

export interface AnnotateOptions {
  readonly inPlace: boolean;
  readonly check: boolean;
  readonly diff: boolean;
  readonly pruneStale: boolean;
}

const decoder = new TextDecoder();

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
    const read = readDomainXml(part.parse);
    if (!read.ok) {
      const { line, column } = read.error;
      const message = inDocument(read.error.message, parts.length > 1 ? part.index : undefined);
      io.stderr.write(formatDiagnostic({ file: input.name, line, column, severity: 'error', message }) + '\n');
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
    const o = decideInput(input, ctx, opts.pruneStale);
    for (const doc of o.documents) {
      if (!doc.ok) {
        io.stderr.write(formatDiagnostic(doc.error) + '\n');
        continue;
      }
      for (const d of doc.diagnostics) io.stderr.write(formatDiagnostic(d) + '\n');
      const stale = needsAttention(doc.decision);
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
