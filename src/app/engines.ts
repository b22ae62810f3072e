/**
 * Binds the engines to the decision core's ports. Each engine is created lazily, per domain, so a
 * command that needs no SELinux answer never loads a policy.
 */
import { success, type Result } from '../result.js';
import type { Connection } from '../decide/connection.js';
import type { Chain, DecisionPorts } from '../decide/ports.js';
import type { Disk } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import { diskAccess } from '../decide/disk.js';
import type { HostOptions } from './host-options.js';
import { resolveChain } from '../images/chain.js';

/** The images module's chain, in the decision core's terms. */
export function chainOf(view: HostView, disk: Disk): Chain {
  if (!disk.path) return { kind: 'unprovable', reason: 'the disk has no local source path' };
  const r = resolveChain(view, { path: disk.path, format: disk.format, declared: disk.backing, access: diskAccess(disk) });
  if (r.kind === 'unprovable') return { kind: 'unprovable', reason: r.reason };
  return {
    kind: 'ok',
    files: r.files.map((f) => ({
      path: f.path,
      access: f.access,
      format: f.format,
      role: f.role === 'image' ? (f.layer === 0 ? 'top' : 'backing') : f.role,
    })),
  };
}

export function buildPorts(view: HostView, _conn: Connection, _opts: HostOptions): Result<DecisionPorts, string> {
  return success({
    resolveChain: (disk) => chainOf(view, disk),
    engineFor: (model) => ({ ok: false, reason: `the ${model} engine is not wired in yet` }),
  });
}
