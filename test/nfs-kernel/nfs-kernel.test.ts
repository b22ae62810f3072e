/**
 * Issue 23, item 6: the tool's decisions on a real NFS server against what QEMU did. One boot of the
 * enforcing SELinux guest (../selinux-kernel/harness.ts; libvirt's daemons permissive, svirt enforcing):
 * guest/nfs.sh loads Debian's nfsd and NFS client modules (from the kernel package the guest booted) and
 * starts nfs-kernel-server's userland on loopback, ../selinux-kernel/guest/libvirt.sh (mode nfs) starts
 * this host's libvirtd, guest/nfs.mjs exports three tmpfs trees (root_squash, no_root_squash,
 * all_squash,anonuid=/anongid= QEMU's) with five files of several owners and modes each, mounts each
 * export with vers=3 and vers=4.2 (30 cases), runs the built CLI live (explain --json, annotate -i) and
 * starts domains with the guest's libvirtd:
 * - one domain with every disk the tool annotated, exactly as annotated: it must start, every owner kept
 *   on the server, no AVC on nfs_t;
 * - one domain with libvirt's defaults for those disks and every no_root_squash disk: what libvirt's
 *   chown does on the server;
 * - per disk the tool did not annotate: QEMU's open as is (`<seclabel model='dac' relabel='no'/>` forced
 *   in, no chown before it) and, outside that domain, libvirt's defaults; plus `qemu-io` as QEMU's
 *   identity for QEMU's own error text (QEMU's stderr does not reach libvirt's log in this guest).
 * A proven denial must be a start that fails on that file; an unknown is never annotated, and printed
 * with its reason. SELinux: virt_use_nfs off, then on (the boolean the reason names is the fix).
 * Random scenarios (the idea of ../dac/fuse-differential.test.ts, on NFS): 10 directory+file pairs per
 * export with random owners, groups and modes, seen over both versions; every DAC proof and denial of
 * one `explain --json` run must equal an open (O_RDONLY or O_RDWR) as QEMU's identity; unknowns counted.
 * The same boot then runs guest/cifs.mjs (CIFS/SMB on a real smbd; assertions in cifs-checks.ts).
 * Costs one guest boot (see the console lines it prints for the time).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { missingRequirements } from '../support/requirements.js';
import { bootGuest, REPO, type GuestRun } from '../selinux-kernel/harness.js';
import { assertCifs, CIFS_MARKER, type CifsResult } from './cifs-checks.js';

const skip = missingRequirements({
  root: true,
  commands: ['qemu-system-x86_64', 'libvirtd', 'virtlogd', 'virsh', 'semodule', 'cpio', 'apt-get', 'dpkg-deb', 'rpc.nfsd', 'rpc.mountd', 'exportfs', 'rpcbind', 'mount.nfs'],
  files: ['/usr/bin/busybox', '/var/lib/selinux/default/active/policy.kern', `${REPO}/dist/cli/main.js`],
});

interface Owner { uid: number; gid: number; mode: number }
interface Denial { perms?: string; name?: string; tcontext?: string; tclass?: string; permissive: boolean }
interface Start { xml: string; started: boolean; startMessage: string; startSeconds: number; ownerWhileRunning: Record<string, Owner>; ownerAfter: Record<string, Owner>; denials: Denial[]; otherDenials: number; qemuLog?: string }
interface Decision { action: string; accessible: boolean | null; reason: string }
interface Case {
  name: string; ver: string; exp: string; file: string; before: Owner;
  decision: { dac: Decision | null; selinux: Decision | null; annotateExit: number };
  annotated: string; inAnnotatedStart: boolean; inOriginalStart: boolean; forcedStart?: Start; originalStart?: Start; qemuIo?: { exit: number | null; stderr: string };
}
interface RandomCase { name: string; exp: string; ver: string; dir: Owner; file: Owner; access: 'read' | 'readwrite'; dac: Decision | null; opened: boolean; openError: string }
interface Result {
  waitedForLibvirtSeconds: number; seconds: number; qemu: { uid: number; gid: number; groups: string; kvm: number };
  nfsd: { versions: string; threads: string; exports: string }; mounts: string[];
  booleanOff: { value: string; cases: { name: string; file: string; selinux: Decision | null; dac: Decision | null }[]; starts: Start[] };
  booleanOnValue: string; booleanOn: { start: Start };
  annotatedStart: Start; originalStart: Start; cases: Case[]; errors: string[];
  random: { seed: number; cases: RandomCase[] };
}

const obj = (type: string) => `system_u:object_r:${type}:s0`;
const policy = () => execFileSync('bash', [`${REPO}/scripts/selinux-guest/build-policy.sh`], { encoding: 'utf8' }).trim();
/**
 * The start failed on the file: QEMU's open refused (no start, and QEMU's block layer as QEMU's identity
 * says EACCES: under enforcing QEMU's own stderr does not reach its log here) or libvirt's own access
 * check refused it first ("Cannot access storage file ...: Permission denied").
 */
