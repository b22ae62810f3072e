/** The yargs definition of the host options shared by annotate, explain and facts. */
import type { Argv } from 'yargs';
import { DEFAULT_QEMU_CONF, parseBooleans, parseConnectUri, parseModels, type HostOptions } from '../app/host-options.js';
import { failure, success, type Result } from '../result.js';

export function withHostOptions<T>(y: Argv<T>) {
  return y
    .option('connect', { alias: 'c', type: 'string', default: 'qemu:///system', describe: 'libvirt connection: qemu:///system or qemu:///session' })
    .option('qemu-conf', { type: 'string', default: DEFAULT_QEMU_CONF, describe: "qemu.conf to read (absent file = libvirt's defaults)" })
    .option('user', { type: 'string', describe: 'qemu user, NAME or +UID (overrides qemu.conf)' })
    .option('group', { type: 'string', describe: 'qemu group, NAME or +GID (overrides qemu.conf)' })
    .option('models', { type: 'string', describe: 'active security drivers, e.g. dac,selinux or none (default: detected)' })
    .option('policy', { type: 'string', describe: 'binary SELinux policy file (default: the live kernel or /etc/selinux/<type>/policy)' })
    .option('boolean', { type: 'string', array: true, default: [] as string[], describe: 'SELinux boolean override NAME=on|off (repeatable)' })
    .option('facts', { type: 'string', describe: 'decide offline from a host snapshot taken with `virt-seclabel facts`' });
}

export interface RawHostArgs {
  connect: string;
  'qemu-conf': string;
  user?: string;
  group?: string;
  models?: string;
  policy?: string;
  boolean: string[];
  facts?: string;
}

export function hostOptionsFrom(a: RawHostArgs): Result<HostOptions, string> {
  const connect = parseConnectUri(a.connect);
  if (!connect) return failure(`--connect ${a.connect}: expected qemu:///system or qemu:///session`);
  let models;
  if (a.models !== undefined) {
    const m = parseModels(a.models);
    if (typeof m === 'string') return failure(`--models: ${m}`);
    models = m;
  }
  const booleans = parseBooleans(a.boolean);
  if (typeof booleans === 'string') return failure(booleans);
  return success({ connect, qemuConf: a['qemu-conf'], user: a.user, group: a.group, models, policy: a.policy, booleans, facts: a.facts });
}
