/**
 * Issue 24, items 4 and 5: libvirt's AppArmor driver on a real AppArmor kernel. The guest harness of the
 * SELinux suites (scripts/selinux-guest/, ../selinux-kernel/harness.ts) boots Debian's kernel with
 * AppArmor as the active LSM instead; ../selinux-kernel/guest/libvirt.sh (mode apparmor) loads libvirt's
 * own profiles with apparmor_parser and starts this host's libvirtd, which attaches to its profile by
 * path; guest/libvirt-apparmor.mjs starts every domain below paused, from the original and the annotated
 * XML, and records what the kernel did. One boot for all of it.
 *
 * The kernel's verdict per file: `denied` when an apparmor="DENIED" record of the VM's profile names it;
 * `opened` when the VM started and no such record names it (QEMU holds its disks open: the test checks
 * /proc/PID/fd too); `refused` when libvirt did not start the VM because virt-aa-helper would not write
 * a rule for it (QEMU never ran, so it never got the file). The tool's apparmor.accessible must be true
 * for `opened` and false otherwise, for every file, from `explain --json` run live inside the guest.
 *
 * What the kernel showed (libvirt 9.0.0, Debian 12 kernel 6.1, 2026-12): every file virt-aa-helper finds
 * in the XML opens, including a pool qcow2's backing file outside the pool and firmware and nvram in
 * /data (it reads the top image to find the chain); a qcow2 in /data/vols named *.vol: virt-aa-helper's
 * own profile may not read it (DENIED for profile virt-aa-helper), so it writes no rule for the backing
 * file, and QEMU is DENIED that file; `-fw_cfg file=` and `-drive file=` of <qemu:commandline>: DENIED;
 * a disk under /etc/: virt-aa-helper "skipped restricted file", libvirt "cannot load AppArmor profile",
 * no QEMU. No "disconnected path" record: the guest's files (tmpfs root, 9p binds) have whole paths.
 * Each start costs 20-60 s under TCG: libvirt runs virt-aa-helper, and so apparmor_parser over the whole
 * libvirt-qemu abstraction, several times per start; the suite takes about 7 minutes.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { missingRequirements } from '../support/requirements.js';
import { bootGuest, REPO } from '../selinux-kernel/harness.js';

const skip = missingRequirements({
  root: true,
  commands: ['qemu-system-x86_64', 'libvirtd', 'virtlogd', 'virsh', 'qemu-img', 'apparmor_parser', 'cpio', 'apt-get', 'dpkg-deb'],
  files: ['/usr/bin/busybox', '/etc/apparmor.d/usr.sbin.libvirtd', '/etc/apparmor.d/usr.lib.libvirt.virt-aa-helper', '/etc/apparmor.d/libvirt/TEMPLATE.qemu', '/usr/lib/libvirt/virt-aa-helper', '/usr/share/OVMF/OVMF_CODE_4M.fd', `${REPO}/dist/cli/main.js`],
});

interface Audit { line: string; apparmor?: string; operation?: string; profile?: string; name?: string; requested_mask?: string; denied_mask?: string; info?: string; comm?: string }
interface Start {
  started: boolean;
  startMessage: string;
  startSeconds: number;
  pid: string | null;
  context: string | null;
  fds: string[];
  profileFiles: string | null;
  owners: Record<string, { uid: number; gid: number } | null>;
  audit: Audit[];
  qemuLog?: string;
}
interface CaseFile { path: string; disk?: string; element?: string }
/** annotated: null when the annotation changed nothing (the same start is not repeated). */
interface Case { uuid: string; files: CaseFile[]; original: Start; annotated: Start | null; annotatedXml: string }
interface Decision { action: string; accessible: boolean | null; reason: string; rule?: string }
interface ExplainFile { file: string; disks: { target: string | null; source: string | null; models: Record<string, Decision | undefined> }[]; otherFiles?: { element: string; path: string | null; models: Record<string, Decision | undefined> }[] }
interface Result {
  waitedForLibvirtSeconds: number;
  seconds: number;
  libvirtdContext: string | null;
  capabilities: { model: string; doi: string }[];
  profiles: string;
  setup: { path: string; uid: number; gid: number; mode: number }[];
  explain: { connection: { models: Record<string, { active: boolean; why: string }> }; files: ExplainFile[] } | null;
  explainStderr: string;
  annotateExit: number | null;
  annotateStderr: string;
  cases: Record<string, Case>;
  detection: { securityDriver: string; secmodels: { model: string }[]; toolApparmor: { active: boolean; why: string } | null; toolExit: number | null; toolStderr: string; libvirtdContext: string | null; daemonAlive: boolean; daemonErrors: string[] }[];
  disconnected: string[];
  errors: string[];
}

