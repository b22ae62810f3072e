/**
 * The SELinux-kernel halves of issue 22 item 6 and issue 25 item 4, in one boot of the enforcing SELinux
 * guest (Debian's default policy, libvirt's daemons permissive, QEMU's svirt_t enforced; see
 * libvirt-enforcing.test.ts). The job is guest/files-doctor.mjs.
 *
 * Files beyond disks (the DAC proof is test/libvirt/files-libvirtd.test.ts), each domain decided by explain
 * and annotated inside the guest on the guest's policy, then started from the original and the annotated
 * XML (one start when the annotated XML is byte-identical): a UEFI domain (Debian's ovmf code at the label
 * the policy's file contexts give it, vars with an ACL for the qemu user in a directory a user owns,
 * user_home_t); the same firmware as the guest's 9p tree labels it (lib_t); a serial console to a file;
 * direct kernel boot with and without an initrd (0644 root, boot_t, outside /var/lib/libvirt); a -fw_cfg
 * file svirt_t may read (public_content_t) and one it may not (user_home_t); a <sysinfo type='fwcfg'> entry
 * (0600 root, user_home_t), a unix socket chardev QEMU connects to, an <rng> on /dev/urandom; 9p shares
 * labelled var_t and user_home_t; an nvdimm backing file; a TPM emulator (swtpm at the bin_t Debian's file
 * contexts give it). Every file's SELinux and DAC verdict is compared with what libvirt did to it and the AVC
 * denials the kernel logged, and each domain's predicted start with its real one.
 *
 * virtlogd runs at s0, as systemd starts it on a Debian host (guest/libvirt.sh says why): at
 * s0-s0:c0.c1023 its pipes were refused to QEMU by Debian's MCS constraint on fifo_file write, every QEMU
 * lost its log and the serial-to-file domain could not start. No start may now draw a denial on a pipe.
 *
 * Remembered labels (the DAC proof is test/libvirt/doctor-libvirtd.test.ts): a writable disk's SELinux and
 * DAC records left stale by SIGKILLing QEMU and libvirtd and removing the status; doctor, the "already in
 * use" SELinux twin, doctor --apply, libvirt's next start and stop; a read-only ISO left virt_content_t.
 * One boot (TCG): the job took 108 s on a quiet machine before the elements of the last paragraph but one were
 * added; with them, 854 s under a load average of 13 on 2 cores, of which the five added domains 158 s (the
 * domains before them 276 s, about 42 s quiet: the added ones cost about 25-35 s on a quiet machine).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bootGuest, REPO } from './harness.js';
import { daemonsPermissivePolicy, obj, requirementsMissing, typeOf } from './libvirt-guest.js';
import { missingRequirements } from '../support/requirements.js';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const skip = requirementsMissing() ?? missingRequirements({ commands: ['setfacl', 'matchpathcon'], files: [OVMF_CODE, '/usr/share/OVMF/OVMF_VARS_4M.fd'] });

interface FileState { label: string | null; owner: string | null; mode: string | null }
interface Denial { perms: string; scontext: string; tcontext: string; tclass: string; name?: string; path?: string; permissive: boolean }
interface Start {
  started: boolean;
  startMessage: string;
  startSeconds: number;
  domstate: string;
  before: Record<string, FileState>;
  during: Record<string, FileState>;
  after: Record<string, FileState>;
  denials: Record<string, Denial[]>;
  otherSvirtDenials: Denial[];
  qemuLog?: string;
}
interface ModelDecision { action: string; accessible: boolean | null; reason: string }
interface Row { element: string; kind: string; path: string | null; libvirt: string; models: Record<'dac' | 'selinux', ModelDecision> }
interface FilesCase {
  annotated: string;
  explain: { otherFiles?: Row[] } | null;
  original: Start;
  /** same: byte-identical to the original; fails-alike: not started, it fails on a file the annotation does not touch. */
  annotatedStart: Start | 'same' | 'fails-alike';
}
interface DoctorRun { exit: number; stdout: string; stderr: string }
interface Snapshot { records: Record<string, string>; state: FileState }
interface DoctorFinding { path: string; model: string; verdict: string; cause: string; summary: string; libvirtWillSay?: string | null; consequence?: string | null; likely?: unknown }
interface DoctorJson { exit: number; report: { findings: DoctorFinding[] }; stderr: string }
interface VirshStart { exit: number; stderr: string; domstate: string }
/** What guest/files-doctor.mjs recorded for issue 25, in the order it happened. */
interface DoctorCase {
  aStart: VirshStart;
  running: Snapshot;
  whileRunning: DoctorJson;
  restartSeconds: number;
  afterCrash: Snapshot & { domstate: string };
  stale: Snapshot;
  seenJson: DoctorJson;
  bStart: VirshStart;
  afterRefusal: Snapshot;
  aRestart: VirshStart;
  apply: DoctorRun;
  afterApply: Snapshot;
  nextStart: VirshStart;
  nextRunning: Snapshot;
  nextStopped: Snapshot;
  isoStart: VirshStart;
  isoRunning: FileState;
  isoStopped: Snapshot;
  isoSeen: DoctorJson;
  isoApplyBare: DoctorRun;
  isoAfterBare: FileState;
  isoApplyNamed: DoctorRun;
  isoAfterNamed: FileState;
}
interface Result {
  waitedForLibvirtSeconds: number;
  /** matchpathcon of the unix socket: the label libvirt's SELinux restore falls back to without a record. */
  socketDefault: string;
  seconds: number;
  cliSeconds: number;
  annotate: { exit: number; stderr: string };
  check: { exit: number; stderr: string };
  errors: string[];
  files: Record<string, FilesCase>;
  doctor: DoctorCase;
}

