/** `virt-seclabel facts [FILE...] [--path P...] [-o FILE]`: options and the hand-off to commands/facts.ts. */
import { defineCommand, fileArgs, usage } from './command.js';
import { documented } from './help.js';
import { hostOptionsFrom, repeatable, withHostOptions, type RawHostArgs } from './host-args.js';

export const factsCommand = defineCommand({
  command: 'facts [files..]',
  describe: 'on the hypervisor: snapshot what the decisions for these domains (and --path) read, for --facts elsewhere',
  builder: (y) =>
    documented(withHostOptions(y), 'facts')
      .positional('files', { type: 'string', array: true, describe: 'domain XML files whose disks to cover (- reads stdin)' })
      .option('path', repeatable('also cover this file, device or directory tree (repeatable)'))
      .option('output', { alias: 'o', type: 'string', describe: 'write the snapshot here (default: standard output)' }),
  async run(a, io) {
    const host = hostOptionsFrom(a as unknown as RawHostArgs);
    if (!host.ok) return usage(io, host.error);
    const { runFacts } = await import('../commands/facts.js');
    return runFacts(fileArgs(a), { host: host.value, output: a.output, paths: a.path }, io);
  },
});
