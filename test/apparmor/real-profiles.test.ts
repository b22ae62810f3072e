/**
 * The AppArmor rows on this host's real references: the host's own virt-aa-helper (dry run) generates
 * each domain's rules, the profile is the host's /etc/apparmor.d (TEMPLATE.qemu, abstractions/libvirt-qemu,
 * tunables, local/), and every verdict is checked twice:
 *
 * - against what these cases are known to do under libvirt (a disk in the pool, an ISO in /srv, a chain
 *   whose backing file lies outside the pool, firmware and nvram in odd places: virt-aa-helper adds them;
 *   a <qemu:commandline> file: it does not; a path under /etc: it refuses the domain);
 * - against apparmor_parser's own compilation of the very same profile (`-Q -D rule-exprs`: every rule
 *   after includes and variables, its regular expression and its permission bits, owner and other, allow
 *   and deny): the verdict computed from the parser's rules must be the engine's, file by file.
 *
 * The kernel itself is the guest suite's reference (a real AppArmor kernel); here the parser stands in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { createLiveVirtAaHelper } from '../../src/adapters/live/virt-aa-helper.js';
import { createHostContext, type HostContext } from '../../src/app/host-context.js';
import { processFile, type ProcessedFile } from '../../src/app/process-file.js';
import { fileJson, reportJson } from '../../src/report/json.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { domainProfile, profileFromTemplate, QEMU_TEMPLATE } from '../../src/apparmor/libvirt-profile.js';
import { parseDryRun, refusedPathAdvice, VIRT_AA_HELPER } from '../../src/apparmor/virt-aa-helper.js';
import { hostOptions } from '../cli/harness.js';

const PARSER = '/usr/sbin/apparmor_parser';
const ready = existsSync(VIRT_AA_HELPER) && existsSync(PARSER) && existsSync(QEMU_TEMPLATE) && existsSync('/etc/apparmor.d/abstractions/base') && process.getuid?.() === 0;

const ID = `vsl-aa-${process.pid}`;
const SRV = `/srv/${ID}`;
const IMG = '/var/lib/libvirt/images';
const TOP = `${IMG}/${ID}-top.qcow2`;
const DISK = `${IMG}/${ID}-disk.qcow2`;
const BASE = `${SRV}/base/base.qcow2`;
const ISO = `${SRV}/iso/install.iso`;
const EXTRA = `${SRV}/extra.img`;
const CODE = `${SRV}/fw/CODE.fd`;
const VARS = `${SRV}/odd/vm_VARS.fd`;
const SO_DIR = `/run/qemu/${ID}`;
const SO = `${SO_DIR}/x.so`;
const FWCFG = '/usr/share/qemu/kvmvapic.bin';
const QEMU_UID = Number(spawnSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' }).stdout.trim());
const work = mkdtempSync(join(tmpdir(), 'aa-real-'));

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};

const uuid = (n: number) => `5e1ab0a0-0000-4000-8000-${String(n).padStart(12, '0')}`;
const domain = (n: number, body: string, ns = '') =>
  `<domain type='kvm'${ns}>\n  <name>${ID}-${n}</name>\n  <uuid>${uuid(n)}</uuid>\n  <memory>65536</memory>\n  <os>\n    <type arch='x86_64'>hvm</type>\n${body.includes('<loader') ? '' : ''}  </os>\n${body}</domain>\n`;

const DOMAINS = {
  pool: domain(1, `  <devices>\n    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${DISK}'/><target dev='vda'/></disk>\n  </devices>\n`),
  iso: domain(2, `  <devices>\n    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${ISO}'/><target dev='sda'/><readonly/></disk>\n  </devices>\n`),
  chain: domain(3, `  <devices>\n    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${TOP}'/><target dev='vda'/></disk>\n  </devices>\n`),
  cmdline: domain(
    4,
    `  <devices>\n    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${DISK}'/><target dev='vda'/></disk>\n  </devices>\n  <qemu:commandline>\n    <qemu:arg value='-drive'/>\n    <qemu:arg value='file=${EXTRA},format=raw,if=none,id=extra0'/>\n    <qemu:arg value='-fw_cfg'/>\n    <qemu:arg value='name=opt/vsl/vapic,file=${FWCFG}'/>\n    <qemu:arg value='-drive'/>\n    <qemu:arg value='file=${SO},format=raw,if=none,id=so0'/>\n  </qemu:commandline>\n`,
    " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'",
  ),
  firmware: domain(5, `  <devices>\n    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${DISK}'/><target dev='vda'/></disk>\n  </devices>\n`).replace(
    '  </os>',
    `    <loader readonly='yes' type='pflash'>${CODE}</loader>\n    <nvram>${VARS}</nvram>\n  </os>`,
  ),
  restricted: domain(6, `  <devices>\n    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/etc/${ID}.img'/><target dev='vda'/></disk>\n    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${DISK}'/><target dev='vdb'/></disk>\n  </devices>\n`),
} as const;

let ctx: HostContext;
const decided = new Map<keyof typeof DOMAINS, ProcessedFile>();

beforeAll(() => {
  if (!ready) return;
  for (const d of [`${SRV}/base`, `${SRV}/iso`, `${SRV}/fw`, `${SRV}/odd`, SO_DIR]) mkdirSync(d, { recursive: true });
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', BASE, '1M']);
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', BASE, '-F', 'qcow2', TOP]);
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', DISK, '1M']);
  for (const f of [ISO, EXTRA, CODE, VARS, SO]) writeFileSync(f, Buffer.alloc(4096));
  // QEMU's own file as far as DAC goes: only AppArmor stands in the way.
  sh('chown', ['libvirt-qemu:libvirt-qemu', EXTRA]);
  const c = createHostContext(createLiveView(), hostOptions({ models: ['dac', 'apparmor'] }), { virtAaHelper: createLiveVirtAaHelper() });
  if (!c.ok) throw new Error(c.error);
  ctx = c.value;
  for (const [k, xml] of Object.entries(DOMAINS)) {
    const o = processFile(`${k}.xml`, new TextEncoder().encode(xml), ctx.conn, ctx.ports, { pruneStale: false });
    if (!o.ok) throw new Error(`${k}: ${o.error.message}`);
    decided.set(k as keyof typeof DOMAINS, o);
  }
});

afterAll(() => {
  for (const p of [SRV, SO_DIR, TOP, DISK, work]) rmSync(p, { recursive: true, force: true });
});

/** apparmor_parser's compilation of a domain's profile: per rule, its regex and its permission bits. */
interface ParserRule {
  readonly re: RegExp;
  readonly deny: boolean;
  readonly mode: number;
}
const parserRules = new Map<string, ParserRule[]>();