const QEMU = '64055:64055';
const svirt = (ds: Denial[] | undefined) => (ds ?? []).filter((d) => /^svirt(_tcg)?_t$/.test(typeOf(d.scontext) ?? ''));

/**
 * What a start showed for one file against the tool's verdict for one model: [agrees, what was seen].
 * annotate (the annotated start) / n/a / as-is accessible → label (SELinux) or owner (DAC) untouched, and
 * no denial for QEMU on it; as-is denied → a denial for QEMU names it (SELinux), untouched;
 * relabel / keep (libvirt labels it) → changed while running and given back after the stop, with no
 * denial on it, or, when relabel is predicted denied, a denial for QEMU on it under the label libvirt gave.
 * Whether the domain starts is judged for the whole domain (startPredicted).
 */
function judge(model: 'dac' | 'selinux', d: ModelDecision, s: Start, path: string): [boolean, string] {
  const b = s.before[path]!;
  const r = s.during[path]!;
  const a = s.after[path]!;
  const all = s.denials[path] ?? [];
  const denied = svirt(all);
  const avc = denied.length ? `AVC for QEMU ${denied.map((x) => `{${x.perms}} on ${typeOf(x.tcontext)}`).join(', ')}` : 'no AVC for QEMU';
  const seen =
    model === 'selinux'
      ? `${typeOf(b.label)} → ${r.label === b.label ? 'kept' : typeOf(r.label)} → ${a.label === b.label ? 'back' : typeOf(a.label)}; ${avc}`
      : `${b.owner} → ${r.owner === b.owner ? 'kept' : r.owner} → ${a.owner === b.owner ? 'back' : a.owner}`;
  const kept = model === 'selinux' ? r.label === b.label && a.label === b.label : r.owner === b.owner && a.owner === b.owner;
  // A failed start is rolled back before we look: libvirt's relabel shows only in what it drew (a denial for
  // QEMU under the new label); otherwise only the rollback can be seen.
  const relabelSeen = !s.started || (model === 'selinux' ? r.label !== b.label : r.owner === QEMU);
  const givenBack = model === 'selinux' ? a.label === b.label : a.owner === b.owner;
  const noAvc = model === 'dac' || denied.length === 0;
  switch (d.action) {
    case 'annotate':
    case 'n/a':
      return [kept && noAvc, seen];
    case 'as-is':
      return [d.accessible === false ? kept && (model === 'dac' || denied.length > 0) : kept && noAvc, seen];
    case 'keep':
    case 'relabel':
      if (d.accessible === false && model === 'selinux') return [relabelSeen && givenBack && denied.some((x) => x.tcontext !== b.label), seen];
      return [relabelSeen && givenBack && noAvc, seen];
    default:
      return [false, `${seen} (action ${d.action})`];
  }
}

