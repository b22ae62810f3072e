/**
 * The hook's filter for `migrate begin` and `restore begin` (libvirt takes the hook's stdout as the new
 * domain XML; empty keeps its own): the re-decided XML is written once and whole only when it differs,
 * each change is logged, and any error writes nothing; the exit is always 0 (non-zero would cancel the
 * migration or the restore).
 */
import { describe, expect, it } from 'vitest';
import { runHookCheck, type HookCheckDeps } from '../../src/hook/check.js';
import { parseInvocation } from '../../src/hook/invocation.js';

function deps(refilter: HookCheckDeps['refilter']) {
  const lines: string[] = [];
  const written: Uint8Array[] = [];
  const d: HookCheckDeps = {
    readStdin: async () => new TextEncoder().encode('<domain/>'),
    log: { say: (l: string) => void lines.push(l) },
    readConfig: () => undefined,
    openContext: () => ({ ok: false, error: 'not used' }),
    refilter,
    writeStdout: (b) => void written.push(b),
  };
  return { d, lines, written };
}

describe('migrate begin / restore begin', () => {
  it('are the two filter operations; their end and every other operation are not', () => {
    expect(parseInvocation(['vm', 'migrate', 'begin', '-'])).toEqual({ kind: 'filter', domain: 'vm', operation: 'migrate' });
    expect(parseInvocation(['vm', 'restore', 'begin', '-'])).toEqual({ kind: 'filter', domain: 'vm', operation: 'restore' });
    expect(parseInvocation(['vm', 'restore', 'end', '-'])).toEqual({ kind: 'ignored', domain: 'vm' });
  });

  it('writes the re-decided XML once and logs each change', async () => {
    const out = new TextEncoder().encode('<domain>changed</domain>');
    const { d, lines, written } = deps(() => ({ ok: true, value: { output: out, changes: ["disk hdc: added <seclabel model='dac' relabel='no'/>"] } }));
    expect(await runHookCheck(['vm', 'restore', 'begin', '-'], d)).toBe(0);
    expect(written).toEqual([out]);
    expect(lines).toEqual(["virt-seclabel: vm: restore begin: disk hdc: added <seclabel model='dac' relabel='no'/>"]);
  });

  it('writes nothing when nothing changes, on an error, or on a throw', async () => {
    for (const refilter of [
      () => ({ ok: true as const, value: { output: new Uint8Array([1]), changes: [] } }),
      () => ({ ok: false as const, error: '3:1: not well-formed' }),
      () => {
        throw new Error('boom');
      },
    ]) {
      const { d, lines, written } = deps(refilter);
      expect(await runHookCheck(['vm', 'migrate', 'begin', '-'], d)).toBe(0);
      expect(written).toEqual([]);
      if (lines.length > 0) expect(lines[0]).toMatch(/libvirt keeps its XML$/);
    }
  });
});