const refused = (s: Start, c?: Case) => !s.started && (/Permission denied/.test(s.startMessage) || /Permission denied/.test(c?.qemuIo?.stderr ?? ''));
/** QEMU's open of the file as it is (no chown before it): the annotated domain, or the forced relabel='no' start. */
const asIs = (r: Result, c: Case) => (c.inAnnotatedStart ? r.annotatedStart : c.forcedStart!);
/** libvirt's defaults: the one domain of B, or the case's own start. */
const original = (r: Result, c: Case) => (c.inOriginalStart ? r.originalStart : c.originalStart!);
const verdict = (s: Start, c?: Case) =>
  s.started
    ? 'started'
    : /Cannot access storage file/.test(s.startMessage)
      ? 'libvirt refused (EACCES)'
      : /unable to (set security context|set user and group|stat).*Permission denied/.test(s.startMessage)
        ? "libvirt's relabel as root refused (EACCES)"
        : refused(s, c)
          ? 'QEMU refused (EACCES)'
          : `failed: ${s.startMessage.slice(-80)}`;

/** One boot for both describes: nfs.sh runs nfs.mjs, then cifs.mjs, whose JSON follows a marker line. */
let booted: Promise<GuestRun> | undefined;
const boot = () => (booted ??= bootGuest({ policy: policy(), job: `${REPO}/test/nfs-kernel/guest/nfs.sh`, arg: 'nfs', enforcing: true, hostContext: obj('lib_t'), timeoutMs: 1_500_000 }));