function compiledByParser(u: string, xml: string): ParserRule[] {
  const have = parserRules.get(u);
  if (have) return have;
  const run = spawnSync(VIRT_AA_HELPER, ['-d', '-c', '-u', `libvirt-${u}`], { input: xml, encoding: 'utf8', env: {} });
  const gen = parseDryRun(u, { kind: 'ran', status: run.status ?? -1, stderr: run.stderr });
  if (!gen.ok) throw new Error(gen.why);
  const dir = join(work, u);
  mkdirSync(join(dir, 'libvirt'), { recursive: true });
  writeFileSync(join(dir, 'libvirt', `libvirt-${u}.files`), gen.rules);
  const made = profileFromTemplate(readFileSync(QEMU_TEMPLATE, 'utf8'), u);
  if (!made.ok) throw new Error(made.reason);
  writeFileSync(join(dir, 'profile'), made.text);
  const out = spawnSync(PARSER, ['-Q', '-I', dir, '-D', 'rule-exprs', join(dir, 'profile')], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  const rules: ParserRule[] = [];
  const lines = out.stderr.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const a = /^aare: (.*) {3}-> {3}(.*)$/.exec(lines[i]!);
    const r = /^rule: .* {2}-> {2}.* (deny )?\(0x([0-9a-f]+)\/[0-9a-f]+\)/.exec(lines[i + 1] ?? '');
    if (!a || !r) continue;
    let re: RegExp;
    try {
      re = new RegExp(`^${a[2]!}$`, 's');
    } catch {
      continue; // not a path rule (unix, dbus, …): never matches a path here
    }
    rules.push({ re, deny: r[1] !== undefined, mode: parseInt(r[2]!, 16) });
  }
  parserRules.set(u, rules);
  return rules;
}

/** The parser's bits: read 4, write 2, lock 0x20; owner ("user") bits low, "other" bits << 14. */
const BIT = { r: 0x4, w: 0x2, k: 0x20 } as const;
function parserVerdict(rules: readonly ParserRule[], path: string, perms: readonly ('r' | 'w' | 'k')[], owner: boolean): boolean {
  const shift = owner ? 0 : 14;
  let allow = 0;
  let deny = 0;
  for (const r of rules) {
    if (!r.re.test(path)) continue;
    if (r.deny) deny |= r.mode;
    else allow |= r.mode;
  }
  const eff = (allow & ~deny) >> shift;
  return perms.every((p) => (eff & BIT[p]) !== 0);
}

