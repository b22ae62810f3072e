/**
 * The test on a real filesystem: build a tree as root (modes, owners, ACLs, SELinux labels as
 * xattrs, a qcow2 chain, a symlink, a block device node), decide live, take snapshots with the real
 * `facts` command (once for the domains, once for `--path DIR` alone), remove the tree, and decide
 * again from each snapshot: the decisions must be identical to the live ones.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHostContext, processInvoker } from '../../src/app/host-context.js';
import type { HostOptions } from '../../src/app/host-options.js';
import { openHost } from '../../src/app/open-view.js';
import { runFacts } from '../../src/commands/facts.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { captureIo, DEBIAN_POLICY } from '../cli/harness.js';
import { missingRequirements } from '../support/requirements.js';
import { runCommands, type RunOutput } from './harness.js';

const skip = missingRequirements({ root: true, commands: ['setfattr', 'setfacl', 'qemu-img', 'mknod'], files: [DEBIAN_POLICY] });
const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });

function buildTree(root: string): Record<string, string> {
  const p = (rel: string) => join(root, rel);
  const label = (rel: string, type: string) => sh('setfattr', '-n', 'security.selinux', '-v', `system_u:object_r:${type}:s0`, p(rel));
  for (const d of ['srv/iso', 'home/alice', 'images', 'dev']) sh('mkdir', '-p', p(d));
  sh('chmod', '755', root, p('srv'), p('srv/iso'), p('home'), p('dev'));
  sh('chmod', '700', p('home/alice'));
  sh('chmod', '711', p('images'));
  sh('truncate', '-s', '1M', p('srv/iso/pub.iso'), p('srv/iso/private.iso'), p('home/alice/mine.iso'), p('srv/iso/acl.iso'));
  sh('chmod', '644', p('srv/iso/pub.iso'));
  sh('chmod', '600', p('srv/iso/private.iso'));
  sh('chmod', '640', p('srv/iso/acl.iso'));
  sh('setfacl', '-m', 'u:libvirt-qemu:r', p('srv/iso/acl.iso'));
  sh('ln', '-s', 'pub.iso', p('srv/iso/latest.iso'));
  sh('qemu-img', 'create', '-q', '-f', 'qcow2', p('images/base.qcow2'), '1M');
  sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', p('images/vm.qcow2'));
  sh('chown', 'libvirt-qemu:kvm', p('images/vm.qcow2'));
  sh('chmod', '644', p('images/base.qcow2'));
  sh('mknod', p('dev/sdz'), 'b', '8', '250');
  sh('chgrp', 'disk', p('dev/sdz'));
  sh('chmod', '660', p('dev/sdz'));
  for (const [rel, type] of [
    ['srv', 'var_t'],
    ['srv/iso', 'public_content_t'],
    ['srv/iso/pub.iso', 'public_content_t'],
    ['srv/iso/private.iso', 'public_content_t'],
    ['srv/iso/acl.iso', 'virt_content_t'],
    ['srv/iso/latest.iso', 'public_content_t'],
    ['home/alice', 'user_home_dir_t'],
    ['home/alice/mine.iso', 'user_home_t'],
    ['images', 'virt_image_t'],
    ['images/base.qcow2', 'virt_image_t'],
    ['images/vm.qcow2', 'svirt_image_t'],
    ['dev/sdz', 'removable_device_t'],
  ])
    label(rel!, type!);
  const disk = (file: string, opts: { ro?: boolean; fmt?: string; block?: boolean; dev: string }) =>
    `    <disk type='${opts.block ? 'block' : 'file'}' device='disk'>\n      <driver name='qemu' type='${opts.fmt ?? 'raw'}'/>\n      <source ${opts.block ? 'dev' : 'file'}='${p(file)}'/>\n      <target dev='${opts.dev}' bus='virtio'/>\n${opts.ro ? '      <readonly/>\n' : ''}    </disk>`;
  const domain = (name: string, type: string, disks: string[]) => `<domain type='${type}'>\n  <name>${name}</name>\n  <devices>\n${disks.join('\n')}\n  </devices>\n</domain>\n`;
  return {
    'web.xml': domain('web', 'kvm', [
      disk('srv/iso/pub.iso', { ro: true, dev: 'vda' }),
      disk('srv/iso/latest.iso', { ro: true, dev: 'vdb' }),
      disk('srv/iso/private.iso', { ro: true, dev: 'vdc' }),
      disk('images/vm.qcow2', { fmt: 'qcow2', dev: 'vdd' }),
    ]),
    'lab.xml': domain('lab', 'qemu', [
      disk('srv/iso/acl.iso', { ro: true, dev: 'vda' }),
      disk('home/alice/mine.iso', { ro: true, dev: 'vdb' }),
      disk('dev/sdz', { block: true, dev: 'vdc' }),
      disk('srv/iso/gone.iso', { ro: true, dev: 'vdd' }),
    ]),
  };
}

async function decide(opts: HostOptions, files: string[]): Promise<RunOutput> {
  const host = openHost(opts);
  if (!host.ok) throw new Error(host.error);
  const ctx = opts.facts ? createHostContext(host.value.view, host.value.opts, host.value.env) : createHostContext(createLiveView(), opts, { invoker: processInvoker() });
  if (!ctx.ok) throw new Error(ctx.error);
  return runCommands(ctx.value, files);
}

describe.skipIf(skip)('facts on a real tree, decisions after the tree is gone', () => {
  it('are the live decisions, from the domains snapshot and from a --path snapshot', async () => {
    const root = mkdtempSync(join(tmpdir(), 'offline-tree-'));
    const work = mkdtempSync(join(tmpdir(), 'offline-work-'));
    try {
      const domains = buildTree(root);
      const files = Object.entries(domains).map(([name, xml]) => {
        writeFileSync(join(work, name), xml);
        return join(work, name);
      });
      const opts: HostOptions = { connect: 'system', qemuConf: join(work, 'qemu.conf'), models: ['dac', 'selinux'], policy: DEBIAN_POLICY, booleans: {} };
      writeFileSync(opts.qemuConf, 'user = "libvirt-qemu"\ngroup = "kvm"\n');
      const liveOut = await decide(opts, files);
      expect(liveOut.explain).toContain('"action": "annotate"');

      const byDomains = join(work, 'domains.json');
      const byPath = join(work, 'path.json');
      const io1 = captureIo();
      expect(await runFacts(files, { host: opts, output: byDomains, paths: [] }, io1.io), io1.stderr()).toBe(0);
      const io2 = captureIo();
      expect(await runFacts([], { host: opts, output: byPath, paths: [root] }, io2.io), io2.stderr()).toBe(0);

      rmSync(root, { recursive: true, force: true });
      // The tree is really gone: live decisions now differ.
      expect((await decide(opts, files)).explain).not.toBe(liveOut.explain);

      const base: HostOptions = { connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: {} };
      for (const snapshot of [byDomains, byPath]) {
        const off = await decide({ ...base, facts: snapshot }, files);
        expect(off.explain, snapshot).toBe(liveOut.explain);
        expect(off.check, snapshot).toBe(liveOut.check);
        expect(off.checkCode).toBe(liveOut.checkCode);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });
});
