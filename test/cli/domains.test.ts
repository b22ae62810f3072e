/**
 * The domains mode over a recording fake of the libvirt client and an in-memory host: the same
 * decisions as for files, transient domains skipped, --apply defining only what changes, refusing a
 * definition that changed since it was read, and checking the read-back.
 */
import { describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { runDomains, type DomainsOptions } from '../../src/commands/domains.js';
import type { DomainRead, LibvirtClient } from '../../src/libvirt/client.js';
import { failure, success } from '../../src/result.js';
import { memoryView } from '../support/memory-view.js';
import { captureIo, GROUP, hostOptions, PASSWD } from './harness.js';

const view = () =>
  memoryView(
    {
      '/srv/iso': { type: 'dir', mode: 0o755 },
      '/srv/iso/pub.iso': { type: 'file', mode: 0o644 },
      '/srv/iso/gone.iso': { type: 'file', mode: 0o600 },
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
  );

const xml = (name: string, file: string, seclabel = '') => `<domain type='kvm'>
  <name>${name}</name>
  <devices>
    <disk type='file' device='cdrom'>
      <source file='${file}'${seclabel ? `>\n        ${seclabel}\n      </source>` : '/>'}
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>
`;

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

interface FakeInfo {
  readonly persistent: boolean;
  readonly state: string;
}

/**
 * libvirt as a map of definitions, read lazily as the real client reads them; `keep: false` drops what
 * is defined (a libvirt that loses seclabels). Every read of a definition, batched or not, is a `dump`.
 */
function fakeLibvirt(domains: Record<string, { xml: string; info?: Partial<FakeInfo> }>, opts: { beforeSecondRead?: (name: string) => void; keep?: boolean } = {}) {
  const defs = new Map(Object.entries(domains).map(([n, d]) => [n, d.xml]));
  const calls: string[] = [];
  const reads = new Map<string, number>();
  const dump = (n: string) => {
    const count = (reads.get(n) ?? 0) + 1;
    reads.set(n, count);
    if (count === 2) opts.beforeSecondRead?.(n);
    calls.push(`dump ${n}`);
    const d = defs.get(n);
    return d === undefined ? failure(`failed to get domain '${n}'`) : success(enc(d));
  };
  const client: LibvirtClient = {
    readDefinitions: (names) =>
      success(
        (function* (): Generator<DomainRead> {
          for (const name of names ?? [...defs.keys()]) {
            const info = { persistent: true, state: 'shut off', ...domains[name]?.info };
            if (!defs.has(name)) yield { name, kind: 'failed', why: `failed to get domain '${name}'` };
            else if (!info.persistent) yield { name, kind: 'transient' };
            else {
              const x = dump(name);
              yield x.ok ? { name, kind: 'persistent', ref: name, running: info.state !== 'shut off', xml: x.value } : { name, kind: 'failed', why: x.error };
            }
          }
        })(),
      ),
    dumpInactive: dump,
    define: (bytes) => {
      const name = /<name>(.*)<\/name>/.exec(dec(bytes))![1]!;
      calls.push(`define ${name}`);
      if (opts.keep !== false) defs.set(name, dec(bytes));
      return success(undefined);
    },
  };
  return { client, defs, calls, redefine: (n: string, x: string) => defs.set(n, x) };
}

async function domains(client: LibvirtClient, opts: Partial<DomainsOptions>) {
  const c = captureIo();
  const ctx = createHostContext(view(), hostOptions({ models: ['dac'] }), { invoker: { uid: 0, gid: 0 } });
  if (!ctx.ok) throw new Error(ctx.error);
  const code = await runDomains({ names: undefined, mode: 'check', pruneStale: false, ...opts }, client, ctx.value, c.io);
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

const DAC = "<seclabel model='dac' relabel='no'/>";

describe('--all-domains', () => {
  it('--check names domains, skips transient ones, changes nothing', async () => {
    const lv = fakeLibvirt({ vm1: { xml: xml('vm1', '/srv/iso/pub.iso') }, t1: { xml: xml('t1', '/srv/iso/pub.iso'), info: { persistent: false } } });
    const r = await domains(lv.client, {});
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "domain vm1:5:7: warning: disk sda (/srv/iso/pub.iso): add <seclabel model='dac' relabel='no'/>\n" +
        'domain t1: note: transient (no persistent definition to annotate); skipped\n',
    );
    expect(lv.calls.filter((c) => c.startsWith('define'))).toEqual([]);
  });

  it('--apply defines only the domains that change, reads them back, and a second run changes nothing', async () => {
    const lv = fakeLibvirt({
      vm1: { xml: xml('vm1', '/srv/iso/pub.iso'), info: { state: 'running' } },
      vm2: { xml: xml('vm2', '/srv/iso/gone.iso') },
      vm3: { xml: xml('vm3', '/srv/iso/pub.iso', DAC) },
    });
    const r = await domains(lv.client, { mode: 'apply' });
    expect(r).toEqual({
      code: 0,
      stdout:
        "domain vm1: plan: add <seclabel model='dac' relabel='no'/> to disk sda\n" +
        'domain vm1: defined with 1 change(s), read back and all kept (it is running: the new definition takes effect at its next start)\n',
      stderr: '',
    });
    expect(lv.calls).toEqual(['dump vm1', 'dump vm1', 'define vm1', 'dump vm1', 'dump vm2', 'dump vm3']);
    expect(lv.defs.get('vm1')).toBe(xml('vm1', '/srv/iso/pub.iso', DAC).replace("        <seclabel", "        <seclabel"));
    const again = await domains(lv.client, { mode: 'apply' });
    expect(again).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('refuses a domain whose definition changed between read and define (that domain only, exit 2)', async () => {
    const lv = fakeLibvirt({ vm1: { xml: xml('vm1', '/srv/iso/pub.iso') }, vm2: { xml: xml('vm2', '/srv/iso/pub.iso') } }, {
      beforeSecondRead: (n) => {
        if (n === 'vm1') lv.redefine('vm1', xml('vm1', '/srv/iso/pub.iso').replace('<devices>', '<vcpu>2</vcpu>\n  <devices>'));
      },
    });
    const r = await domains(lv.client, { mode: 'apply' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('domain vm1: error: its definition changed since it was read; nothing defined (run again to decide on the new definition)\n');
    expect(lv.calls.filter((c) => c.startsWith('define'))).toEqual(['define vm2']);
  });

  it('says so when libvirt did not keep an inserted seclabel', async () => {
    const lv = fakeLibvirt({ vm1: { xml: xml('vm1', '/srv/iso/pub.iso') } }, { keep: false });
    const r = await domains(lv.client, { mode: 'apply' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("domain vm1: error: defined, but libvirt did not keep: add <seclabel model='dac' relabel='no'/> to disk sda\n");
  });

  it('--prune-stale --apply removes a stale annotation; --diff shows it first', async () => {
    const lv = fakeLibvirt({ vm2: { xml: xml('vm2', '/srv/iso/gone.iso', DAC) } });
    const diff = await domains(lv.client, { mode: 'diff', pruneStale: true });
    expect(diff.stdout).toContain('--- a/domain/vm2\n+++ b/domain/vm2\n');
    expect(diff.stdout).toContain(`-        ${DAC}`);
    const r = await domains(lv.client, { mode: 'apply', pruneStale: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("domain vm2: plan: remove the stale <seclabel model='dac' relabel='no'/> from disk sda\n");
    expect(lv.defs.get('vm2')).not.toContain('seclabel');
  });

  it('a domain libvirt cannot describe is an error for that domain only', async () => {
    const lv = fakeLibvirt({ vm1: { xml: xml('vm1', '/srv/iso/pub.iso') } });
    const r = await domains(lv.client, { names: ['nope', 'vm1'], mode: 'check' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("domain nope: error: failed to get domain 'nope'\n");
    expect(r.stderr).toContain('domain vm1:5:7: warning');
  });
});
