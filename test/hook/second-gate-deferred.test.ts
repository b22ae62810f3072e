/**
 * The hook reads libvirt's XML with the scanner and runs XML's second gate (fast-xml-parser) only before it
 * says or refuses anything on the document's account (src/hook/judge.ts, HookXml): a start it lets go on
 * without a word needs no second opinion, since a refusal of the gate would only have let it go on too.
 * No real document is accepted by the scanner and refused by the gate (test/xml/second-gate.test.ts), so
 * here the gate is made to refuse everything: what the hook then does with each outcome, and that every
 * other reader of a domain (annotate's) still refuses at once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const gate = vi.hoisted(() => ({ refuse: false, calls: 0 }));
vi.mock('../../src/xml/second-gate.js', async (original) => {
  const real = await original<typeof import('../../src/xml/second-gate.js')>();
  return {
    ...real,
    secondGate: (text: string, root: Parameters<typeof real.secondGate>[1]) => {
      gate.calls++;
      return gate.refuse ? { ok: false, line: 3, column: 7, message: 'second XML gate (fast-xml-parser) refuses this document: made to' } : real.secondGate(text, root);
    },
  };
});

const { runHookCheck } = await import('../../src/hook/check.js');
const { readDomainXml } = await import('../../src/domain/read.js');
const { createHostContext } = await import('../../src/app/host-context.js');
const { memoryView } = await import('../support/memory-view.js');
const { GROUP, PASSWD, hostOptions } = await import('../cli/harness.js');
const { HOOK_REFUSE_EXIT } = await import('../../src/hook/script.js');

afterEach(() => {
  gate.refuse = false;
  gate.calls = 0;
});

const view = memoryView(
  {
    '/': { type: 'dir', mode: 0o755, uid: 0, gid: 0 },
    '/srv': { type: 'dir', mode: 0o755, uid: 0, gid: 0 },
    '/srv/ok.iso': { type: 'file', mode: 0o644, uid: 0, gid: 0 },
    '/srv/locked.iso': { type: 'file', mode: 0o600, uid: 0, gid: 0 },
  },
  { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
);
const xml = (file: string) =>
  `<domain type='kvm'>\n  <name>vm1</name>\n  <devices>\n    <disk type='file' device='cdrom'><source file='${file}'><seclabel model='dac' relabel='no'/></source><target dev='hdc' bus='ide'/><readonly/></disk>\n  </devices>\n</domain>\n`;

async function prepareBegin(file: string) {
  const said: string[] = [];
  const code = await runHookCheck(['vm1', 'prepare', 'begin', '-'], {
    readStdin: () => Promise.resolve(Buffer.from(xml(file))),
    log: { say: (line) => void said.push(line) },
    readConfig: () => undefined,
    openContext: (svirtLabel) => createHostContext(view, hostOptions({ models: ['dac'] }), { invoker: { uid: 0, gid: 0 }, svirtLabel }),
  });
  return { code, said };
}

describe("the hook runs XML's second gate only before it says or refuses something", () => {
  it('a proven-accessible annotation: allowed without a word, and the gate never ran', async () => {
    gate.refuse = true;
    expect(await prepareBegin('/srv/ok.iso')).toEqual({ code: 0, said: [] });
    expect(gate.calls).toBe(0);
  });

  it('a proven-stale one: the gate runs first, and its refusal means "cannot check", never a refused start', async () => {
    gate.refuse = true;
    const r = await prepareBegin('/srv/locked.iso');
    expect(r.code).toBe(0);
    expect(r.said).toEqual(['virt-seclabel: vm1: prepare begin: cannot check: domain XML line 3 column 7: second XML gate (fast-xml-parser) refuses this document: made to; start allowed unchecked']);
    expect(gate.calls).toBe(1);
  });

  it('with the gate content, the same stale annotation refuses the start (the gate ran once)', async () => {
    const r = await prepareBegin('/srv/locked.iso');
    expect(r.code).toBe(HOOK_REFUSE_EXIT);
    expect(r.said.join('\n')).toMatch(/vm1: disk hdc \(\/srv\/locked\.iso\): .* can no longer access it/);
    expect(gate.calls).toBe(1);
  });

  it("annotate's reading of a domain still refuses at once, with the gate's position", () => {
    gate.refuse = true;
    expect(readDomainXml(Buffer.from(xml('/srv/ok.iso')))).toEqual({ ok: false, error: { line: 3, column: 7, message: 'second XML gate (fast-xml-parser) refuses this document: made to' } });
    gate.refuse = false;
    expect(readDomainXml(Buffer.from(xml('/srv/ok.iso'))).ok).toBe(true);
  });
});
