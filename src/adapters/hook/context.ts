/** The host context for the check: the live host (a facts snapshot is not the host libvirt starts on). */
import type { HostOptions } from '../../app/host-options.js';
import { createHostContext } from '../../app/host-context.js';
import { openHost } from '../../app/open-view.js';
import type { SvirtLabelSource } from '../../app/selinux-engine.js';
import type { HookContext } from '../../hook/judge.js';
import { failure, type Result } from '../../result.js';

export function liveHookContext(opts: HostOptions, svirtLabel: SvirtLabelSource): Result<HookContext, string> {
  if (opts.facts !== undefined) return failure('--facts cannot be used by the hook: it judges the host libvirt starts the VM on');
  const host = openHost(opts);
  if (!host.ok) return host;
  return createHostContext(host.value.view, host.value.opts, { ...host.value.env, svirtLabel });
}
