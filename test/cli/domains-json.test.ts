/**
 * The domains mode as JSON for programs that decide nothing (the Cockpit page): `explain --domain/--all-domains
 * --json` with each file's status per model in words and the definition's digest, the plan document of
 * --diff/--apply --json, --apply --expect-digest refusing a definition changed since its plan was shown
 * (nothing defined), and grant over a domain's definition. Every document validates against
 * schemas/domains.schema.json; a recording fake of libvirt and an in-memory host.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { runDomains, type DomainsOptions } from '../../src/commands/domains.js';
import { runExplainDomains } from '../../src/commands/explain.js';
import { definitionInputs, runGrantOn } from '../../src/commands/grant.js';
import type { DomainRead, LibvirtClient } from '../../src/libvirt/client.js';
import { failure, success } from '../../src/result.js';
import { memoryView } from '../support/memory-view.js';
import { captureIo, GROUP, hostOptions, PASSWD } from './harness.js';

const view = () =>
  memoryView(
    {
      '/srv/iso': { type: 'dir', mode: 0o755 },
      '/srv/iso/pub.iso': { type: 'file', mode: 0o644 },
      '/srv/iso/priv.img': { type: 'file', mode: 0o600 },
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
  );

const xml = (name: string, disks: string) => `<domain type='kvm'>
  <name>${name}</name>
  <devices>
${disks}  </devices>
</domain>
`;
const cdrom = (file: string, target = 'sda', seclabel = '') =>
  `    <disk type='file' device='cdrom'>\n      <source file='${file}'${seclabel ? `>\n        ${seclabel}\n      </source>` : '/>'}\n      <target dev='${target}' bus='sata'/>\n      <readonly/>\n    </disk>\n`;
const disk = (file: string, target: string) => `    <disk type='file' device='disk'>\n      <source file='${file}'/>\n      <target dev='${target}' bus='virtio'/>\n    </disk>\n`;
const DAC = "<seclabel model='dac' relabel='no'/>";
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function fakeLibvirt(domains: Record<string, string>, transient: string[] = []) {
  const defs = new Map(Object.entries(domains));
  const calls: string[] = [];
  const dump = (n: string) => {
    calls.push(`dump ${n}`);
    const d = defs.get(n);
    return d === undefined ? failure(`failed to get domain '${n}'`) : success(enc(d));
  };
  const client: LibvirtClient = {
    readDefinitions: (names) =>
      success(
        (function* (): Generator<DomainRead> {
          for (const name of names ?? [...defs.keys(), ...transient]) {
            if (transient.includes(name)) yield { name, kind: 'transient' };
            else if (!defs.has(name)) yield { name, kind: 'failed', why: `failed to get domain '${name}'` };
            else {
              const x = dump(name);
              yield x.ok ? { name, kind: 'persistent', ref: name, running: false, xml: x.value } : { name, kind: 'failed', why: x.error };
            }
          }
        })(),
      ),
    dumpInactive: dump,
    define: (bytes) => {
      const name = /<name>(.*)<\/name>/.exec(dec(bytes))![1]!;
      calls.push(`define ${name}`);
      defs.set(name, dec(bytes));
      return success(undefined);
    },
  };
  return { client, defs, calls };
}

const context = () => {
  const ctx = createHostContext(view(), hostOptions({ models: ['dac'] }), { invoker: { uid: 0, gid: 0 } });
  if (!ctx.ok) throw new Error(ctx.error);
  return ctx.value;
};

const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
const validate = ajv.compile(JSON.parse(readFileSync('schemas/domains.schema.json', 'utf8')));
function valid(doc: unknown) {
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  return doc as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function explain(client: LibvirtClient, names?: string[]) {
  const c = captureIo();
  const code = await runExplainDomains(names, { json: true }, client, context(), 'qemu:///system', c.io);
  await c.settle();
  return { code, doc: valid(JSON.parse(c.stdout())), stderr: c.stderr() };
}

async function plan(client: LibvirtClient, opts: Partial<DomainsOptions>) {
  const c = captureIo();
  const code = await runDomains({ names: undefined, mode: 'diff', pruneStale: false, json: true, uri: 'qemu:///system', ...opts }, client, context(), c.io);
  await c.settle();
  return { code, doc: valid(JSON.parse(c.stdout())), stderr: c.stderr() };
}

describe('explain --all-domains --json', () => {
  it('every domain with each file\'s status per model in words, the summary explain prints, and the digest', async () => {
    const vm1 = xml('vm1', cdrom('/srv/iso/pub.iso') + disk('/srv/iso/priv.img', 'vda'));
    const vm2 = xml('vm2', cdrom('/srv/iso/pub.iso', 'sda', DAC));
    const lv = fakeLibvirt({ vm1, vm2 }, ['t1']);
    const r = await explain(lv.client);
    expect(r.code).toBe(0);
    const status = (d: Record<string, any>) => d.files.map((f: Record<string, any>) => [f.element, f.path, f.models.dac.status, f.models.dac.words, f.models.selinux.status]); // eslint-disable-line @typescript-eslint/no-explicit-any
    const [d1, d2, t1] = r.doc.domains;
    expect(d1.digest).toBe(sha(vm1));
    expect(d1.summary).toBe('2 disks, 1 to annotate (dac 1), 1 kept');
    expect(d1.changes).toBe(1);
    expect(status(d1)).toEqual([
      ['disk sda', '/srv/iso/pub.iso', 'needless', 'libvirt will chown or relabel it although QEMU could already use it', 'left-alone'],
      ['disk vda', '/srv/iso/priv.img', 'cannot-open', 'QEMU cannot open it as it is; libvirt will chown or relabel it at start', 'left-alone'],
    ]);
    expect(d1.files[1].models.dac.reason).toMatch(/cannot read and write/);
    expect(status(d2)).toEqual([['disk sda', '/srv/iso/pub.iso', 'left-alone', 'libvirt will leave it alone', 'left-alone']]);
    expect(d2.summary).toBe('1 disk, 1 already annotated');
    expect(t1).toEqual({ name: 't1', state: 'skipped', why: 'transient (no persistent definition to annotate)' });
    expect(r.stderr).toBe('domain t1: note: transient (no persistent definition to annotate); skipped\n');
    expect(lv.calls.filter((c) => c.startsWith('define'))).toEqual([]);
  });

  it('a domain that cannot be read is an entry of its own and exit 2', async () => {
    const r = await explain(fakeLibvirt({ vm1: xml('vm1', cdrom('/srv/iso/pub.iso')) }).client, ['vm1', 'gone']);
    expect(r.code).toBe(2);
    expect(r.doc.domains.map((d: { name: string; state: string }) => [d.name, d.state])).toEqual([['vm1', 'decided'], ['gone', 'failed']]);
    expect(r.stderr).toBe("domain gone: error: failed to get domain 'gone'\n");
  });
});

describe('the plan as JSON, and --apply --expect-digest', () => {
  const vm1 = xml('vm1', cdrom('/srv/iso/pub.iso'));

  it('--diff --json: the changes in words, the diff and the digest; nothing defined', async () => {
    const lv = fakeLibvirt({ vm1 });
    const r = await plan(lv.client, { mode: 'diff' });
    expect(r.code).toBe(0);
    const d = r.doc.domains[0];
    expect(d.digest).toBe(sha(vm1));
    expect(d.changes.map((c: { words: string }) => c.words)).toEqual(["add <seclabel model='dac' relabel='no'/> to disk sda"]);
    expect(d.diff).toContain(`+        ${DAC}`);
    expect(d.result).toBeUndefined();
    expect(lv.calls.filter((c) => c.startsWith('define'))).toEqual([]);
  });

  it('--apply with the digest of the plan shown defines it and says so', async () => {
    const lv = fakeLibvirt({ vm1 });
    const r = await plan(lv.client, { mode: 'apply', names: ['vm1'], expectDigest: sha(vm1) });
    expect(r.code).toBe(0);
    expect(r.doc.domains[0].result).toEqual({ outcome: 'defined', why: 'defined with 1 change(s), read back and all kept' });
    expect(lv.defs.get('vm1')).toContain(DAC);
  });

  it('--apply refuses a definition changed since the plan was shown: nothing defined, exit 2, the words on stderr and in JSON', async () => {
    const changed = vm1.replace('<devices>', '<vcpu>2</vcpu>\n  <devices>');
    const lv = fakeLibvirt({ vm1: changed });
    const r = await plan(lv.client, { mode: 'apply', names: ['vm1'], expectDigest: sha(vm1) });
    expect(r.code).toBe(2);
    const why = `its definition changed since the plan was shown (digest ${sha(vm1).slice(0, 12)}…, now ${sha(changed).slice(0, 12)}…); nothing defined`;
    expect(r.doc.domains[0].result).toEqual({ outcome: 'refused', why });
    expect(r.stderr).toBe(`domain vm1: error: ${why}\n`);
    expect(lv.calls.filter((c) => c.startsWith('define'))).toEqual([]);
    expect(lv.defs.get('vm1')).toBe(changed);
  });
});

describe('grant --domain', () => {
  it('plans for the definition libvirt holds, named `domain NAME`', async () => {
    const lv = fakeLibvirt({ vm1: xml('vm1', disk('/srv/iso/priv.img', 'vda')) });
    const inputs = definitionInputs(['vm1'], lv.client);
    if (!inputs.ok) throw new Error(inputs.error);
    const c = captureIo();
    const code = runGrantOn(inputs.value, { apply: false, json: true }, context(), c.io, { probe: () => ({ kind: 'yes' }) });
    await c.settle();
    expect(code).toBe(0);
    const doc = JSON.parse(c.stdout());
    expect(doc.disks.map((d: { file: string; target: string; status: string }) => [d.file, d.target, d.status])).toEqual([['domain vm1', 'vda', 'planned']]);
    expect(doc.changes.map((g: { command: string }) => g.command)).toEqual([expect.stringMatching(/^setfacl -n -m u:.*:rw-,m::rw- \/srv\/iso\/priv\.img$/)]);
  });

  it('refuses a domain that cannot be read or is transient', () => {
    const lv = fakeLibvirt({}, ['t1']);
    expect(definitionInputs(['gone'], lv.client)).toEqual({ ok: false, error: "domain gone: failed to get domain 'gone'" });
    expect(definitionInputs(['t1'], lv.client)).toEqual({ ok: false, error: 'domain t1: transient (no persistent definition)' });
  });
});

describe('the status words', () => {
  it('say what happens at start where QEMU cannot open the file: a stale relabel=no fails the start', async () => {
    const lv = fakeLibvirt({ vm1: xml('vm1', disk('/srv/iso/priv.img', 'vda').replace("<source file='/srv/iso/priv.img'/>", `<source file='/srv/iso/priv.img'>\n        ${DAC}\n      </source>`)) });
    const r = await explain(lv.client);
    const m = r.doc.domains[0].files[0].models.dac;
    expect([m.status, m.words, m.action]).toEqual(['cannot-open', 'QEMU cannot open it; the start will fail', 'existing']);
  });
});
