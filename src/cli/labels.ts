/** `virt-seclabel labels [--check LABEL]`: options and the hand-off to commands/labels.ts. */
import { defineCommand, usage } from './command.js';
import { documented } from './help.js';
import { booleansFrom, withPolicyOptions } from './host-args.js';

export const labelsCommand = defineCommand({
  command: 'labels',
  describe: 'list the file types the svirt process may use for disks (read-only media, shareable writable disks), with their MCS condition',
  builder: (y) =>
    withPolicyOptions(documented(y, 'labels'))
      .option('connect', { type: 'string', default: 'qemu:///system', describe: 'libvirt connection whose dynamic label to use: qemu:///system or qemu:///session' })
      .option('context', { type: 'string', describe: "another process context instead of libvirt's dynamic label (e.g. a static label)" })
      .option('check', { type: 'string', requiresArg: true, describe: 'answer for one file label (user:role:type:level) with the reason' })
      .option('json', { type: 'boolean', default: false, describe: 'JSON (schemas/labels.schema.json)' }),
  async run(a, io) {
    const booleans = booleansFrom(a.boolean);
    if (!booleans.ok) return usage(io, booleans.error);
    const { runLabelsOnHost } = await import('../commands/labels.js');
    return runLabelsOnHost({ policy: a.policy, booleans: booleans.value, connect: a.connect, context: a.context, check: a.check, json: a.json }, io);
  },
});
