/**
 * AppArmor decisions offline: `facts` records what they read (the profile sources under /etc/apparmor.d
 * through the view, and each virt-aa-helper dry run under the digest of the request), a facts file is
 * written and parsed back, and `--facts` replays it to the very same rows, without virt-aa-helper. An
 * XML the snapshot never saw is unknown and says to take the snapshot again. A recorded refusal replays
 * as a refusal.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { openSnapshot, recordHost } from '../../src/app/open-view.js';
import { processFile, type FileOutcome } from '../../src/app/process-file.js';
import { serializeFacts } from '../../src/adapters/snapshot/serialize.js';
import { parseFacts } from '../../src/adapters/snapshot/parse.js';
import { VAH_RECORD_DIR, VIRT_AA_HELPER } from '../../src/apparmor/virt-aa-helper.js';
import { QEMU_TEMPLATE } from '../../src/apparmor/libvirt-profile.js';
import { hostOptions } from '../cli/harness.js';
import type { HostContext } from '../../src/app/host-context.js';

const ready = existsSync(VIRT_AA_HELPER) && existsSync(QEMU_TEMPLATE) && existsSync('/etc/apparmor.d/abstractions/base') && process.getuid?.() === 0;
const DIR = `/srv/vsl-aa-off-${process.pid}`;
const xml = (uuid: string, body: string) =>
  `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n  <name>off-${uuid.slice(-4)}</name>\n  <uuid>${uuid}</uuid>\n  <memory>65536</memory>\n  <os><type arch='x86_64'>hvm</type></os>\n${body}</domain>\n`;
const GOOD = xml(
  '6f0a0000-0000-4000-8000-000000000001',
  `  <devices>\n    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${DIR}/a.iso'/><target dev='sda'/><readonly/></disk>\n  </devices>\n  <qemu:commandline>\n    <qemu:arg value='-drive'/>\n    <qemu:arg value='file=${DIR}/b.img,format=raw,if=none,id=b'/>\n  </qemu:commandline>\n`,
);
const REFUSED = xml('6f0a0000-0000-4000-8000-000000000002', `  <devices>\n    <disk type='file' device='disk'><source file='/etc/vsl-aa-off.img'/><target dev='vda'/></disk>\n  </devices>\n`);

const rows = (o: FileOutcome) => {
  if (!o.ok) throw new Error(o.error.message);
  return [...o.decision.disks.map((d) => d.apparmor), ...(o.decision.files ?? []).map((f) => f.apparmor)];
};
const decide = (ctx: HostContext, text: string) => processFile('d.xml', new TextEncoder().encode(text), ctx.conn, ctx.ports, { pruneStale: false });

beforeAll(() => {
  if (!ready) return;
  mkdirSync(DIR, { recursive: true });
  writeFileSync(`${DIR}/a.iso`, 'x');
  writeFileSync(`${DIR}/b.img`, 'x');
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

describe.runIf(ready || process.env.CI === 'true')('AppArmor rows from a facts snapshot', () => {
  it('replay gives the live rows, and the snapshot holds the profile sources and the dry runs', () => {
    const opts = hostOptions({ models: ['dac', 'apparmor'] });
    const rec = recordHost(opts);
    const live = createHostContext(rec.host.view, rec.host.opts, rec.host.env);
    if (!live.ok) throw new Error(live.error);
    const liveGood = rows(decide(live.value, GOOD));
    const liveRefused = rows(decide(live.value, REFUSED));
    expect(liveGood.map((r) => r?.accessible)).toEqual([true, false]);
    expect(liveRefused[0]?.reason).toContain('skipped restricted file');

    const text = serializeFacts(rec.facts({ domains: ['d.xml'], paths: [] }, 'test'));
    const facts = parseFacts(text);
    if (!facts.ok) throw new Error(facts.error);
    const paths = new Set(facts.value.view.map((c) => c.path));
    for (const p of [QEMU_TEMPLATE, '/etc/apparmor.d/abstractions/libvirt-qemu', '/etc/apparmor.d/tunables/global', '/etc/apparmor.d/abstractions/base'])
      expect(paths.has(p), p).toBe(true);
    expect([...paths].filter((p) => p.startsWith(`${VAH_RECORD_DIR}/`))).toHaveLength(2);

    const snap = openSnapshot(facts.value, hostOptions({ facts: 'snap.json' }));
    if (!snap.ok) throw new Error(snap.error);
    const off = createHostContext(snap.value.view, snap.value.opts, snap.value.env);
    if (!off.ok) throw new Error(off.error);
    expect(rows(decide(off.value, GOOD))).toEqual(liveGood);
    expect(rows(decide(off.value, REFUSED))).toEqual(liveRefused);
    expect(snap.value.takeWarnings()).toEqual([]);

    // Another XML: not in the snapshot, so unknown, with what to do.
    const changed = rows(decide(off.value, GOOD.replace('</devices>', "  <disk type='file' device='disk'><source file='/srv/other.img'/><target dev='vdb'/></disk>\n  </devices>")));
    expect(changed.every((r) => r?.accessible === null)).toBe(true);
    expect(changed[0]?.reason).toContain('the snapshot holds no virt-aa-helper run for this domain XML');
  });
});
