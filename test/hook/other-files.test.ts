/**
 * The hook re-proves a relabel='no' on the other two places libvirt honours one: nvram's <source> and a
 * chardev's <source>. A stale one refuses the start at prepare begin, naming the element and the file.
 */
import { describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { runHookCheck } from '../../src/hook/check.js';
import type { HookLog } from '../../src/hook/effects.js';
import { HOOK_REFUSE_EXIT } from '../../src/hook/script.js';
import { GROUP, PASSWD, hostOptions } from '../cli/harness.js';
import { memoryView } from '../support/memory-view.js';

const view = memoryView(
  {
    '/srv': { type: 'dir', mode: 0o755 },
    '/srv/vm': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
    '/srv/vm/ok.fd': { type: 'file', mode: 0o660, uid: 1000, gid: 64055 },
    '/srv/vm/gone.fd': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 },
    '/dev': { type: 'dir', mode: 0o755 },
    '/dev/ttyS9': { type: 'char', mode: 0o600 },
  },
  { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
);

const domain = (nvram: string, serial = '') => `<domain type='kvm'>
  <name>vm1</name>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <nvram type='file'>
      <source file='${nvram}'>
        <seclabel model='dac' relabel='no'/>
      </source>
    </nvram>
  </os>
  <devices>
${serial}  </devices>
</domain>
`;

async function hook(xml: string) {
  const lines: string[] = [];
  const log: HookLog = { say: (line) => void lines.push(line) };
  const code = await runHookCheck(['vm1', 'prepare', 'begin', '-'], {
    readStdin: () => Promise.resolve(Buffer.from(xml)),
    log,
    readConfig: () => undefined,
    openContext: (svirtLabel) => createHostContext(view, hostOptions({ models: ['dac'] }), { invoker: { uid: 0, gid: 0 }, svirtLabel }),
  });
  return { code, lines };
}

describe('hook: nvram and chardev sources', () => {
  it('lets a start go on when the annotated nvram is still writable by the qemu user', async () => {
    expect(await hook(domain('/srv/vm/ok.fd'))).toEqual({ code: 0, lines: [] });
  });

  it('refuses a stale nvram annotation and a stale chardev annotation, naming each element', async () => {
    const serial = "    <serial type='dev'>\n      <source path='/dev/ttyS9'>\n        <seclabel model='dac' relabel='no'/>\n      </source>\n    </serial>\n";
    const r = await hook(domain('/srv/vm/gone.fd', serial));
    expect(r.code).toBe(HOOK_REFUSE_EXIT);
    expect(r.lines).toHaveLength(2);
    expect(r.lines[0]).toMatch(/^virt-seclabel: vm1: os\/nvram \(\/srv\/vm\/gone\.fd\): qemu \(libvirt-qemu\) can no longer access it: .*; run virt-seclabel --prune-stale/);
    expect(r.lines[1]).toMatch(/^virt-seclabel: vm1: devices\/serial\[1\] \(\/dev\/ttyS9\): qemu \(libvirt-qemu\) can no longer access it: /);
  });
});