describe.skipIf(skip !== undefined)('NFS (root_squash, no_root_squash, all_squash; v3, v4.2): the tool against QEMU on a real nfsd (enforcing SELinux guest)', () => {
  let r: Result;
  let log = '';
  beforeAll(async () => {
    const run = await boot();
    log = `--- guest stderr ---\n${run.stderr.slice(-6000)}\n--- guest console (tail) ---\n${run.console.slice(-8000)}`;
    try {
      r = JSON.parse(run.stdout.split(CIFS_MARKER)[0]!) as Result;
    } catch {
      throw new Error(`the NFS job printed no JSON\n${log}`);
    }
    mkdirSync(`${REPO}/.tmp/nfs-kernel`, { recursive: true });
    writeFileSync(`${REPO}/.tmp/nfs-kernel/result.json`, JSON.stringify(r, null, 2));
    const rows = r.cases.map((c) => {
      const o = original(r, c);
      return `| ${c.exp} | ${c.ver} | ${c.file} | ${c.before.uid}:${c.before.gid} ${c.before.mode.toString(8)} | ${c.decision.dac?.action ?? '-'} (${c.decision.dac?.accessible}) | ${c.decision.selinux?.action ?? '-'} | ${verdict(o, c)}, owner ${o.ownerWhileRunning[c.name]?.uid} while running, ${o.ownerAfter[c.name]?.uid} after | ${verdict(asIs(r, c), c)} |`;
    });
    console.log(`nfs guest: ${run.seconds.toFixed(0)} s in all, libvirtd ready after ${r.waitedForLibvirtSeconds.toFixed(0)} s, job ${r.seconds.toFixed(0)} s\n| export | version | file | owner mode | dac | selinux | QEMU from the original XML | QEMU as is (annotated / forced relabel=no) |\n${rows.join('\n')}`);
    for (const c of r.cases) if (c.decision.dac?.accessible === null) console.log(`unknown: ${c.name}: ${c.decision.dac.reason}`);
    const groups = new Map<string, RandomCase[]>();
    for (const c of r.random.cases) groups.set(`${c.exp} ${c.ver}`, [...(groups.get(`${c.exp} ${c.ver}`) ?? []), c]);
    const count = (xs: RandomCase[], a: boolean | null, opened: boolean) => xs.filter((c) => c.dac?.accessible === a && c.opened === opened).length;
    console.log(`random scenarios (seed ${r.random.seed}): export version: proven open (QEMU opened / refused), proven denied (refused / opened), unknown (opened / refused)\n${[...groups].map(([k, xs]) => `${k}: ${count(xs, true, true)}/${count(xs, true, false)}, ${count(xs, false, false)}/${count(xs, false, true)}, ${count(xs, null, true)}/${count(xs, null, false)}`).join('\n')}`);
    for (const c of r.random.cases) if (c.dac?.accessible === null) console.log(`random unknown: ${c.name} (QEMU ${c.opened ? 'opened' : 'refused'}): ${c.dac.reason}`);
  }, 1_600_000);

  it('the server runs v3 and v4.2, exports all three trees, and all six mounts are there', () => {
    expect(r.errors, log).toEqual([]);
    expect(r.nfsd.versions).toMatch(/\+3/);
    expect(r.nfsd.versions).toMatch(/\+4\.2/);
    expect(r.mounts.filter((l) => / - nfs /.test(l))).toHaveLength(3);
    expect(r.mounts.filter((l) => / - nfs4 /.test(l)).map((l) => /vers=4\.2/.test(l))).toEqual([true, true, true]);
    expect(r.cases).toHaveLength(36);
    for (const c of r.cases) expect(c.decision.dac?.accessible === true || c.decision.dac?.accessible === false || c.decision.dac?.accessible === null, c.name).toBe(true);
  });

  it('every DAC annotation is one QEMU\'s own open agrees with: the annotated domain starts with every owner kept and no denial', () => {
    const annotatedCases = r.cases.filter((c) => c.inAnnotatedStart);
    for (const c of annotatedCases) expect(c.decision.dac?.accessible, c.name).toBe(true);
    expect(r.annotatedStart.started, `${r.annotatedStart.startMessage}\n${r.annotatedStart.qemuLog}`).toBe(true);
    expect(r.annotatedStart.denials).toEqual([]);
    for (const c of annotatedCases) expect(r.annotatedStart.ownerWhileRunning[c.name], `${c.name}: relabel='no' keeps the owner on the server`).toEqual(c.before);
    // The tool proves something on every export and version.
    for (const exp of ['root_squash', 'no_root_squash', 'all_squash']) for (const ver of ['v3', 'v4.2']) expect(annotatedCases.some((c) => c.exp === exp && c.ver === ver), `${exp} ${ver}`).toBe(true);
  });

  it('every DAC denial the tool proves is one QEMU\'s open as is meets; an unknown is never annotated', () => {
    for (const c of r.cases) {
      const dac = c.decision.dac!;
      expect(dac, c.name).toBeTruthy();
      if (dac.accessible === true) continue;
      expect(dac.action, c.name).not.toBe('annotate');
      if (dac.accessible === false) expect(refused(c.forcedStart!, c), `${c.name}: the tool proved a denial, yet QEMU opened it as is (${verdict(c.forcedStart!, c)}, qemu-io: ${c.qemuIo?.stderr}): ${dac.reason}`).toBe(true);
    }
  });

  it('libvirt\'s chown reaches the server on no_root_squash (a writable disk goes back to root:root, NFS keeping no trusted.* record; a read-only one stays QEMU\'s) and is refused on root_squash and all_squash', () => {
    expect(r.originalStart.started, `${r.originalStart.startMessage}\n${r.originalStart.qemuLog}`).toBe(true);
    expect(r.originalStart.denials).toEqual([]);
    for (const c of r.cases.filter((x) => x.inOriginalStart)) {
      const during = r.originalStart.ownerWhileRunning[c.name]!;
      const after = r.originalStart.ownerAfter[c.name]!;
      if (c.exp === 'no_root_squash') {
        expect(during.uid, c.name).toBe(r.qemu.uid);
        // security_dac.c: read-only and shareable disks are never restored; the others go to the
        // remembered owner, and NFS has no trusted.* xattr to remember one in: root:root.
        expect(after.uid, c.name).toBe(c.file.split('/').pop()!.startsWith('ro-') ? r.qemu.uid : 0);
      } else {
        expect(during, c.name).toEqual(c.before);
        expect(after, c.name).toEqual(c.before);
      }
    }
    for (const c of r.cases.filter((x) => !x.inOriginalStart)) expect(refused(c.originalStart!, c), `${c.name}: ${verdict(c.originalStart!, c)}`).toBe(true);
  });

  it('root_squash, a directory root may not search (root:kvm 0750): walked as QEMU; a qcow2 chain libvirt reads as QEMU starts annotated, a raw disk libvirt refuses as root', () => {
    for (const ver of ['v3', 'v4.2']) {
      const q = r.cases.find((c) => c.exp === 'root_squash' && c.ver === ver && c.file === 'grp/ro-qemu.qcow2')!;
      expect(q.decision.dac, q.name).toMatchObject({ accessible: true, action: 'annotate' });
      expect(q.decision.dac!.reason, q.name).toContain('looked up as libvirt-qemu: root may not search');
      expect(q.decision.dac!.reason, q.name).toContain('virFileOpenAs retries as that user on the shared');
      expect(q.inAnnotatedStart, q.name).toBe(true);
      // From the original XML libvirt relabels it as root, is refused on the server, and fails the start:
      // here the annotation is what lets the domain start at all.
      expect(q.inOriginalStart, q.name).toBe(false);
      expect(q.originalStart!.started, q.name).toBe(false);
      expect(q.originalStart!.startMessage, q.name).toMatch(/unable to set (security context|user and group).*Permission denied|unable to stat.*Permission denied/);
      const raw = r.cases.find((c) => c.exp === 'root_squash' && c.ver === ver && c.file === 'grp/rw-qemu.raw')!;
      expect(raw.decision.dac, raw.name).toMatchObject({ accessible: false });
      expect(raw.decision.dac!.reason, raw.name).toContain('virFileExists');
      // QEMU's identity could open it (qemu-io as QEMU), but libvirt stops first, as root.
      expect(raw.qemuIo?.exit, `${raw.name}: ${raw.qemuIo?.stderr}`).toBe(0);
      expect(raw.forcedStart!.startMessage, raw.name).toMatch(/Cannot access storage file .*Permission denied/);
    }
    expect(r.annotatedStart.started).toBe(true);
  });

  it('virt_use_nfs off: the tool names the boolean for nfs_t and QEMU is denied on nfs_t, file by file; turned on, the same files open', () => {
    expect(r.booleanOff.value).toBe('0');
    expect(r.booleanOnValue).toBe('1');
    expect(r.booleanOff.cases).toHaveLength(2);
    r.booleanOff.cases.forEach((o, i) => {
      expect(o.dac?.accessible, o.name).toBe(true);
      if (o.file.endsWith('.iso')) {
        // Read-only: judged as labelled, and the label is the genfscon's nfs_t whatever libvirt does.
        expect(o.selinux?.accessible, o.name).toBe(false);
        expect(o.selinux?.reason, o.name).toContain('nfs_t');
        expect(o.selinux?.reason, o.name).toContain('virt_use_nfs');
        expect(r.cases.find((c) => c.name === o.name)!.decision.selinux?.accessible, `${o.name} with virt_use_nfs on`).toBe(true);
      } else {
        // An exclusive writable disk is never annotated for SELinux (svirt's isolation), but on nfs_t the
        // relabel cannot happen: the row says the start fails with the boolean off, and opens with it on.
        expect(o.selinux?.action, o.name).toBe('keep');
        expect(o.selinux?.reason, o.name).toContain('exclusive writable disk');
        expect(o.selinux?.accessible, o.selinux?.reason).toBe(false);
        expect(o.selinux?.reason).toContain('its label stays system_u:object_r:nfs_t:s0, relabel or not');
        expect(o.selinux?.reason).toContain('the VM fails to start');
        expect(o.selinux?.reason).toContain('virt_use_nfs');
        const on = r.cases.find((c) => c.name === o.name)!.decision.selinux;
        expect(on?.accessible, on?.reason).toBeNull();
        expect(on?.reason).toContain('QEMU opens it as it is');
      }
      const s = r.booleanOff.starts[i]!;
      expect(s.started, o.name).toBe(false);
      expect(s.denials.some((d) => d.tcontext?.includes(':nfs_t:') && d.name === o.file.split('/').pop() && !d.permissive), `${o.name}: ${JSON.stringify(s.denials)}`).toBe(true);
    });
    expect(r.booleanOn.start.started, `${r.booleanOn.start.startMessage}\n${r.booleanOn.start.qemuLog}`).toBe(true);
    expect(r.booleanOn.start.denials).toEqual([]);
  });
  it('random owners, groups and modes: every proof and every denial equals an open as QEMU\'s identity, on every export and version', () => {
    expect(r.random.cases).toHaveLength(60);
    for (const c of r.random.cases) {
      expect(c.dac, c.name).toBeTruthy();
      if (c.dac!.accessible === true) expect(c.opened, `${c.name}: proven, yet the open as QEMU failed: ${c.openError}; ${c.dac!.reason}`).toBe(true);
      // QEMU's identity could open it, but libvirt checks a raw disk as root and refuses the start
      // (measured on the fixed grp/ cases above): a denial of the start, not of QEMU's open.
      if (c.dac!.accessible === false && /libvirt refuses the start before QEMU runs/.test(c.dac!.reason)) {
        expect(c.opened, c.name).toBe(true);
        continue;
      }
      if (c.dac!.accessible === false) expect(!c.opened && /Permission denied/.test(c.openError), `${c.name}: denied, yet the open as QEMU ${c.opened ? 'succeeded' : `failed otherwise: ${c.openError}`}; ${c.dac!.reason}`).toBe(true);
    }
    for (const exp of ['root_squash', 'no_root_squash', 'all_squash']) {
      const xs = r.random.cases.filter((c) => c.exp === exp);
      expect(xs.some((c) => c.dac?.accessible === true), `${exp}: some proof`).toBe(true);
      expect(xs.some((c) => c.dac?.accessible === false), `${exp}: some denial`).toBe(true);
    }
  });
});

describe.skipIf(skip !== undefined || missingRequirements({ commands: ['smbd', 'smbpasswd', 'mount.cifs'] }) !== undefined)('CIFS/SMB (client modes, noperm, a server that refuses, context=; vers=3.1.1): the tool against QEMU on a real smbd, same boot', () => {
  let c: CifsResult;
  let log = '';
  beforeAll(async () => {
    const run = await boot();
    log = `--- guest stderr ---\n${run.stderr.slice(-6000)}\n--- guest console (tail) ---\n${run.console.slice(-8000)}`;
    const text = run.stdout.split(CIFS_MARKER)[1];
    try {
      c = JSON.parse(text ?? '') as CifsResult;
    } catch {
      throw new Error(`the CIFS job printed no JSON\n${log}`);
    }
    mkdirSync(`${REPO}/.tmp/nfs-kernel`, { recursive: true });
    writeFileSync(`${REPO}/.tmp/nfs-kernel/cifs-result.json`, JSON.stringify(c, null, 2));
  }, 1_600_000);
  assertCifs(() => c, () => log);
});
