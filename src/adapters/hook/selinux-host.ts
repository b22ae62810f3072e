/**
 * The live side of `hook install`'s SELinux look (src/hook/selinux-install.ts): which contexts libvirt's
 * daemons run in (/proc/PID/attr/current of a running libvirtd or virtqemud), the label restorecon would
 * give the script (matchpathcon, from libselinux's utilities, which read file_contexts and the local rules
 * `semanage fcontext` adds), the label a new file inherits (its directory's), the kernel's "security"
 * initial context, and setting the script's label (security.selinux, as chcon and restorecon set it).
 * The policy itself is loaded by app/ and passed in by the command.
 */
import type * as ChildProcess from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { lazyBuiltin } from '../../builtins.js';
import { SELINUXFS } from '../../decide/connection.js';
import type { HookSelinuxHost } from '../../hook/effects.js';
import type { DaemonContext } from '../../hook/selinux-install.js';
import type { SelinuxOracle } from '../../selinux/oracle.js';
import { xattr } from '../live/xattr.js';

const childProcess = lazyBuiltin<typeof ChildProcess>('node:child_process');
/** The daemons libvirt runs QEMU domains from: the monolithic one and the modular QEMU driver. */
const DAEMONS: readonly { comm: string; type: string }[] = [{ comm: 'libvirtd', type: 'virtd_t' }, { comm: 'virtqemud', type: 'virtqemud_t' }];

const cString = (b: Buffer | string) => b.toString().replace(/\0+$/, '').trim();

function readLabel(path: string): string | undefined {
  try {
    const v = xattr().getAttributeSync(path, 'security.selinux');
    return v ? cString(Buffer.from(v)) : undefined;
  } catch {
    return undefined;
  }
}

function runningDaemons(): DaemonContext[] {
  const out: DaemonContext[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (!DAEMONS.some((d) => d.comm === comm)) continue;
      const context = cString(readFileSync(`/proc/${pid}/attr/current`));
      if (context && !out.some((o) => o.context === context)) out.push({ context, source: `the running ${comm}, pid ${pid}` });
    } catch {
      // gone since the listing, or not ours to read: the next one
    }
  }
  return out;
}

export const liveSelinuxHost = (oracle: HookSelinuxHost['oracle']): HookSelinuxHost => ({
  oracle,
  daemonContexts(policy: SelinuxOracle, security: string) {
    const running = runningDaemons();
    if (running.length > 0) return running;
    // None running: the contexts a system daemon gets, at its usual range (s0-s0:c0.c1023 under MCS,
    // s0 up to the security object's level under MLS; no level where the policy has none).
    const level = security.split(':').slice(3).join(':');
    const range = level === '' ? '' : level === 's0' ? ':s0-s0:c0.c1023' : `:s0-${level}`;
    return DAEMONS.filter((d) => policy.typeExists(d.type)).map((d) => ({
      context: `system_u:system_r:${d.type}${range}`,
      source: `assumed: no ${DAEMONS.map((x) => x.comm).join(' or ')} runs now, and a system ${d.comm} runs as ${d.type}`,
    }));
  },
  fileContextLabel(path) {
    const r = childProcess().spawnSync('matchpathcon', ['-n', path], { encoding: 'utf8', timeout: 20_000 });
    const label = r.status === 0 ? r.stdout.trim() : '';
    return label === '' || label === '<<none>>' ? undefined : label;
  },
  inheritedLabel(path) {
    // Up to the root, or to "." for a relative --hooks-dir (dirname is then its own parent).
    for (let dir = dirname(path); ; ) {
      const l = readLabel(dir);
      if (l !== undefined) return l;
      const up = dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  },
  securityContext() {
    try {
      return cString(readFileSync(`${SELINUXFS}/initial_contexts/security`)) || undefined;
    } catch {
      return undefined;
    }
  },
  label: readLabel,
  setLabel(path, context) {
    const r = childProcess().spawnSync('chcon', ['--', context, path], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`chcon ${context}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  },
});

/** Whether an SELinux kernel runs here (selinuxfs mounted with its enforce node). */
export function selinuxKernelRuns(): boolean {
  try {
    readFileSync(`${SELINUXFS}/enforce`);
    return true;
  } catch {
    return false;
  }
}