/**
 * A unix socket QEMU connects to, for SELinux: libvirt gives it the VM's image label while QEMU runs and, as
 * it keeps no record for a socket, the policy's file-contexts label at stop. keep/relabel: that, and no denial.
 */
function judgeSocket(d: ModelDecision, s: Start, path: string, fileContextsDefault: string): [boolean, string] {
  const b = s.before[path]!;
  const r = s.during[path]!;
  const a = s.after[path]!;
  const denied = svirt(s.denials[path]);
  const seen = `${typeOf(b.label)} → ${typeOf(r.label)} ${levelOfLabel(r.label)} → ${a.label === fileContextsDefault ? `the file contexts' ${typeOf(a.label)}` : a.label}; ${denied.length ? 'AVC for QEMU' : 'no AVC for QEMU'}`;
  const ok = ['keep', 'relabel'].includes(d.action) && typeOf(r.label) === 'svirt_image_t' && r.label !== b.label && a.label === fileContextsDefault && denied.length === 0;
  return [ok, seen];
}
const levelOfLabel = (ctx: string | null) => ctx?.split(':').slice(3).join(':') ?? '';

/** The tool's word on the whole domain: it fails to start when QEMU cannot open one of its files. */
/**
 * as-is false: QEMU cannot open it as it is. relabel false: SELinux only, QEMU cannot use it even under the
 * label libvirt gives it (a DAC relabel's `accessible` is the file as it is now, before libvirt chowns it).
 */
const startPredicted = (rows: Row[]) => !rows.some((r) => (['selinux', 'dac'] as const).some((m) => r.models[m].accessible === false && (r.models[m].action === 'as-is' || (m === 'selinux' && r.models[m].action === 'relabel'))));
/**
 * Denials QEMU draws on every start in this guest, whether it starts or not, none on a file a domain names:
 * the guest root's /lib link (tmpfs), sysfs reads, anon inodes.
 */
const environment = (d: Denial) => d.tclass === 'anon_inode' || typeOf(d.tcontext) === 'sysfs_t' || (d.tclass === 'lnk_file' && typeOf(d.tcontext) === 'tmpfs_t');
/** Denials for QEMU on a pipe (its log pipe to virtlogd, a file chardev's pipe): none with virtlogd at s0. */
const pipeDenials = (s: Start) => svirt(s.otherSvirtDenials).filter((d) => d.tclass === 'fifo_file');
const SWTPM = '/usr/bin/swtpm';

