/** `virt-seclabel explain [FILE...]` and `explain --domain NAME… | --all-domains`: options and the hand-off to commands/explain.ts. */
import { defineCommand, fileArgs, usage } from './command.js';
import { documented } from './help.js';
import { configOption, hostOptionsFrom, repeatable, withHostOptions, type RawHostArgs } from './host-args.js';

export const explainCommand = defineCommand({
  command: 'explain [files..]',
  describe: 'show the decision for every disk and model, with its reason',
  builder: (y) =>
    documented(withHostOptions(y), 'explain')
      .positional('files', { type: 'string', array: true })
      .option('json', { type: 'boolean', default: false, describe: 'JSON report (schemas/report.schema.json; with --domain/--all-domains schemas/domains.schema.json)' })
      .option('color', { choices: ['auto', 'always', 'never'] as const, default: 'auto' as const, describe: 'colour the table: auto = on a terminal unless NO_COLOR is set' })
      .option('config', configOption)
      .option('domain', repeatable('explain this domain\'s libvirt definition instead of files (repeatable)'))
      .option('all-domains', { type: 'boolean', default: false, describe: 'explain every domain libvirt defines on --connect' }),
  async run(a, io) {
    const host = hostOptionsFrom(a as unknown as RawHostArgs);
    if (!host.ok) return usage(io, host.error);
    const named = a.domain.length > 0;
    if (named || a['all-domains']) {
      if (named && a['all-domains']) return usage(io, '--domain and --all-domains cannot be combined');
      if (fileArgs(a).length > 0) return usage(io, '--domain/--all-domains read libvirt\'s definitions: give no FILE');
      if (host.value.facts !== undefined) return usage(io, '--domain/--all-domains ask the live libvirt: not with --facts');
      const { runExplainDomainsRequest } = await import('../commands/explain.js');
      return runExplainDomainsRequest(named ? a.domain : undefined, { json: a.json, color: a.color }, host.value, a.connect, io);
    }
    const { runExplainRequest } = await import('../commands/explain.js');
    return runExplainRequest(fileArgs(a), { json: a.json, color: a.color, useConfig: a.config }, host.value, io);
  },
});
