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

function topOnlyChain(disk: Disk): Chain {
  if (!disk.path) return { kind: 'unprovable', reason: 'the disk has no local source path' };
  const format = disk.format ?? 'raw';
  if (format !== 'raw' || disk.backing?.kind === 'layer')
    return { kind: 'unprovable', reason: `backing chains of ${format} images are not read yet` };
  return { kind: 'ok', files: [{ path: disk.path, access: diskAccess(disk), role: 'top', format }] };
}

export function buildPorts(_view: HostView, _conn: Connection, _opts: HostOptions): Result<DecisionPorts, string> {
  return success({
    resolveChain: topOnlyChain,
    engineFor: (model) => ({ ok: false, reason: `the ${model} engine is not wired in yet` }),
  });
}