describe.skipIf(skip !== undefined)('files beyond disks and stale libvirt records on an enforcing SELinux kernel (one guest boot)', () => {
  let result: Result;
  let log = '';
  let seconds = 0;
  beforeAll(async () => {
    const run = await bootGuest({ policy: daemonsPermissivePolicy(), job: `${REPO}/test/selinux-kernel/guest/libvirt.sh`, arg: 'files-doctor', enforcing: true, hostContext: obj('lib_t'), timeoutMs: 1_200_000 });
    seconds = run.seconds;
    log = `--- guest stderr ---\n${run.stderr.slice(-6000)}\n--- guest console (tail) ---\n${run.console.slice(-8000)}`;
    try {
      result = JSON.parse(run.stdout) as Result;
    } catch {
      throw new Error(`the files-doctor job printed no JSON\n${log}`);
    }
    const starts = Object.entries(result.files).map(([n, c]) => `${n} ${c.original.startSeconds.toFixed(1)}`).join(', ');
    console.log(`selinux guest, files-doctor: ${seconds.toFixed(0)} s in all, libvirtd ready after ${result.waitedForLibvirtSeconds.toFixed(0)} s, job ${result.seconds.toFixed(0)} s; virsh start seconds: ${starts}`);
  }, 1_300_000);

  it('the guest job ran without errors', () => {
    expect(result.errors, log).toEqual([]);
  });

  it('issue 22: every file\'s SELinux and DAC verdict agrees with what libvirt and the kernel did, from the original and the annotated XML', () => {
    const table: string[] = [];
    let agreed = 0;
    let total = 0;
    for (const [name, c] of Object.entries(result.files)) {
      const rows = c.explain!.otherFiles ?? [];
      for (const [which, s] of [['original', c.original], ['annotated', c.annotatedStart]] as const) {
        if (s === 'same' || s === 'fails-alike') continue;
        const predicted = startPredicted(rows);
        const outcome = s.started ? `started (${s.domstate})` : `failed: ${s.startMessage.split('\n').pop()}`;
        total++;
        if (s.started === predicted) agreed++;
        table.push(`${s.started === predicted ? 'agree   ' : 'DISAGREE'} ${name} ${which}: predicted ${predicted ? 'starts' : 'fails'} | ${outcome}`);
        for (const row of rows) {
          if (row.kind === 'tpm' && row.path === null) {
            // swtpm's binary: the SELinux verdict is whether the VM's domain may be entered through it.
            const d = row.models.selinux;
            const refused = svirt(s.denials[SWTPM]).filter((x) => x.perms === 'entrypoint');
            const ok = d.action === 'as-is' && d.accessible === false ? !s.started && refused.length > 0 : refused.length === 0;
            total++;
            if (ok) agreed++;
            table.push(`${ok ? 'agree   ' : 'DISAGREE'} ${name} ${which} ${row.element} ${SWTPM} selinux: ${d.action} accessible=${d.accessible} | ${refused.length ? `AVC for the VM's svirt label {entrypoint} on ${typeOf(refused[0]!.tcontext)}` : 'no AVC'}`);
            continue;
          }
          if (row.path === null || !(row.path in s.before)) continue;
          for (const model of ['selinux', 'dac'] as const) {
            // The original start: an annotation the tool would add is not there yet, libvirt relabels.
            const d = which === 'original' && row.models[model].action === 'annotate' ? { ...row.models[model], action: 'relabel' } : row.models[model];
            // A socket's label is not remembered (the tool says so): at stop libvirt sets the file contexts' default.
            const socket = row.kind === 'chardev' && row.libvirt.includes('neither is remembered for a socket');
            const [ok, seen] = socket && model === 'selinux' ? judgeSocket(d, s, row.path, result.socketDefault) : judge(model, d, s, row.path);
            total++;
            if (ok) agreed++;
            table.push(`${ok ? 'agree   ' : 'DISAGREE'} ${name} ${which} ${row.element} ${row.path} ${model}: ${row.models[model].action}${row.models[model].accessible === null ? '' : ` accessible=${row.models[model].accessible}`} | ${seen}`);
          }
        }
        expect(svirt(s.otherSvirtDenials).filter((d) => !environment(d)), `${name} ${which}: denials for QEMU on no watched file`).toEqual([]);
      }
    }
    console.log(`selinux guest, files beyond disks: ${agreed}/${total} verdicts agree with the kernel and libvirt\n${table.join('\n')}`);
    expect(table.filter((l) => l.startsWith('DISAGREE')), log).toEqual([]);
  });

  it('issue 22: the verdicts themselves, each against the kernel: nvram kept (rule 2) for SELinux and annotated for DAC; a lib_t loader refused lock; the initrd refused map; the user_home_t -fw_cfg refused read', () => {
    const rows = (n: string) => Object.fromEntries((result.files[n]!.explain!.otherFiles ?? []).map((r) => [r.element, r]));
    const uefi = rows('i22-uefi');
    expect(uefi['os/loader']!.models.selinux).toMatchObject({ action: 'as-is', accessible: true });
    expect(uefi['os/nvram']!.models.selinux).toMatchObject({ action: 'keep', accessible: null });
    expect(uefi['os/nvram']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
    const ann = result.files['i22-uefi']!.annotated;
    expect(ann.match(/<seclabel/g)).toHaveLength(1);
    expect(ann).toContain("<seclabel model='dac' relabel='no'/>");
    const u = result.files['i22-uefi']!;
    const vars = '/srv/i22/home/VARS.fd';
    expect(u.original.started && typeof u.annotatedStart !== 'string' && u.annotatedStart.started, log).toBe(true);
    const a = u.annotatedStart as Start;
    // SELinux relabels the vars in both starts (rule 2); the DAC annotation keeps the user's owner.
    expect(typeOf(a.during[vars]!.label)).toBe('svirt_image_t');
    expect(a.during[vars]!.owner).toBe('1000:1000');
    expect(u.original.during[vars]!.owner).toBe(QEMU);
    for (const s of [u.original, a]) expect(s.after[vars]).toMatchObject({ label: obj('user_home_t'), owner: '1000:1000' });

    // The firmware as the host's 9p tree labels it (lib_t): Debian's policy gives svirt_t read but not lock.
    const libT = rows('i22-uefi-lib-t')['os/loader']!.models.selinux;
    expect(libT).toMatchObject({ action: 'as-is', accessible: false });
    expect(libT.reason).toContain('lib_t:file { lock }');
    const l = result.files['i22-uefi-lib-t']!.original;
    expect(l.started).toBe(false);
    expect(svirt(l.denials['/usr/share/OVMF/OVMF_CODE.fd']).map((d) => [d.perms, typeOf(d.tcontext), d.permissive])).toContainEqual(['lock', 'lib_t', false]);

    // Direct kernel boot: the kernel alone starts (relabelled, given back); with the initrd QEMU is refused map.
    const ko = result.files['i22-kernel-only']!.original;
    expect(ko.started).toBe(true);
    expect(ko.during['/srv/i22/boot/vmlinuz']).toMatchObject({ label: obj('virt_content_t'), owner: QEMU });
    expect(ko.after['/srv/i22/boot/vmlinuz']).toMatchObject({ label: obj('boot_t'), owner: '0:0' });
    const k = rows('i22-kernel');
    expect(k['os/kernel']!.models.selinux).toMatchObject({ action: 'relabel', accessible: true });
    expect(k['os/initrd']!.models.selinux).toMatchObject({ action: 'relabel', accessible: false });
    expect(k['os/initrd']!.models.selinux.reason).toMatch(/virt_content_t:file \{ map \}/);
    const kr = result.files['i22-kernel']!.original;
    expect(kr.started).toBe(false);
    expect(svirt(kr.denials['/srv/i22/boot/initrd.img']).map((d) => [d.perms, typeOf(d.tcontext), d.permissive])).toContainEqual(['map', 'virt_content_t', false]);
    console.log(`selinux guest, direct boot with an initrd: virsh start said ${JSON.stringify(kr.startMessage)}`);

    expect(rows('i22-fwcfg-ok')['qemu:commandline/arg[2] -fw_cfg']!.models.selinux).toMatchObject({ action: 'as-is', accessible: true });
    const row = rows('i22-fwcfg-denied')['qemu:commandline/arg[2] -fw_cfg']!;
    expect(row.models.selinux).toMatchObject({ action: 'as-is', accessible: false });
    expect(row.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(result.check.exit).toBe(1);
    expect(result.check.stderr).toContain('i22-fwcfg-denied.xml:17:5: error: qemu:commandline/arg[2] -fw_cfg (/srv/i22/ign/vm.ign): selinux: ');
    const s = result.files['i22-fwcfg-denied']!.original;
    expect(s.started).toBe(false);
    expect(svirt(s.denials['/srv/i22/ign/vm.ign']).map((d) => [d.perms, d.tcontext, d.permissive])).toContainEqual(['read', obj('user_home_t'), false]);
    console.log(`selinux guest, -fw_cfg user_home_t: virsh start said ${JSON.stringify(s.startMessage)}`);
  });

  it('issue 22: a serial console to a file under virtlogd (s0, as on a Debian host): neither driver labels it, QEMU writes virtlogd\'s pipe, the domain starts; no start draws a denial on a pipe', () => {
    const c = result.files['i22-serial']!;
    const row = (c.explain!.otherFiles ?? []).find((r) => r.element === 'devices/serial[1]')!;
    expect(row.models.selinux.action).toBe('n/a');
    const s = c.original;
    const f = '/srv/i22/serial.log';
    expect(svirt(s.denials[f])).toEqual([]);
    expect(s.during[f]).toMatchObject({ label: obj('var_t'), owner: '0:0' });
    expect(s.started, `${s.startMessage}\n${log}`).toBe(true);
    for (const [name, fc] of Object.entries(result.files))
      for (const st of [fc.original, fc.annotatedStart]) if (typeof st !== 'string') expect(pipeDenials(st), `${name}: QEMU refused a pipe`).toEqual([]);
    console.log(`selinux guest, serial file under virtlogd at s0: started=${s.started}; no start drew a denial on a pipe`);
  });

  it('issue 22: the elements first started under enforcing svirt here: fwcfg sysinfo entry, unix socket, rng, 9p shares, nvdimm, TPM emulator', () => {
    const rows = (n: string) => Object.fromEntries((result.files[n]!.explain!.otherFiles ?? []).map((r) => [r.element.split(' ')[0]!, r]));
    const dev = rows('i22-devices');
    const d = result.files['i22-devices']!.original;
    expect(d.started, d.startMessage).toBe(true);
    // <sysinfo type='fwcfg'>: relabelled virt_content_t and chowned while running, both given back.
    const blob = '/srv/i22/fwcfg/blob.bin';
    expect(dev['sysinfo[1]/entry[1]']!.models.selinux).toMatchObject({ action: 'relabel', accessible: true });
    expect(d.during[blob]).toMatchObject({ label: obj('virt_content_t'), owner: QEMU });
    expect(d.after[blob]).toMatchObject({ label: obj('user_home_t'), owner: '0:0', mode: '600' });
    // The socket: the VM's image label while running, the file contexts' label after the stop, root:root.
    const sock = '/srv/i22/sock/console.sock';
    expect(dev['devices/serial[1]']!.models.selinux.action).toBe('keep');
    expect(typeOf(d.during[sock]!.label)).toBe('svirt_image_t');
    expect(d.after[sock]).toMatchObject({ label: result.socketDefault, owner: '0:0' });
    expect(result.socketDefault).not.toBe(d.before[sock]!.label);
    // <rng> /dev/urandom: never labelled, readable as it is.
    expect(dev['devices/rng[1]']!.models.selinux).toMatchObject({ action: 'as-is', accessible: true });
    expect(d.during['/dev/urandom']).toEqual(d.before['/dev/urandom']);
    // 9p: the var_t share opens, the user_home_t share is refused read on the directory.
    expect(rows('i22-9p')['devices/filesystem[1]']!.models.selinux).toMatchObject({ action: 'as-is', accessible: true });
    expect(result.files['i22-9p']!.original.started).toBe(true);
    const home = rows('i22-9p-home')['devices/filesystem[1]']!.models.selinux;
    expect(home).toMatchObject({ action: 'as-is', accessible: false });
    expect(home.reason).toContain('user_home_t:dir { read }');
    const h = result.files['i22-9p-home']!.original;
    expect(h.started).toBe(false);
    expect(h.startMessage).toContain("failed to open '/srv/i22/home/share': Permission denied");
    expect(svirt(h.denials['/srv/i22/home/share']).map((x) => [x.perms, typeOf(x.tcontext), x.tclass])).toContainEqual(['read', 'user_home_t', 'dir']);
    // nvdimm: QEMU maps its backing file; Debian's policy gives svirt_t no map on svirt_image_t.
    const nv = rows('i22-nvdimm')['devices/memory[1]']!.models.selinux;
    expect(nv).toMatchObject({ action: 'relabel', accessible: false });
    expect(nv.reason).toContain('svirt_image_t:file { map }');
    const n = result.files['i22-nvdimm']!.original;
    expect(n.started).toBe(false);
    expect(n.startMessage).toContain('unable to map backing store for guest RAM: Permission denied');
    expect(svirt(n.denials['/srv/i22/home/nvdimm.img']).map((x) => [x.perms, typeOf(x.tcontext)])).toContainEqual(['map', 'svirt_image_t']);
    expect(n.after['/srv/i22/home/nvdimm.img']).toMatchObject({ label: obj('user_home_t'), owner: '1000:1000' });
    // TPM emulator: libvirt runs swtpm under the VM's label; svirt_t may be entered only through qemu_exec_t.
    const tpm = rows('i22-tpm')['devices/tpm[1]']!.models.selinux;
    expect(tpm).toMatchObject({ action: 'as-is', accessible: false });
    expect(tpm.reason).toContain('bin_t:file { entrypoint }');
    const t = result.files['i22-tpm']!.original;
    expect(t.started).toBe(false);
    expect(t.startMessage).toContain('cannot execute binary /usr/bin/swtpm: Permission denied');
    expect(svirt(t.denials[SWTPM]).map((x) => [x.perms, typeOf(x.tcontext), x.permissive])).toContainEqual(['entrypoint', 'bin_t', false]);
    console.log(`selinux guest, TPM emulator: virsh start said ${JSON.stringify(t.startMessage)}; nvdimm: ${JSON.stringify(n.startMessage.split('\n').pop())}; 9p user_home_t: ${JSON.stringify(h.startMessage.split('\n').pop())}`);
  });

  it('issue 25: a crash leaves SELinux and DAC records; doctor names them stale with libvirt\'s words, libvirt refuses with the SELinux "already in use", --apply gives back label and owner, the next start and stop restore as libvirt does', () => {
    const d = result.doctor;
    const f = '/srv/i25/crash/disk.raw';
    expect(d.aStart.exit, d.aStart.stderr).toBe(0);
    const running: Snapshot = d.running;
    expect(running.records).toMatchObject({ selinux: obj('virt_image_t'), ref_selinux: '1', dac: '+4242:+4242', ref_dac: '1' });
    expect(typeOf(running.state.label)).toBe('svirt_image_t');
    expect(d.whileRunning.report.findings.map((x) => [x.model, x.verdict])).toEqual(expect.arrayContaining([['selinux', 'consistent'], ['dac', 'consistent']]));
    // The crash: the daemon comes back, the domain is shut off, the records and the VM's label stay.
    expect(d.afterCrash.domstate).toBe('shut off');
    expect(d.afterCrash.records).toEqual(running.records);
    expect(d.afterCrash.state.label).toBe(running.state.label);
    const seen = d.seenJson.report.findings;
    const sel = seen.find((x) => x.model === 'selinux')!;
    expect(d.seenJson.exit).toBe(1);
    expect(sel).toMatchObject({ path: f, verdict: 'stale', cause: 'over-count', counted: 0, original: { label: obj('virt_image_t') }, record: { countValue: 1, thisBoot: true } });
    const says = `Requested operation is not valid: Setting different SELinux label on ${f} which is already in use`;
    expect(sel.libvirtWillSay).toBe(says);
    // The disk is the qemu user's: DAC alone would let the next start through, but SELinux fails it first.
    const dac = seen.find((x) => x.model === 'dac')!;
    expect(dac).toMatchObject({ verdict: 'stale', cause: 'over-count' });
    expect(dac.libvirtWillSay ?? null).toBeNull();
    expect(dac.consequence).toMatch(/^the next start fails on the SELinux record first \(libvirt labels with SELinux before DAC: /);
    expect(d.aRestart.exit).not.toBe(0);
    expect(d.aRestart.stderr).toContain(`error: ${says}`);
    // libvirt's own words, from the domain with another static label over the stale record.
    expect(d.bStart.exit).not.toBe(0);
    expect(d.bStart.stderr).toContain(`error: ${says}`);
    console.log(`selinux guest, stale record: doctor said ${JSON.stringify(sel.libvirtWillSay ?? null)}; virsh start of a static-label domain said ${JSON.stringify(d.bStart.stderr)}; the same domain again (new dynamic categories) said ${JSON.stringify(d.aRestart.stderr)}`);
    expect(d.afterRefusal.records).toEqual(d.stale.records);
    // --apply: the remembered label and owner back, the records gone.
    expect(d.apply.exit, d.apply.stdout + d.apply.stderr).toBe(0);
    // The text --apply prints first is doctor's report: both records named stale, with libvirt's words.
    console.log(`selinux guest, doctor --apply:\n${d.apply.stdout}`);
    expect(d.apply.stdout).toContain(`${f}: selinux: stale (over-count)`);
    expect(d.apply.stdout).toContain(`  libvirt will say: ${says}\n`);
    expect(d.apply.stdout).toContain(`applied: ${f} (selinux): removed trusted.libvirt.security.ref_selinux; removed trusted.libvirt.security.selinux; removed trusted.libvirt.security.timestamp_selinux; label ${d.stale.state.label} → ${obj('virt_image_t')}`);
    expect(d.afterApply.records).toEqual({});
    expect(d.afterApply.state).toMatchObject({ label: obj('virt_image_t'), owner: '4242:4242' });
    // libvirt's normal cycle again.
    expect(d.nextStart.exit, d.nextStart.stderr).toBe(0);
    expect(typeOf(d.nextRunning.state.label)).toBe('svirt_image_t');
    expect(d.nextRunning.records).toMatchObject({ selinux: obj('virt_image_t'), ref_selinux: '1' });
    expect(d.nextStopped.records).toEqual({});
    expect(d.nextStopped.state).toMatchObject({ label: obj('virt_image_t'), owner: '4242:4242' });
  });

  it('issue 25: a read-only ISO is left virt_content_t and chowned after the stop: reported, changed only with --label/--owner', () => {
    const d = result.doctor;
    const iso = '/srv/i25/crash/cd.iso';
    expect(d.isoStart.exit, d.isoStart.stderr).toBe(0);
    expect(d.isoRunning.label).toBe(obj('virt_content_t'));
    expect(d.isoStopped.records).toEqual({});
    expect(d.isoStopped.state).toMatchObject({ label: obj('virt_content_t'), owner: QEMU });
    const found = d.isoSeen.report.findings.filter((x) => x.path === iso);
    expect(found.map((x) => [x.model, x.verdict]).sort()).toEqual([['dac', 'left-chowned'], ['selinux', 'left-chowned']]);
    const sel = found.find((x) => x.model === 'selinux')!;
    expect(sel.summary).toContain(`labelled ${obj('virt_content_t')} with no record and no running domain using it`);
    console.log(`selinux guest, ISO after stop: ${sel.summary}; likely ${JSON.stringify(sel.likely)}`);
    expect(d.isoApplyBare.exit).toBe(1);
    expect(d.isoApplyBare.stdout).toContain(`${iso}: selinux: left labelled (nothing-remembered): `);
    expect(d.isoApplyBare.stdout).toContain('--apply changes nothing: the label it had is not known: name it with --label CONTEXT to give it back');
    expect(d.isoAfterBare).toMatchObject({ label: obj('virt_content_t'), owner: QEMU });
    expect(d.isoApplyNamed.exit, d.isoApplyNamed.stdout + d.isoApplyNamed.stderr).toBe(0);
    expect(d.isoAfterNamed).toMatchObject({ label: obj('public_content_t'), owner: '4242:4242' });
  });
});