type Verdict = 'opened' | 'denied' | 'refused' | 'unknown';

/** The DENIED records the kernel wrote for this VM's QEMU that name the file. */
const deniedFor = (s: Start, uuid: string, path: string) => s.audit.filter((a) => a.apparmor === 'DENIED' && a.profile === `libvirt-${uuid}` && a.name === path);
/** libvirt's words when virt-aa-helper refused the VM's profile (security_apparmor.c, load_profile). */
const refusedByHelper = (s: Start) => !s.started && /apparmor|virt-aa-helper/i.test(s.startMessage);

function verdictOf(s: Start, uuid: string, path: string): Verdict {
  if (deniedFor(s, uuid, path).length > 0) return 'denied';
  if (s.started) return 'opened';
  if (refusedByHelper(s)) return 'refused';
  return 'unknown';
}

/** A case's verdicts by explain's row: a disk's whole chain is one row; a file beyond disks is its own. */
function rowsOf(c: Case, s: Start): Map<string, Verdict[]> {
  const rows = new Map<string, Verdict[]>();
  for (const f of c.files) {
    const key = f.disk ? `disk ${f.disk}` : `file ${f.path}`;
    rows.set(key, [...(rows.get(key) ?? []), verdictOf(s, c.uuid, f.path)]);
  }
  return rows;
}

/** What every case must show on this kernel: the facts the harness stands on, checked as such. */
const EXPECTED: Record<string, Record<string, Verdict>> = {
  // virt-aa-helper writes a rule for each of these from the XML.
  'vsl-aa-xml': {
    '/var/lib/libvirt/images/vsl-pool.raw': 'opened',
    '/data/iso/vsl-install.iso': 'opened',
    '/data/fw/VSL_CODE_4M.fd': 'opened',
    '/data/nvram/vsl-fw_VARS.fd': 'opened',
  },
  // <qemu:commandline> is not in the XML virt-aa-helper reads rules from.
  'vsl-aa-fwcfg': { '/data/cmdline/vsl-blob.bin': 'denied' },
  'vsl-aa-drive': { '/data/cmdline/vsl-extra.raw': 'denied' },
  // /etc/ is one of virt-aa-helper's restricted prefixes (valid_path): no rule, no VM.
  'vsl-aa-refused': { '/etc/libvirt/vsl-refused.raw': 'refused' },
};
const startsOf = (c: Case) => (c.annotated ? [c.original, c.annotated] : [c.original]);

