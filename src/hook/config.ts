/**
 * The hook's small config file (default /etc/virt-seclabel/hook.conf): `fail_on = stale | never`,
 * `#` comments. `never` keeps the check and its log lines but never refuses a start. A file that cannot
 * be read as written leaves the default (stale) in force and says why: a typo must not silently turn
 * the check off, and refusing only on proof stays the rule either way.
 */
import { dirname, join } from 'node:path';

export type FailOn = 'stale' | 'never';

export interface HookConfig {
  readonly failOn: FailOn;
}

export const DEFAULT_HOOK_CONFIG_PATH = '/etc/virt-seclabel/hook.conf';
/**
 * The hook's policy store sits next to its config file (default /etc/virt-seclabel/policy-store): `hook
 * install` fills it as root, the hook only reads it. /etc because the hook runs in libvirtd's SELinux
 * domain, which Debian's policy lets read etc_t files but not var_t or var_lib_t ones.
 */
export const hookPolicyStoreDir = (hookConfigPath: string): string => join(dirname(hookConfigPath), 'policy-store');
export const DEFAULT_HOOK_CONFIG: HookConfig = { failOn: 'stale' };

export interface ParsedHookConfig {
  readonly config: HookConfig;
  /** One sentence per line that was not understood (each names the line). */
  readonly problems: readonly string[];
}

export function parseHookConfig(text: string, file: string): ParsedHookConfig {
  let failOn: FailOn = DEFAULT_HOOK_CONFIG.failOn;
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const m = /^([A-Za-z_]+)\s*=\s*(\S+)$/.exec(line);
    if (!m) return problems.push(`${file}:${i + 1}: expected KEY = VALUE`);
    if (m[1] !== 'fail_on') return problems.push(`${file}:${i + 1}: unknown key '${m[1]}' (known: fail_on)`);
    if (m[2] !== 'stale' && m[2] !== 'never') return problems.push(`${file}:${i + 1}: fail_on = ${m[2]}: expected stale or never; using stale`);
    failOn = m[2];
    return undefined;
  });
  return { config: { failOn }, problems };
}