const ABSTRACTION = '/etc/apparmor.d/abstractions/libvirt-qemu';
/** `FILE:LINE: TEXT` of the line of the host's file that holds exactly this rule. */
const at = (file: string, text: string) => `${file}:${readFileSync(file, 'utf8').split('\n').findIndex((l) => l.trim() === text) + 1}: ${text}`;
const disk = (k: keyof typeof DOMAINS, target: string) => decided.get(k)!.decision.disks.find((d) => d.disk.target === target)!;
const other = (k: keyof typeof DOMAINS, where: string) => decided.get(k)!.decision.files!.find((f) => f.file.where.startsWith(where))!;

describe.runIf(ready || process.env.CI === 'true')("apparmor rows from this host's virt-aa-helper and /etc/apparmor.d", () => {
  it('a disk in the pool: allowed by the rule virt-aa-helper generated for it (rwk)', () => {
    const a = disk('pool', 'vda').apparmor!;
    expect(a).toMatchObject({ action: 'n/a', accessible: true });
    expect(a.rule).toBe(`/etc/apparmor.d/libvirt/libvirt-${uuid(1)}.files:6: "${DISK}" rwk,`);
  });

  it('an ISO in /srv: rk from its generated rule; the generated deny w does not touch a read-only disk', () => {
    const a = disk('iso', 'sda').apparmor!;
    expect(a).toMatchObject({ accessible: true, rule: `/etc/apparmor.d/libvirt/libvirt-${uuid(2)}.files:6: "${ISO}" rk,` });
  });

  it('a chain whose backing file is outside the pool: the whole chain, each layer by its own rule', () => {
    const a = disk('chain', 'vda').apparmor!;
    expect(a.accessible).toBe(true);
    expect(a.reason).toContain(`"${TOP}" rwk,`);
    expect(a.reason).toContain(`backing file profile libvirt-${uuid(3)} allows rk on ${BASE}`);
    expect(a.reason).toContain(`"${BASE}" rk,`);
  });

  it('<qemu:commandline> files: virt-aa-helper adds none; what the abstraction allows is allowed, the rest refused with the rule to add', () => {
    const extra = other('cmdline', 'qemu:commandline/arg[2]').apparmor!;
    expect(extra.accessible).toBe(false);
    expect(extra.reason).toContain(`no rule of profile libvirt-${uuid(4)} allows rwk on ${EXTRA}`);
    expect(extra.reason).toContain(`add "${EXTRA}" rwk, to /etc/apparmor.d/local/abstractions/libvirt-qemu`);
    expect(extra.rule).toBeUndefined();
    const fw = other('cmdline', 'qemu:commandline/arg[4]').apparmor!;
    expect(fw).toMatchObject({ accessible: true, rule: at(ABSTRACTION, '/usr/share/qemu/** r,') });
    const so = other('cmdline', 'qemu:commandline/arg[6]').apparmor!;
    expect(so).toMatchObject({ accessible: false, rule: at(ABSTRACTION, 'audit deny /{var/,}run/qemu/*/*.so w,') });
    // The file is the qemu user's, so DAC lets QEMU open it: the row and a warning say AppArmor does not.
    const e = other('cmdline', 'qemu:commandline/arg[2]');
    expect(e.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    const warn = e.findings.find((f) => f.code === 'apparmor-denied');
    expect(warn?.message).toMatch(/^DAC lets QEMU open it, but AppArmor does not: no rule of profile .* QEMU cannot open it/);
  });

  it('firmware and nvram in odd places: virt-aa-helper adds them (rk, rwk)', () => {
    // The generated .files: the five per-domain lines, the disk, then the loader (and its deny w) and the nvram.
    expect(other('firmware', 'os/loader').apparmor).toMatchObject({ accessible: true, rule: `/etc/apparmor.d/libvirt/libvirt-${uuid(5)}.files:7: "${CODE}" rk,` });
    expect(other('firmware', 'os/nvram').apparmor).toMatchObject({ accessible: true, rule: `/etc/apparmor.d/libvirt/libvirt-${uuid(5)}.files:10: "${VARS}" rwk,` });
  });

  it('a path virt-aa-helper refuses: the element that names it cannot be opened (libvirt cannot start the domain), the others unknown, in its own words', () => {
    const bad = disk('restricted', 'vda').apparmor!;
    expect(bad.accessible).toBe(false);
    expect(bad.reason).toContain(`virt-aa-helper refuses the domain (exit 1): "/etc/${ID}.img", "skipped restricted file", "invalid VM definition"`);
    expect(bad.reason).toContain(`this element names /etc/${ID}.img`);
    expect(bad.reason).toContain('refuses any use of files under this system directory: move the file elsewhere');
    const good = disk('restricted', 'vdb').apparmor!;
    expect(good.accessible).toBeNull();
    expect(good.reason).toContain('the path is named by another element');
  });

  it("the advice for a refused path holds with the real virt-aa-helper: under /boot/ read-only is accepted, read-write refused", () => {
    const helper = createLiveVirtAaHelper();
    const u = uuid(7);
    const x = (ro: string) => domain(7, `  <devices>\n    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/boot/${ID}.img'/><target dev='vda'/>${ro}</disk>\n  </devices>\n`);
    const rw = parseDryRun(u, helper.run({ uuid: u, xml: x(''), mode: 'create' }));
    expect(rw).toMatchObject({ ok: false, path: `/boot/${ID}.img` });
    expect(refusedPathAdvice(`/boot/${ID}.img`)).toContain('make the disk <readonly/>');
    const ro = parseDryRun(u, helper.run({ uuid: u, xml: x('<readonly/>'), mode: 'create' }));
    expect(ro.ok && ro.rules).toContain(`"/boot/${ID}.img" rk,`);
  });

  it('the JSON contract: action n/a, accessible, reason, rule; the whole report validates against report.schema.json', () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/report.schema.json', 'utf8')) as object);
    const report = reportJson(ctx.conn, [...decided.values()]);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const j = fileJson(decided.get('cmdline')!, true) as { disks: { models: { apparmor: unknown } }[]; otherFiles: { element: string; models: { apparmor: unknown } }[] };
    expect(j.disks[0]!.models.apparmor).toEqual({ action: 'n/a', accessible: true, reason: expect.any(String), rule: expect.stringMatching(/\.files:6: ".*" rwk,$/) });
    expect(Object.keys(j.otherFiles[0]!.models.apparmor as object).sort()).toEqual(['accessible', 'action', 'reason']);
  });

  it("every decided file's verdict equals the one computed from apparmor_parser's own compilation of the profile", () => {
    let compared = 0;
    for (const [k, o] of decided) {
      if (k === 'restricted') continue;
      const u = o.decision.domain.uuid!;
      const rules = compiledByParser(u, DOMAINS[k]);
      const entries: { path: string; perms: ('r' | 'w' | 'k')[]; got: boolean | null }[] = [];
      for (const d of o.decision.disks) entries.push({ path: d.disk.path!, perms: d.access === 'read' ? ['r', 'k'] : ['r', 'w', 'k'], got: d.apparmor!.accessible });
      for (const f of o.decision.files ?? []) {
        const perms: ('r' | 'w' | 'k')[] = f.file.kind === 'nvram' ? ['r', 'w', 'k'] : f.file.kind === 'loader' ? ['r', 'k'] : f.file.qemuOption === 'drive' ? (f.file.access === 'read' ? ['r', 'k'] : ['r', 'w', 'k']) : f.file.access === 'read' ? ['r'] : ['r', 'w'];
        entries.push({ path: f.file.path!, perms, got: f.apparmor!.accessible });
      }
      for (const e of entries) {
        // QEMU runs as libvirt-qemu; the owner bits apply to its own files (owner rules), the "other" bits to the rest.
        const want = parserVerdict(rules, realpathSync(e.path), e.perms, statSync(e.path).uid === QEMU_UID);
        if (k === 'chain' && e.path === TOP) expect(parserVerdict(rules, BASE, ['r', 'k'], false)).toBe(true);
        expect(e.got, `${k}: ${e.path}`).toBe(want);
        compared++;
      }
    }
    expect(compared).toBe(10);
  });

  it("our reading of the domain's profile has the parser's rules: every expanded glob is one apparmor_parser compiled", () => {
    const u = uuid(4);
    compiledByParser(u, DOMAINS.cmdline);
    const out = spawnSync(PARSER, ['-Q', '-I', join(work, u), '-D', 'rule-exprs', join(work, u, 'profile')], { encoding: 'utf8' });
    const theirs = new Set(out.stderr.split('\n').flatMap((l) => /^aare: (.*) {3}-> {3}/.exec(l)?.[1] ?? []));
    const run = spawnSync(VIRT_AA_HELPER, ['-d', '-c', '-u', `libvirt-${u}`], { input: DOMAINS.cmdline, encoding: 'utf8', env: {} });
    const gen = parseDryRun(u, { kind: 'ran', status: run.status ?? -1, stderr: run.stderr });
    if (!gen.ok) throw new Error(gen.why);
    const p = domainProfile(createLiveView(), u, gen.rules);
    if (!p.ok) throw new Error(p.reason);
    const ours = p.rules.map((r) => r.expanded);
    expect(ours.length).toBeGreaterThan(150);
    expect(ours.filter((g) => !theirs.has(g))).toEqual([]);
  });
});
