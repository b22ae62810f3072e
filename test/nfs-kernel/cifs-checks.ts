/**
 * Issue 23 on CIFS/SMB: the assertions over guest/cifs.mjs's result (same boot as the NFS job,
 * nfs-kernel.test.ts). A real smbd on loopback in the enforcing SELinux guest; shares mounted with
 * client-side modes (uid=/gid=/file_mode=/dir_mode=), noperm, a share whose server opens as `force user =
 * nobody`, and context=svirt_image_t; vers=3.1.1 and 3.0. Every DAC annotation must be one QEMU's start
 * agrees with, every proven denial a start that fails on the file, no unknown annotated; SELinux with
 * virt_use_samba off and on, and the exclusive writable disk's row (the relabel cannot happen on cifs_t)
 * checked against the start. Prints the per-mount figures.
 */
import { expect, it } from 'vitest';

export const CIFS_MARKER = '\n#VSL-CIFS\n';

interface Owner { uid?: number; gid?: number; mode?: number; error?: string }
interface Both { server: Owner; client: Owner }
interface Decision { action: string; accessible: boolean | null; reason: string }
interface Denial { perms?: string; name?: string; tcontext?: string; tclass?: string; permissive: boolean }
interface Start { xml: string; cases: string[]; started: boolean; startMessage: string; startSeconds: number; whileRunning: Record<string, Both>; after: Record<string, Both>; denials: Denial[]; otherDenials: number }
interface Case {
  name: string; mount: string; file: string; before: Both;
  decision: { dac: Decision | null; selinux: Decision | null; annotateExit: number };
  annotated: string; open: { opened: boolean; error: string }; inAnnotatedStart: boolean; inGroupStarts: boolean;
  forcedStart?: Start;
}
interface RandomCase { name: string; access: 'read' | 'readwrite'; dir: Owner; file: Owner; dac: Decision | null; opened: boolean; openError: string }
export interface CifsResult {
  seconds: number; qemu: { uid: number; gid: number; groups: string }; nobody: number;
  smbd: { version: string; started: boolean }; mounts: string[]; errors: string[];
  booleanOff: { value: string; cases: { name: string; mount: string; file: string; selinux: Decision | null; dac: Decision | null }[]; starts: Start[] };
  booleanOnValue: string;
  annotatedStart: Start; originalStart: Start; cases: Case[];
  random: { seed: number; cases: RandomCase[] };
}

const MOUNTS = ['modes-qemu', 'modes-root', 'noperm', 'forceuser', 'context'];
/**
 * A start refused on the file: no start, and QEMU's open as its identity says EACCES (under enforcing,
 * QEMU's stderr does not reach libvirt's log in this guest) or libvirt's own message says so.
 */
const refused = (s: Start, c: Case) => !s.started && (/Permission denied/.test(s.startMessage) || /Permission denied/.test(c.open.error));
/**
 * QEMU's open of the file as it is: domain A (the annotated disks as annotated, every other disk QEMU's
 * identity opens with dac relabel='no' forced in), or the file's own forced start.
 */
const asIs = (r: CifsResult, c: Case): Start => (c.inGroupStarts ? r.annotatedStart : c.forcedStart!);
const opened = (r: CifsResult, c: Case) => asIs(r, c).started;

