/** `virt-seclabel explain [FILE...]`: options and the hand-off to commands/explain.ts. */
import { defineCommand, fileArgs, usage } from './command.js';
import { documented } from './help.js';
import { configOption, hostOptionsFrom, withHostOptions, type RawHostArgs } from './host-args.js';

export const explainCommand = defineCommand({
  command: 'explain [files..]',
  describe: 'show the decision for every disk and model, with its reason',
  builder: (y) =>
    documented(withHostOptions(y), 'explain')
      .positional('files', { type: 'string', array: true })
      .option('json', { type: 'boolean', default: false, describe: 'JSON report (schemas/report.schema.json)' })
      .option('color', { choices: ['auto', 'always', 'never'] as const, default: 'auto' as const, describe: 'colour the table: auto = on a terminal unless NO_COLOR is set' })
      .option('config', configOption),
  async run(a, io) {
    const host = hostOptionsFrom(a as unknown as RawHostArgs);
    if (!host.ok) return usage(io, host.error);
    const { runExplainRequest } = await import('../commands/explain.js');
    return runExplainRequest(fileArgs(a), { json: a.json, color: a.color, useConfig: a.config }, host.value, io);
  },
});
