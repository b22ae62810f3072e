/**
 * Suites that need a real reference (root, setpriv, libsepol, libvirt) skip on a developer machine that
 * lacks it, but never under CI=true: there the set-up must have installed it, so its absence is a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const inCI = process.env.CI === 'true';

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Returns a reason to skip, or undefined when everything is there. Under CI a missing requirement
 * throws, so the suite fails loudly instead of skipping quietly.
 */
export function missingRequirements(req: { root?: boolean; commands?: string[]; files?: string[] }): string | undefined {
  const missing: string[] = [];
  if (req.root && !isRoot) missing.push('root');
  for (const c of req.commands ?? []) if (!hasCommand(c)) missing.push(`command ${c}`);
  for (const f of req.files ?? []) if (!existsSync(f)) missing.push(`file ${f}`);
  if (missing.length === 0) return undefined;
  const why = `missing ${missing.join(', ')}`;
  if (inCI) throw new Error(`CI=true and ${why}: scripts/install-test-deps.sh should have installed it`);
  return why;
}
