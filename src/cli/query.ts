/** `virt-seclabel query`: options and the hand-off to commands/query.ts. */
import { defineCommand, usage } from './command.js';
import { documented } from './help.js';
import { booleansFrom, withPolicyOptions } from './host-args.js';

export const queryCommand = defineCommand({
  command: 'query',
  describe: 'ask the SELinux policy: JSON Lines on stdin, or one question with -s -t -c -p',
  builder: (y) =>
    withPolicyOptions(documented(y, 'query'))
      .option('scontext', { alias: 's', type: 'string', describe: 'source (process) context, e.g. system_u:system_r:svirt_t:s0:c1,c2' })
      .option('tcontext', { alias: 't', type: 'string', describe: 'target (file) context' })
      .option('tclass', { alias: 'c', type: 'string', describe: 'object class, e.g. file or blk_file' })
      .option('perms', { alias: 'p', type: 'string', describe: 'PERM[,PERM]' })
      .option('json', { type: 'boolean', default: false, describe: 'one question: print the answer as a JSON object' }),
  async run(a, io) {
    const booleans = booleansFrom(a.boolean);
    if (!booleans.ok) return usage(io, booleans.error);
    const { runQuery } = await import('../commands/query.js');
    const perms = a.perms?.split(',').filter(Boolean);
    return runQuery({ policy: a.policy, booleans: booleans.value, scontext: a.scontext, tcontext: a.tcontext, tclass: a.tclass, perms, json: a.json }, io);
  },
});