export function figures(r: CifsResult): string {
  const rows = MOUNTS.map((m) => {
    const cs = r.cases.filter((c) => c.mount === m);
    const dacAnn = cs.filter((c) => c.decision.dac?.action === 'annotate').length;
    const selAnn = cs.filter((c) => c.decision.selinux?.action === 'annotate').length;
    const denied = cs.filter((c) => c.decision.dac?.accessible === false).length;
    const unknown = cs.filter((c) => c.decision.dac?.accessible === null).length;
    const agree = cs.filter((c) => c.decision.dac?.accessible === null || (c.decision.dac?.accessible === true) === opened(r, c)).length;
    return `| ${m} | ${cs.length} | ${dacAnn} | ${selAnn} | ${denied} | ${unknown} (${cs.filter((c) => c.decision.dac?.accessible === null && opened(r, c)).length} opened) | ${agree}/${cs.length - unknown} |`;
  });
  const cases = r.cases.map((c) => {
    const o = r.originalStart;
    const own = (x: Both | undefined) => (x ? `${x.server.uid}/${x.client.uid}` : '-');
    const orig = c.inGroupStarts ? `${o.started ? 'started' : 'refused'}, owner server/client ${own(o.whileRunning[c.name])} running, ${own(o.after[c.name])} after` : '-';
    return `| ${c.mount} | ${c.file} | ${c.before.server.uid}:${c.before.server.gid} ${c.before.server.mode?.toString(8)} (client ${c.before.client.uid}:${c.before.client.gid} ${c.before.client.mode?.toString(8)}) | ${c.decision.dac?.action} (${c.decision.dac?.accessible}) | ${c.decision.selinux?.action} (${c.decision.selinux?.accessible}) | ${orig} | ${asIs(r, c).started ? 'started' : 'refused'} |`;
  });
  const rnd = r.random.cases;
  const n = (a: boolean | null, o: boolean) => rnd.filter((c) => c.dac?.accessible === a && c.opened === o).length;
  return [
    `cifs job ${r.seconds.toFixed(0)} s (${r.smbd.version}); starts: A ${r.annotatedStart.startSeconds.toFixed(0)} s, B ${r.originalStart.startSeconds.toFixed(0)} s`,
    '| mount | cases | dac annotations | selinux annotations | dac denials | dac unknown | agreement (decided) |',
    ...rows,
    '| mount | file | server owner mode (client) | dac | selinux | QEMU from the original XML | QEMU as is |',
    ...cases,
    `random on forceuser (seed ${r.random.seed}): proven ${n(true, true)} opened / ${n(true, false)} refused, denied ${n(false, false)} refused / ${n(false, true)} opened, unknown ${n(null, true)} opened / ${n(null, false)} refused`,
    ...r.cases.filter((c) => c.decision.dac?.accessible === null).map((c) => `unknown: ${c.name}: ${c.decision.dac?.reason}`),
  ].join('\n');
}

