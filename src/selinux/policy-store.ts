/**
 * Where a host keeps its binary policy: /etc/selinux/config names the store (SELINUXTYPE), and the
 * kernel loads the highest-versioned policy.N in /etc/selinux/<type>/policy/. Pure: callers read the
 * config and list the directory their own way (the live filesystem, a host view).
 */

/** SELINUXTYPE from the config text; undefined when absent. */
export function selinuxTypeFromConfig(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const m = /^\s*SELINUXTYPE\s*=\s*"?([A-Za-z0-9_.-]+)"?\s*$/.exec(raw);
    if (m) return m[1];
  }
  return undefined;
}

/** The store's policy directory for a SELINUXTYPE. */
export const policyDir = (type: string) => `/etc/selinux/${type}/policy`;

/** The highest policy.N among a directory's names; undefined when there is none. */
export function highestPolicyFile(names: readonly string[]): string | undefined {
  const versions = names.map((n) => /^policy\.([0-9]{1,3})$/.exec(n)?.[1]).filter((v): v is string => v !== undefined).map(Number);
  return versions.length === 0 ? undefined : `policy.${Math.max(...versions)}`;
}
