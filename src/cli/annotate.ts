/** `virt-seclabel [annotate] [FILE...]` and its domains mode: options and the hand-off to commands/annotate.ts. */
import { annotateRequest } from '../commands/annotate-request.js';
import { defineCommand, fileArgs, usage } from './command.js';
import { documented } from './help.js';
import { configOption, hostOptionsFrom, repeatable, withHostOptions, type RawHostArgs } from './host-args.js';

export const annotateCommand = defineCommand({
  command: ['annotate [files..]', '$0 [files..]'],
  describe: 'write the domain XML with <seclabel relabel=\'no\'/> where access is proven (stdin to stdout without FILE)',
  builder: (y) =>
    documented(withHostOptions(y), 'annotate')
      .positional('files', { type: 'string', array: true, describe: 'domain XML files; - or none reads stdin' })
      .option('in-place', { alias: 'i', type: 'boolean', default: false, describe: 'rewrite each FILE atomically' })
      .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 when a file would change or has a stale seclabel' })
      .option('diff', { type: 'boolean', default: false, describe: 'print a unified diff instead of the XML' })
      .option('prune-stale', { type: 'boolean', default: false, describe: "also remove existing relabel='no' seclabels whose files are no longer accessible" })
      .option('config', configOption)
      .option('domain', repeatable('annotate this domain\'s libvirt definition instead of files (repeatable; --check unless --diff or --apply)'))
      .option('all-domains', { type: 'boolean', default: false, describe: 'annotate every domain libvirt defines on --connect' })
      .option('apply', { type: 'boolean', default: false, describe: 'with --domain/--all-domains: redefine the domains that change (virsh define)' })
      .option('json', { type: 'boolean', default: false, describe: 'with --domain/--all-domains: each domain\'s plan (changes, diff, digest) and what --apply did as JSON (schemas/domains.schema.json)' })
      .option('expect-digest', { type: 'string', requiresArg: true, describe: 'with --apply and one --domain: refuse unless its definition still has this digest (the plan shown)' })
      .check((a) => {
        const req = annotateRequest({ ...a, files: fileArgs(a), allDomains: a['all-domains'], expectDigest: a['expect-digest'] });
        if (!req.ok) throw new Error(req.error);
        return true;
      }),
  async run(a, io) {
    const req = annotateRequest({ ...a, files: fileArgs(a), expectDigest: a['expect-digest'] });
    if (!req.ok) return usage(io, req.error);
    const host = hostOptionsFrom(a as unknown as RawHostArgs);
    if (!host.ok) return usage(io, host.error);
    const { runAnnotateRequest } = await import('../commands/annotate.js');
    return runAnnotateRequest(req.value, host.value, a.connect, io);
  },
});
