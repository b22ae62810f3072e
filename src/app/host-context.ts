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

export interface HostContext {
  readonly view: HostView;
  readonly conn: Connection;
  readonly ports: DecisionPorts;
}

export function createHostContext(view: HostView, opts: HostOptions): Result<HostContext, string> {
  const invoker = typeof process.getuid === 'function' ? { uid: process.getuid(), gid: process.getgid!() } : undefined;
  const conn = detectConnection(view, {
    connect: opts.connect,
    qemuConfPath: opts.qemuConf,
    models: opts.models,
    user: opts.user,
    group: opts.group,
    invoker,
  });
  if (!conn.ok) return failure(conn.error);
  const ports = buildPorts(view, conn.value, opts);
  if (!ports.ok) return ports;
  return success({ view, conn: conn.value, ports: ports.value });
}
