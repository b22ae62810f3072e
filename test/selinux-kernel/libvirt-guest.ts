/**
 * Shared by the libvirt-*.test.ts files: boots the SELinux guest with this host's own libvirtd inside
 * (guest/libvirt.sh, guest/libvirt.mjs) and checks what one domain started twice shows, from the
 * original XML and from the XML our CLI annotated in live mode inside the guest. The evidence per start
 * is what libvirt did to each file (label and owner while QEMU runs, paused), QEMU's own context, and
 * the AVC denials the kernel logged, attributed to a file by device, inode and name.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, expect } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { bootGuest, REPO } from './harness.js';

export const requirementsMissing = () =>
  missingRequirements({
    root: true,
    commands: ['qemu-system-x86_64', 'libvirtd', 'virtlogd', 'virsh', 'qemu-img', 'losetup', 'semodule', 'cpio', 'apt-get', 'dpkg-deb'],
    files: ['/usr/bin/busybox', '/etc/selinux/default/policy/policy.33', '/etc/selinux/mls/policy/policy.33', '/var/lib/selinux/default/active/policy.kern'],
  });

export const T = '/srv/vsl';
export const obj = (type: string, level = 's0') => `system_u:object_r:${type}:${level}`;

export interface FileState { label: string | null; uid: number; gid: number; ino: number }
export interface Denial { path: string; perms: string; scontext: string; tcontext: string; fromQemu: boolean; permissive: boolean }
export interface Start {
  started: boolean;
  startMessage: string;
  startSeconds: number;
  qemuContext: string | null;
  files: Record<string, FileState>;
  denials: Denial[];
  /** QEMU's own error lines from its log, when the start failed. */
  qemuLog?: string;
}
export interface Decision { action: string; accessible: boolean | null; reason: string }
export interface Disk { target: string; source: string; models: Record<string, Decision | undefined> }
export interface Case {
  annotateExit: number;
  annotateStderr: string;
  annotated: string;
  explain: { connection: { models: Record<string, { active: boolean }> }; files: { disks: Disk[] }[] } | null;
  original: Start;
  annotatedStart: Start;
  staleCheck?: { exit: number; stdout: string; stderr: string };
  labelsProcess?: { context: string } | null;
  daemonExit?: number;
  daemonStderr?: string;
  /** qemu:///session: what the user's libvirtd logged about the ISO. */
  daemonLog?: string[] | null;
}
export interface Result {
  mode: string;
  waitedForLibvirtSeconds: number;
  seconds: number;
  capabilities: string;
  labelsProcess: { context: string } | null;
  setup: { path: string; want: string; got: string | null; uid: number }[];
  cases: Record<string, Case>;
  errors: string[];
}
export interface Booted { result: Result; log: string; seconds: number }

/** The policy for the enforcing boot: Debian's default with libvirtd's and virtlogd's domains permissive. */
export const daemonsPermissivePolicy = () => execFileSync('bash', [`${REPO}/scripts/selinux-guest/build-policy.sh`], { encoding: 'utf8' }).trim();

export async function bootLibvirt(policy: string, mode: 'permissive' | 'enforcing' | 'mls'): Promise<Booted> {
  const enforcing = mode === 'enforcing';
  // Enforcing: the host's 9p tree is one label svirt_t may read and map (QEMU's libraries, firmware).
  const run = await bootGuest({ policy, job: `${REPO}/test/selinux-kernel/guest/libvirt.sh`, arg: mode, enforcing, hostContext: enforcing ? obj('lib_t') : undefined, timeoutMs: 1_500_000 });
  const log = `--- guest stderr ---\n${run.stderr.slice(-6000)}\n--- guest console (tail) ---\n${run.console.slice(-8000)}`;
  let result: Result;
  try {
    result = JSON.parse(run.stdout) as Result;
  } catch {
    throw new Error(`the libvirt job printed no JSON\n${log}`);
  }
  const starts = Object.entries(result.cases).map(([n, c]) => `${n} ${c.original.startSeconds.toFixed(1)}+${c.annotatedStart.startSeconds.toFixed(1)}`).join(', ');
  console.log(`selinux guest, libvirt ${mode}: ${run.seconds.toFixed(0)} s in all, libvirtd ready after ${result.waitedForLibvirtSeconds.toFixed(0)} s; virsh start seconds (original+annotated): ${starts}`);
  return { result, log, seconds: run.seconds };
}

