/** `virt-seclabel grant [FILE...] [--apply] [--json]`: options and the hand-off to commands/grant.ts. */
import { defineCommand, fileArgs, usage } from './command.js';
import { documented } from './help.js';
import { hostOptionsFrom, repeatable, withHostOptions, type RawHostArgs } from './host-args.js';

export const grantCommand = defineCommand({
  command: 'grant [files..]',
  describe: 'print (or --apply) the smallest POSIX ACL changes that let QEMU open the disks it cannot, instead of a chown',
  builder: (y) =>
    documented(withHostOptions(y), 'grant')
      .positional('files', { type: 'string', array: true, describe: 'domain XML files; - or none reads stdin' })
      .option('apply', { type: 'boolean', default: false, describe: 'apply the plan, then decide every disk again' })
      .option('json', { type: 'boolean', default: false, describe: 'JSON (schemas/grant.schema.json)' })
      .option('domain', repeatable('plan for this domain\'s libvirt definition on --connect instead of files (repeatable)')),
  async run(a, io) {
    const host = hostOptionsFrom(a as unknown as RawHostArgs);
    if (!host.ok) return usage(io, host.error);
    const named = a.domain.length > 0;
    if (named && fileArgs(a).length > 0) return usage(io, '--domain reads libvirt\'s definitions: give no FILE');
    const { runGrantRequest } = await import('../commands/grant.js');
    return runGrantRequest(fileArgs(a), { apply: a.apply, json: a.json, ...(named && { domains: { names: a.domain, uri: a.connect } }) }, host.value, io);
  },
});
