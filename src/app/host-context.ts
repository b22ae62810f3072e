/**
 * The composition root: from host options to a connection and the ports the decision core asks.
 * This is the only place that knows which concrete view (live host or snapshot) and engines are used.
 */
import { failure, success, type Result } from '../result.js';
import { detectConnection, type Connection } from '../decide/connection.js';
import type { DecisionPorts } from '../decide/ports.js';
import type { HostView } from '../host/view.js';
import type { HostOptions } from './host-options.js';
import { buildPorts } from './engines.js';
import type { PolicyLoader } from './selinux-engine.js';
import type { SvirtLabelSource } from '../selinux/svirt-process.js';
import type { VirtAaHelper } from '../apparmor/virt-aa-helper.js';

export interface HostContext {
  readonly view: HostView;
  readonly conn: Connection;
  readonly ports: DecisionPorts;
  /** The same engines over another view (e.g. the host as a proposed change would leave it). */
  readonly portsOn?: (view: HostView) => Result<DecisionPorts, string>;
}

/**
 * What the host is besides its files: who runs this program (qemu:///session runs QEMU as the invoker)
 * and how the SELinux policy is obtained. The defaults are this process and the host's policy; a facts
 * snapshot records both on the host and replays them offline (src/app/open-view.ts).
 */
export interface HostEnvironment {
  readonly invoker?: { readonly uid: number; readonly gid: number };
  readonly loadPolicy?: PolicyLoader;
  /** The libvirt hook at start begin judges with the label libvirt generated; everything else with any. */
  readonly svirtLabel?: SvirtLabelSource;
  /** virt-aa-helper in dry-run mode (live), or its recorded runs (a snapshot); absent: AppArmor rows stay unknown. */
  readonly virtAaHelper?: VirtAaHelper;
}

export function processInvoker(): { uid: number; gid: number } | undefined {
  return typeof process.getuid === 'function' ? { uid: process.getuid(), gid: process.getgid!() } : undefined;
}

export function createHostContext(view: HostView, opts: HostOptions, env: HostEnvironment = { invoker: processInvoker() }): Result<HostContext, string> {
  const invoker = env.invoker;
  const conn = detectConnection(view, {
    connect: opts.connect,
    qemuConfPath: opts.qemuConf,
    models: opts.models,
    user: opts.user,
    group: opts.group,
    invoker,
  });
  if (!conn.ok) return failure(conn.error);
  const ports = buildPorts(view, conn.value, opts, env.loadPolicy, env.svirtLabel, env.virtAaHelper);
  if (!ports.ok) return ports;
  const c = conn.value;
  return success({ view, conn: c, ports: ports.value, portsOn: (other: HostView) => buildPorts(other, c, opts, env.loadPolicy, undefined, env.virtAaHelper) });
}