/** libvirt-qemu's uid on this host: the owner libvirt's DAC driver gives a file it labels. */
export const qemuUid = () => Number(execFileSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' }).trim());

export interface GuestHandle {
  readonly booted: Booted;
  /** The label and owner each file had before every start. */
  readonly first: Map<string, { ctx: string; uid: number }>;
  readonly qemuUid: number;
}

/** Boots the guest once for a describe block (in its beforeAll); the tests read the handle afterwards. */
export function useLibvirtGuest(policy: () => string, mode: 'permissive' | 'enforcing' | 'mls'): GuestHandle {
  const handle = {} as { booted: Booted; first: Map<string, { ctx: string; uid: number }>; qemuUid: number };
  beforeAll(async () => {
    handle.qemuUid = qemuUid();
    handle.booted = await bootLibvirt(policy(), mode);
    handle.first = new Map(handle.booted.result.setup.map((s) => [s.path, { ctx: s.want, uid: s.uid }]));
  }, 1_600_000);
  return handle;
}

export const typeOf = (ctx: string | null | undefined) => ctx?.split(':')[2];
export const levelOf = (ctx: string | null | undefined) => ctx?.split(':').slice(3).join(':');
export const userRoleType = (ctx: string | null | undefined) => ctx?.split(':').slice(0, 3).join(':');

export const disksOf = (c: Case) => c.explain!.files[0]!.disks;
export const annotated = (c: Case, model: string) => disksOf(c).filter((d) => d.models[model]?.action === 'annotate').map((d) => d.source);
/** Every file QEMU opens for a disk: a chain's backing file comes with its top. */
export const chainOf = (source: string) => (source === `${T}/top.qcow2` ? [source, `${T}/base.raw`] : [source]);
/** Denials the kernel logged against a file for a svirt_t process (QEMU, or its child before exec completes). */
export const svirtDenials = (s: Start, path: string) => s.denials.filter((d) => d.path === path && typeOf(d.scontext) === 'svirt_t');

/**
 * One domain started from the original and the annotated XML: both start, QEMU runs as the process
 * the tool reasoned about, every file the annotation covers keeps its first label (SELinux) or owner
 * (DAC) and draws no denial from QEMU, and libvirt changed each of them without the annotation.
 */
export function checkStartedTwice(name: string, c: Case, first: Map<string, { ctx: string; uid: number }>, process: string, qemuUid: number, log: string): void {
  expect(c.annotateExit, `${name}: annotate: ${c.annotateStderr}`).toBe(0);
  for (const s of [c.original, c.annotatedStart]) {
    expect(s.started, `${name}: virsh start: ${s.startMessage}\n${log}`).toBe(true);
    expect(userRoleType(s.qemuContext), `${name}: QEMU's context ${s.qemuContext}`).toBe(userRoleType(process));
  }
  for (const src of annotated(c, 'selinux')) {
    for (const f of chainOf(src)) {
      expect(c.annotatedStart.files[f]!.label, `${name}: ${f} keeps its label`).toBe(first.get(f)!.ctx);
      expect(svirtDenials(c.annotatedStart, f), `${name}: ${f}: no denial for QEMU`).toEqual([]);
      // A shareable disk already labelled svirt_image_t:s0 is what libvirt would write anyway.
      if (first.get(f)!.ctx !== obj('svirt_image_t')) expect(c.original.files[f]!.label, `${name}: ${f}: relabelled without the annotation`).not.toBe(first.get(f)!.ctx);
    }
  }
  for (const src of annotated(c, 'dac')) {
    for (const f of chainOf(src)) {
      expect(c.annotatedStart.files[f]!.uid, `${name}: ${f} keeps its owner`).toBe(first.get(f)!.uid);
      expect(c.original.files[f]!.uid, `${name}: ${f}: chowned to qemu without the annotation`).toBe(qemuUid);
    }
  }
}
