/**
 * The bundled demo snapshot (samples/demo) reads as a valid snapshot and shows what it is there to show:
 * DAC and SELinux decisions both ways, with no question left unanswered.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { openHost } from '../../src/app/open-view.js';
import { runCommands } from './harness.js';

const demo = (name: string) => fileURLToPath(new URL(`../../samples/demo/${name}`, import.meta.url));

describe('samples/demo', () => {
  it('decides web01 from host.json alone, with DAC and SELinux annotations and refusals', async () => {
    const host = openHost({ connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: {}, facts: demo('host.json') });
    if (!host.ok) throw new Error(host.error);
    const ctx = createHostContext(host.value.view, host.value.opts, host.value.env);
    if (!ctx.ok) throw new Error(ctx.error);
    const out = await runCommands(ctx.value, [demo('web01.xml')]);
    expect(host.value.takeWarnings()).toEqual([]);
    const report = JSON.parse(out.explain) as { files: { disks: { target: string; models: Record<'dac' | 'selinux', { action: string }> }[] }[] };
    const byModel = (m: 'dac' | 'selinux') => new Set(report.files[0]!.disks.map((d) => d.models[m].action));
    for (const m of ['dac', 'selinux'] as const) {
      expect(byModel(m).has('annotate'), m).toBe(true);
      expect(byModel(m).has('keep'), m).toBe(true);
    }
    expect(out.checkCode).toBe(1);
  });
});
