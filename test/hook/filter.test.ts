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

describe('refilterForThisHost: annotate --prune-stale on the live host, each change in words', () => {
  it.skipIf(process.getuid?.() !== 0)('adds where access is proven here and removes what is proven stale, byte-minimal', async () => {
    const { mkdtempSync, writeFileSync, chmodSync, rmSync } = await import('node:fs');
    const { refilterForThisHost } = await import('../../src/commands/hook.js');
    const dir = mkdtempSync('/tmp/vsl-refilter-');
    chmodSync(dir, 0o755);
    try {
      writeFileSync(`${dir}/pub.iso`, 'x');
      chmodSync(`${dir}/pub.iso`, 0o644);
      writeFileSync(`${dir}/priv.iso`, 'x');
      chmodSync(`${dir}/priv.iso`, 0o600);
      const xml = `<domain type='kvm'>
  <name>m</name>
  <devices>
    <disk type='file' device='cdrom'>
      <source file='${dir}/pub.iso'/>
      <target dev='hda' bus='ide'/>
      <readonly/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='${dir}/priv.iso'>
        <seclabel model='dac' relabel='no'/>
      </source>
      <target dev='hdb' bus='ide'/>
      <readonly/>
    </disk>
  </devices>
</domain>
`;
      const r = await refilterForThisHost(new TextEncoder().encode(xml), { connect: 'system', qemuConf: '/nonexistent/qemu.conf', user: 'libvirt-qemu', group: 'libvirt-qemu', models: ['dac'], booleans: {} });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const out = new TextDecoder().decode(r.value.output);
      expect(out).toBe(
        xml
          .replace(`<source file='${dir}/pub.iso'/>`, `<source file='${dir}/pub.iso'>\n        <seclabel model='dac' relabel='no'/>\n      </source>`)
          .replace(`<source file='${dir}/priv.iso'>\n        <seclabel model='dac' relabel='no'/>\n      </source>`, `<source file='${dir}/priv.iso'>\n      </source>`),
      );
      expect(r.value.changes).toHaveLength(2);
      expect(r.value.changes).toEqual(expect.arrayContaining([
        expect.stringMatching(/^disk hda: added <seclabel model='dac' relabel='no'\/> \(access proven on this host: libvirt-qemu can read/),
        expect.stringMatching(/^disk hdb: removed <seclabel model='dac' relabel='no'\/> \(stale on this host: .*libvirt-qemu cannot read/),
      ]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
