/**
 * Which host options each command may combine: the one place that says so. A command that changes or
 * judges this host (grant, facts, the hook, the domains mode) cannot decide from a facts snapshot; the
 * commands that only decide (annotate on files, explain) can.
 */
import type { HostOptions } from './host-options.js';

export type HostCommand = 'annotate' | 'explain' | 'domains' | 'facts' | 'grant' | 'hook' | 'doctor';

/** Why --facts cannot be used, for the commands that refuse it (the message names the command's reason). */
const FACTS_REFUSED: Partial<Record<HostCommand, string>> = {
  domains: '--domain/--all-domains decide on this host: --facts cannot be used',
  facts: 'facts records the live host; --facts (a snapshot) cannot be its input',
  grant: 'grant asks this host whether its filesystems support ACLs, and changes them: --facts cannot be used',
  hook: '--facts cannot be used by the hook: it judges the host libvirt starts the VM on',
  doctor: 'doctor reads the records libvirt left on this host\'s files, and undoes them: --facts cannot be used',
};

/** Why `command` cannot run with these host options, or undefined when it can. */
export function hostOptionsRefusal(command: HostCommand, opts: Pick<HostOptions, 'facts'>): string | undefined {
  return opts.facts !== undefined ? FACTS_REFUSED[command] : undefined;
}

/** Whether a command reads .virt-seclabel.json to find each file's snapshot (the decide-only commands). */
export const usesPrecommitConfig = (command: HostCommand): boolean => command === 'annotate' || command === 'explain';
