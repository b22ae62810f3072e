/** The yargs definitions of the options several commands share (host, policy, --config), and their parsing. */
import type { Argv } from 'yargs';
import { DEFAULT_QEMU_CONF, defaultQemuConf, parseBooleans, parseConnectUri, parseModels, type HostOptions } from '../app/host-options.js';
import { lazyBuiltin } from '../builtins.js';
import { failure, success, type Result } from '../result.js';

const os = lazyBuiltin<typeof import('node:os')>('node:os');

/**
 * A repeatable string option. yargs' `array: true` keeps taking words until the next option, so
 * `--boolean x=on vm.xml` swallowed the file; a plain string option repeated already collects into an
 * array, and the coercion makes one occurrence an array too.
 */
export function repeatable(describe: string) {
  return {
    type: 'string',
    requiresArg: true,
    default: [] as string[],
    describe,
    coerce: (v: string | string[]): string[] => [v].flat().map(String),
  } as const;
}

/** Options defined with repeatable(); every other option given twice is a usage error, not a silent "a,b". */
export const REPEATABLE: ReadonlySet<string> = new Set(['boolean', 'path', 'files', 'args', 'domain']);

/** yargs turns a repeated single-value option into an array; say so instead of using "a,b" as a path. */
export function singleValued(argv: Record<string, unknown>): true {
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0' || REPEATABLE.has(key) || !Array.isArray(value)) continue;
    if (key.length === 1 || /[A-Z]/.test(key)) continue; // aliases and camel-case copies: the long name reports it
    throw new Error(`--${key} given more than once`);
  }
  return true;
}

export function withHostOptions<T>(y: Argv<T>) {
  return y
    .option('connect', { alias: 'c', type: 'string', default: 'qemu:///system', describe: 'libvirt connection: qemu:///system or qemu:///session' })
    .option('qemu-conf', { type: 'string', describe: `qemu.conf to read (absent file = libvirt's defaults; default ${DEFAULT_QEMU_CONF}, for qemu:///session the invoking user's $XDG_CONFIG_HOME/libvirt/qemu.conf)` })
    .option('user', { type: 'string', describe: 'qemu user, NAME or +UID (overrides qemu.conf)' })
    .option('group', { type: 'string', describe: 'qemu group, NAME or +GID (overrides qemu.conf)' })
    .option('models', { type: 'string', describe: 'active security drivers, e.g. dac,selinux or none (default: detected)' })
    .option('policy', { type: 'string', describe: 'binary SELinux policy file (default: the live kernel or /etc/selinux/<type>/policy)' })
    .option('boolean', repeatable('SELinux boolean override NAME=on|off (repeatable)'))
    .option('facts', { type: 'string', describe: 'decide offline from a host snapshot taken with `virt-seclabel facts`' });
}

export interface RawHostArgs {
  connect: string;
  'qemu-conf'?: string;
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
  // Only a session's qemu.conf lives under HOME; an unset HOME is looked up (getpwuid) only then.
  const env = connect === 'session' ? { ...process.env, HOME: process.env.HOME || os().homedir() } : process.env;
  return success({ connect, qemuConf: a['qemu-conf'] ?? defaultQemuConf(connect, env), user: a.user, group: a.group, models, policy: a.policy, booleans, facts: a.facts });
}

/** --config: whether annotate and explain read .virt-seclabel.json to find each file's snapshot. */
export const configOption = {
  type: 'boolean',
  default: true,
  describe: 'decide each FILE against the facts snapshot the nearest .virt-seclabel.json maps it to (--no-config: this host)',
} as const;

/** --policy and --boolean, for the commands that ask the policy directly (query, labels). */
export function withPolicyOptions<T>(y: Argv<T>) {
  return y
    .option('policy', { type: 'string', describe: 'binary policy file (default: live kernel, else /etc/selinux/<type>/policy)' })
    .option('boolean', repeatable('NAME=on|off (repeatable)'));
}

/** The --boolean values, or what is wrong with one of them. */
export function booleansFrom(texts: readonly string[]): Result<Record<string, boolean>, string> {
  const booleans = parseBooleans(texts);
  return typeof booleans === 'string' ? failure(booleans) : success(booleans);
}