describe.skipIf(skip !== undefined)('libvirt + QEMU on a real AppArmor kernel (Debian 12 kernel, libvirt\'s own profiles)', () => {
  let r: Result;
  let log = '';
  let qemuUid = -1;
  beforeAll(async () => {
    qemuUid = Number(execFileSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' }).trim());
    const run = await bootGuest({ lsm: 'apparmor', job: `${REPO}/test/selinux-kernel/guest/libvirt.sh`, arg: 'apparmor', timeoutMs: 1_200_000 });
    // The whole record, for a person reading a failure (or the issue note) next to the console log.
    mkdirSync(`${REPO}/.tmp/apparmor-guest`, { recursive: true });
    writeFileSync(`${REPO}/.tmp/apparmor-guest/result.json`, run.stdout);
    log = `--- guest stderr ---\n${run.stderr.slice(-6000)}\n--- guest console (tail) ---\n${run.console.slice(-8000)}`;
    try {
      r = JSON.parse(run.stdout) as Result;
    } catch {
      throw new Error(`the AppArmor libvirt job printed no JSON\n${log}`);
    }
    const starts = Object.entries(r.cases).map(([n, c]) => `${n} ${startsOf(c).map((s) => s.startSeconds.toFixed(0)).join('+')}`).join(', ');
    console.log(`apparmor guest: ${run.seconds.toFixed(0)} s in all, job ${r.seconds.toFixed(0)} s, libvirtd ready after ${r.waitedForLibvirtSeconds.toFixed(0)} s; virsh start seconds (original+annotated): ${starts}`);
    for (const [n, c] of Object.entries(r.cases)) {
      for (const f of c.files) console.log(`kernel: ${n} ${f.path}: original ${verdictOf(c.original, c.uuid, f.path)}, annotated ${c.annotated ? verdictOf(c.annotated, c.uuid, f.path) : '(unchanged)'}; ${deniedFor(c.original, c.uuid, f.path).map((a) => a.line).join(' | ') || (c.original.started ? 'no DENIED record' : c.original.startMessage)}`);
    }
  }, 1_300_000);

  it('the kernel runs AppArmor, libvirt\'s profiles are loaded, libvirtd runs confined and libvirt chose its AppArmor driver', () => {
    expect(r.errors, log).toEqual([]);
    for (const p of ['libvirtd (enforce)', 'virt-aa-helper (enforce)']) expect(r.profiles, p).toContain(p);
    expect(r.libvirtdContext).toBe('libvirtd (enforce)');
    expect(r.capabilities.map((m) => m.model)).toEqual(['apparmor', 'dac']);
    // Item 5: the tool sees the driver active the way libvirt chose it (security_driver unset: the probe).
    expect(r.explain?.connection.models.apparmor, r.explainStderr).toMatchObject({ active: true });
    expect(r.explain?.connection.models.selinux?.active).toBe(false);
    expect(r.explain?.connection.models.dac?.active).toBe(true);
  });

  it('security_driver in qemu.conf: "apparmor" keeps the driver, "none" turns it off, for libvirt and for the tool; libvirtd refuses "dac"', () => {
    const by = Object.fromEntries(r.detection.map((d) => [d.securityDriver, d]));
    expect(Object.keys(by).sort()).toEqual(['apparmor', 'dac', 'none']);
    expect(by.apparmor!.secmodels.map((m) => m.model)).toEqual(['apparmor', 'dac']);
    expect(by.none!.secmodels.map((m) => m.model)).toEqual(['none', 'dac']);
    // libvirt looks each name up among its drivers (selinux, apparmor, none: security_driver.c); DAC is
    // stacked, never named, so "dac" stops the QEMU driver and with it libvirtd.
    expect(by.dac!.daemonAlive).toBe(false);
    expect(by.dac!.daemonErrors.join('\n')).toContain('Security driver dac not found');
    // The tool says so too (src/decide/connection.ts): a qemu.conf error, exit 2, naming libvirt's own error.
    expect(by.dac!.toolExit).toBe(2);
    expect(by.dac!.toolStderr).toContain('security_driver names "dac"');
    expect(by.dac!.toolStderr).toContain('Security driver dac not found');
    for (const d of [by.apparmor!, by.none!]) {
      expect(d.libvirtdContext, d.securityDriver).toBe('libvirtd (enforce)');
      expect(d.toolApparmor?.active, `${d.securityDriver}: ${d.toolApparmor?.why}`).toBe(d.secmodels.some((m) => m.model === 'apparmor'));
    }
  });

  it('every VM that started ran QEMU under its own profile libvirt-UUID in enforce mode, holding its disks open', () => {
    for (const [n, c] of Object.entries(r.cases)) {
      for (const s of startsOf(c)) {
        if (!s.started) continue;
        expect(s.context, n).toBe(`libvirt-${c.uuid} (enforce)`);
        expect(s.profileFiles, `${n}: virt-aa-helper's rules`).not.toBeNull();
        // Disks, firmware and nvram stay open while QEMU runs (a -fw_cfg file would not: none here opens).
        for (const f of c.files) if (verdictOf(s, c.uuid, f.path) === 'opened') expect(s.fds, `${n}: QEMU holds ${f.path}`).toContain(f.path);
      }
    }
    expect(r.disconnected, 'AppArmor found no disconnected path').toEqual([]);
  });

  it('the kernel\'s verdicts: virt-aa-helper\'s files open, <qemu:commandline> files are DENIED, a restricted path is refused', () => {
    for (const [n, files] of Object.entries(EXPECTED)) {
      const c = r.cases[n]!;
      for (const [path, want] of Object.entries(files)) {
        for (const s of startsOf(c)) {
          expect(verdictOf(s, c.uuid, path), `${n} ${path}: ${s.startMessage}\n${s.audit.map((a) => a.line).join('\n')}`).toBe(want);
          if (want === 'denied') expect(s.started, `${n}: QEMU cannot start without ${path}`).toBe(false);
        }
      }
    }
    // Only the cases above are facts of the harness; the chains are whatever the kernel says (compared
    // below), but the kernel must have said something for each: every file opened or refused, or, in a
    // chain, one file denied (QEMU stops at the first file it cannot open; libvirt hands it the chain
    // bottom-up, so a denied backing file leaves the top untried).
    for (const [n, c] of Object.entries(r.cases)) {
      for (const [key, verdicts] of rowsOf(c, c.original)) expect(verdicts.every((v) => v !== 'unknown') || verdicts.includes('denied'), `${n} ${key}: ${verdicts.join('+')}`).toBe(true);
      // The DAC annotation does not change what AppArmor allows.
      for (const f of c.files) if (c.annotated) expect(verdictOf(c.annotated, c.uuid, f.path), `${n} ${f.path}: annotated as original`).toBe(verdictOf(c.original, c.uuid, f.path));
    }
  });

  it('DAC: every file the annotation covers keeps its owner, and libvirt chowned it without the annotation', () => {
    expect(r.annotateExit, r.annotateStderr).toBe(0);
    const first = new Map(r.setup.map((s) => [s.path, s]));
    let covered = 0;
    for (const [n, c] of Object.entries(r.cases)) {
      if (!c.annotated?.started) continue;
      const dacDisks = new Set([...c.annotatedXml.matchAll(/<source file='([^']+)'>\s*<seclabel model='dac' relabel='no'\/>/g)].map((m) => m[1]!));
      for (const f of c.files) {
        if (!f.disk) continue;
        const top = c.files.find((x) => x.disk === f.disk)!.path;
        if (!dacDisks.has(top)) continue;
        covered++;
        expect(c.annotated.owners[f.path], `${n} ${f.path} keeps its owner`).toEqual({ uid: first.get(f.path)!.uid, gid: first.get(f.path)!.gid });
        if (first.get(f.path)!.uid !== qemuUid) expect(c.original.owners[f.path]?.uid, `${n} ${f.path}: chowned without the annotation`).toBe(qemuUid);
      }
    }
    expect(covered, 'some disk carries a DAC annotation').toBeGreaterThan(0);
  });

  it('explain --json, live in the guest: every file\'s apparmor.accessible equals the kernel\'s verdict', () => {
    const mismatches: string[] = [];
    for (const [n, c] of Object.entries(r.cases)) {
      const report = r.explain!.files.find((f) => f.file.endsWith(`/${n}.xml`));
      if (!report) { mismatches.push(`${n}: not in explain's report`); continue; }
      // A disk's row covers its whole chain: accessible only when the kernel opened every file of it.
      const rows = new Map<string, { row: Decision | undefined; where: string; verdicts: Verdict[] }>();
      for (const f of c.files) {
        const key = f.disk ? `disk ${f.disk}` : `file ${f.path}`;
        const row = f.disk
          ? report.disks.find((d) => d.target === f.disk)?.models.apparmor
          : report.otherFiles?.find((o) => o.path === f.path)?.models.apparmor;
        const entry = rows.get(key) ?? { row, where: f.disk ? `files[].disks[target=${f.disk}].models.apparmor` : `files[].otherFiles[path=${f.path}].models.apparmor`, verdicts: [] };
        entry.verdicts.push(verdictOf(c.original, c.uuid, f.path));
        rows.set(key, entry);
      }
      for (const [key, e] of rows) {
        const kernel = e.verdicts.every((v) => v === 'opened');
        if (e.row === undefined) mismatches.push(`${n} ${key}: explain --json has no ${e.where} (the AppArmor decision is missing); the kernel says ${e.verdicts.join('+')}`);
        else if (typeof e.row.accessible !== 'boolean') mismatches.push(`${n} ${key}: ${e.where}.accessible is ${JSON.stringify(e.row.accessible)}, not a decision (${e.row.reason}); the kernel says ${e.verdicts.join('+')}`);
        else if (e.row.accessible !== kernel) mismatches.push(`${n} ${key}: ${e.where}.accessible is ${e.row.accessible} (${e.row.reason}${e.row.rule ? `; rule ${e.row.rule}` : ''}); the kernel says ${e.verdicts.join('+')}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