export function assertCifs(get: () => CifsResult, log: () => string): void {
  it('smbd serves both shares and all five mounts are there (vers=3.1.1 and 3.0, noperm, context=)', () => {
    const r = get();
    console.log(figures(r));
    expect(r.errors, log()).toEqual([]);
    expect(r.smbd.started).toBe(true);
    expect(r.mounts.filter((l) => / - cifs /.test(l))).toHaveLength(5);
    expect(r.mounts.filter((l) => /vers=3\.1\.1/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(r.mounts.some((l) => /vers=3\.0[,\s]/.test(l))).toBe(true);
    expect(r.mounts.some((l) => /noperm/.test(l))).toBe(true);
    expect(r.mounts.some((l) => /context=/.test(l) || /svirt_image_t/.test(l))).toBe(true);
    expect(r.cases).toHaveLength(20);
  });

  it("every DAC annotation is one QEMU's own start agrees with: the annotated domain starts (with every other file QEMU's identity opens, as it is), owners kept, no denial", () => {
    const r = get();
    const annotated = r.cases.filter((c) => c.inAnnotatedStart);
    for (const c of annotated) expect(c.decision.dac?.accessible, c.name).toBe(true);
    expect(r.annotatedStart.started, r.annotatedStart.startMessage).toBe(true);
    expect(r.annotatedStart.denials).toEqual([]);
    for (const c of r.cases.filter((x) => x.inGroupStarts)) expect(r.annotatedStart.whileRunning[c.name], c.name).toEqual(c.before);
    // The tool proves read on every mount whose server and client let QEMU read an ISO.
    for (const m of ['modes-qemu', 'modes-root', 'noperm', 'context']) expect(annotated.some((c) => c.mount === m), m).toBe(true);
  });

  it('every DAC denial is a start that fails on the file as it is; an unknown is never annotated', () => {
    const r = get();
    for (const c of r.cases) {
      const dac = c.decision.dac!;
      expect(dac, c.name).toBeTruthy();
      if (dac.accessible !== true) expect(dac.action, c.name).not.toBe('annotate');
      if (dac.accessible === false) expect(!c.inGroupStarts && refused(c.forcedStart!, c), `${c.name}: denial proven, yet QEMU opened it: ${dac.reason}`).toBe(true);
      if (dac.accessible === true) expect(opened(r, c), `${c.name}: proven, yet refused`).toBe(true);
    }
  });

  it("libvirt's defaults: the files QEMU's identity opens start; its chown and restore change no owner, on the server or through the client (SMB2/3 without unix extensions)", () => {
    const r = get();
    expect(r.originalStart.started, r.originalStart.startMessage).toBe(true);
    for (const c of r.cases.filter((x) => x.inGroupStarts)) {
      expect(r.originalStart.whileRunning[c.name], c.name).toEqual(c.before);
      expect(r.originalStart.after[c.name], c.name).toEqual(c.before);
    }
  });

  it('virt_use_samba off: cifs_t is refused as the rows say (the ISO, and the exclusive writable disk whose relabel cannot happen); context=svirt_image_t needs no boolean; on, the same cifs_t files start (domain A)', () => {
    const r = get();
    expect(r.booleanOff.value).toBe('0');
    expect(r.booleanOnValue).toBe('1');
    const [iso, rw, ctx] = r.booleanOff.cases;
    const [isoStart, rwStart, ctxStart] = r.booleanOff.starts;
    expect(iso!.selinux?.accessible, iso!.selinux?.reason).toBe(false);
    expect(iso!.selinux?.reason).toContain('cifs_t');
    expect(iso!.selinux?.reason).toContain('virt_use_samba');
    expect(rw!.selinux).toMatchObject({ action: 'keep', accessible: false });
    expect(rw!.selinux?.reason).toContain('its label stays system_u:object_r:cifs_t:s0, relabel or not');
    expect(rw!.selinux?.reason).toContain('virt_use_samba');
    expect(rw!.selinux?.reason).toContain('the VM fails to start');
    for (const [o, s] of [[iso!, isoStart!], [rw!, rwStart!]] as const) {
      expect(s.started, o.name).toBe(false);
      expect(s.denials.some((d) => d.tcontext?.includes(':cifs_t:') && d.name === o.file && !d.permissive), `${o.name}: ${JSON.stringify(s.denials)}`).toBe(true);
    }
    expect(ctx!.selinux).toMatchObject({ action: 'keep', accessible: null });
    expect(ctx!.selinux?.reason).toContain('its label stays system_u:object_r:svirt_image_t:s0, relabel or not');
    expect(ctx!.selinux?.reason).toContain('QEMU opens it as it is');
    expect(ctx!.selinux?.reason).not.toContain('virt_use_samba');
    expect(ctxStart!.started, ctxStart!.startMessage).toBe(true);
    expect(ctxStart!.denials).toEqual([]);
    for (const o of [iso!, rw!]) expect(r.cases.find((c) => c.name === o.name)?.inGroupStarts, o.name).toBe(true);
    expect(r.annotatedStart.started).toBe(true);
    const on = r.cases.find((c) => c.name === rw!.name)!.decision.selinux;
    expect(on?.accessible, on?.reason).toBeNull();
    expect(on?.reason).toContain('QEMU opens it as it is');
  });

  it("random owners and modes on the share the server opens as nobody: every proof and denial equals an open as QEMU's identity", () => {
    const r = get();
    expect(r.random.cases).toHaveLength(10);
    for (const c of r.random.cases) {
      expect(c.dac, c.name).toBeTruthy();
      if (c.dac!.accessible === true) expect(c.opened, `${c.name}: proven, yet the open failed: ${c.openError}; ${c.dac!.reason}`).toBe(true);
      if (c.dac!.accessible === false) expect(!c.opened && /Permission denied/.test(c.openError), `${c.name}: denied, yet ${c.opened ? 'opened' : c.openError}; ${c.dac!.reason}`).toBe(true);
    }
    expect(r.random.cases.some((c) => c.dac?.accessible === false)).toBe(true);
  });
}
