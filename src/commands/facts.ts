/**
 * `virt-seclabel facts [FILE...] [--path P...] [-o host.json]`, run on the hypervisor: runs the ordinary
 * decisions for the given domains (and for synthetic domains over the given paths) against the live
 * host under a recorder, and writes what they read as a facts snapshot (schemas/facts.schema.json).
 * `--facts host.json` on annotate/explain then reaches the same decisions anywhere.
 */
import { packageVersion } from '../app/version.js';
import { resolve } from 'node:path';
import { createHostContext } from '../app/host-context.js';
import type { HostOptions } from '../app/host-options.js';
import { hostOptionsRefusal } from '../app/host-option-rules.js';
import { recordHost } from '../app/open-view.js';
import { processFile } from '../app/process-file.js';
import { createLiveView } from '../adapters/live/live-view.js';
import { enumeratePaths } from '../app/enumerate-paths.js';
import { pathDomainXml, xmlCarries, type PathDisk } from '../adapters/snapshot/path-domains.js';
import { serializeFacts } from '../adapters/snapshot/serialize.js';
import type { HostView } from '../host/view.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { decideInput } from '../app/decide-inputs.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { readInputs } from '../adapters/inputs.js';
import { writeFileAtomic, writeFailure } from '../adapters/atomic-write.js';

export interface FactsOptions {
  readonly host: HostOptions;
  /** Where to write the snapshot; undefined: standard output. */
  readonly output?: string;
  /** --path: files, devices or directories to cover besides the domains' disks. */
  readonly paths: readonly string[];
}

/** Synthetic domains carry this many paths each, so a large tree never becomes one huge document. */
const PATHS_PER_DOMAIN = 1000;

function generator(): string {
  return `virt-seclabel ${packageVersion()}`;
}

export async function runFacts(files: readonly string[], opts: FactsOptions, io: CliIo, live: HostView = createLiveView()): Promise<ExitCode> {
  const refusal = hostOptionsRefusal('facts', opts.host);
  if (refusal) {
    io.stderr.write(`virt-seclabel: ${refusal}\n`);
    return EXIT.error;
  }
  // A snapshot names host paths absolutely: relative option paths mean "from here", as for the live run.
  const host: HostOptions = { ...opts.host, qemuConf: resolve(opts.host.qemuConf), ...(opts.host.policy !== undefined && { policy: resolve(opts.host.policy) }) };
  const recording = recordHost(host, live);
  const ctx = createHostContext(recording.host.view, host, recording.host.env);
  if (!ctx.ok) {
    io.stderr.write(`virt-seclabel: ${ctx.error}\n`);
    return EXIT.error;
  }
  let failed = false;
  const inputs = files.length === 0 ? [] : await readInputs(files, io.stdin);
  for (const input of inputs) {
    for (const o of decideInput(input, ctx.value, false).documents) {
      if (!o.ok) {
        failed = true;
        io.stderr.write(formatDiagnostic(o.error) + '\n');
      }
    }
  }

  const roots = opts.paths.map((p) => resolve(p));
  // Directory listings are recorded: they let the snapshot prove a file absent (a disk whose file was
  // deleted gets the live answer, "does not exist"); the enumeration's own lstat/probe reads are not.
  const found = enumeratePaths({ ...live, listDir: (p) => recording.host.view.listDir(p) }, roots);
  for (const p of found.problems) io.stderr.write(`virt-seclabel: warning: --path ${p}\n`);
  const disks: PathDisk[] = [];
  for (const d of found.disks) {
    if (xmlCarries(d.path)) disks.push(d);
    else io.stderr.write(`virt-seclabel: warning: --path ${JSON.stringify(d.path)}: not recorded, libvirt XML cannot name this path\n`);
  }
  for (let i = 0; i < disks.length; i += PATHS_PER_DOMAIN) {
    for (const type of ['kvm', 'qemu'] as const) {
      const xml = pathDomainXml(disks.slice(i, i + PATHS_PER_DOMAIN), type);
      const o = processFile('<facts --path>', Buffer.from(xml, 'utf8'), ctx.value.conn, ctx.value.ports, { pruneStale: false });
      if (!o.ok) {
        failed = true;
        io.stderr.write(`virt-seclabel: internal error: synthetic domain for --path: ${o.error.message}\n`);
      }
    }
  }

  const facts = recording.facts({ domains: inputs.map((i) => i.name), paths: roots }, generator());
  const text = serializeFacts(facts);
  if (opts.output === undefined) io.stdout.write(text);
  else {
    try {
      writeFileAtomic({ path: opts.output, data: Buffer.from(text, 'utf8'), create: { mode: 0o644 } });
    } catch (e) {
      io.stderr.write(`${opts.output}: error: ${writeFailure(e)}\n`);
      return EXIT.error;
    }
  }
  const questions = facts.selinux?.compute.length ?? 0;
  io.stderr.write(
    `virt-seclabel: facts: ${facts.view.length} host reads, ${questions} SELinux questions for ${inputs.length} domain file(s) and ${disks.length} path(s); ${Buffer.byteLength(text)} bytes${opts.output ? ` written to ${opts.output}` : ''}\n`,
  );
  return failed ? EXIT.error : EXIT.ok;
}
