/**
 * virt-aa-helper, libvirt's generator of the per-domain rules, as this program asks it: in dry-run
 * mode (`-d`) it reads the domain XML on stdin and prints on stderr, instead of writing them, the
 * .files path and its rules (each block as "virt-aa-helper:\n<text>\n"); when it refuses the domain it
 * prints "virt-aa-helper: error: …" lines (a refused path first, then why) and exits 1. libvirt runs it
 * with `-c` when /etc/apparmor.d/libvirt/libvirt-UUID does not exist yet and `-r` when it does; -c on an
 * existing profile fails with "profile exists", so the mode follows the host the same way.
 *
 * The run itself is a port (`VirtAaHelper`): the live one spawns the host's binary
 * (adapters/live/virt-aa-helper.ts), a snapshot replays what it printed, a test gives text.
 */
import { lazyBuiltin } from '../builtins.js';
import { filesPath } from './libvirt-profile.js';

export const VIRT_AA_HELPER = '/usr/lib/libvirt/virt-aa-helper';

export interface VirtAaHelperRequest {
  readonly uuid: string;
  /** The domain XML as libvirt would hand it over. */
  readonly xml: string;
  /** 'create' (-c) when the domain's profile does not exist yet, 'replace' (-r) when it does. */
  readonly mode: 'create' | 'replace';
}

/** What one run gave: its exit status and stderr, or why it could not run at all. */
export type VirtAaHelperRun =
  | { readonly kind: 'ran'; readonly status: number; readonly stderr: string }
  | { readonly kind: 'missing'; readonly why: string }
  | { readonly kind: 'unknown'; readonly why: string };

export interface VirtAaHelper {
  run(req: VirtAaHelperRequest): VirtAaHelperRun;
}

export type Generated =
  | { readonly ok: true; readonly rules: string; readonly warnings: readonly string[] }
  /** Refused: its error lines in its own words, and the path it named first (the element to blame). */
  | { readonly ok: false; readonly errors: readonly string[]; readonly path?: string; readonly why: string };

const PREFIX = 'virt-aa-helper';

/** The .files text out of a dry run's stderr, or its refusal. */
export function parseDryRun(uuid: string, run: VirtAaHelperRun): Generated {
  if (run.kind === 'missing') return { ok: false, errors: [], why: `${VIRT_AA_HELPER} is not installed (${run.why}), so the per-domain rules cannot be generated` };
  if (run.kind === 'unknown') return { ok: false, errors: [], why: `virt-aa-helper could not be run: ${run.why}` };
  const lines = run.stderr.split('\n');
  const errors = lines.filter((l) => l.startsWith(`${PREFIX}: error: `)).map((l) => l.slice(`${PREFIX}: error: `.length));
  const warnings = lines.filter((l) => l.startsWith(`${PREFIX}: warning: `)).map((l) => l.slice(`${PREFIX}: warning: `.length));
  if (run.status !== 0 || errors.length > 0) {
    const path = errors.find((e) => e.startsWith('/'));
    const words = errors.filter((e) => e !== path);
    return {
      ok: false,
      errors,
      ...(path !== undefined && { path }),
      why: `virt-aa-helper refuses the domain (exit ${run.status}): ${errors.length > 0 ? errors.map((e) => `"${e}"`).join(', ') : 'no error message'}${path !== undefined ? ` (about ${path}${words.length > 0 ? `: ${words[0]}` : ''})` : ''}`,
    };
  }
  const head = `${PREFIX}:\n${filesPath(uuid)}\n${PREFIX}:\n`;
  const start = run.stderr.indexOf(head);
  if (start === -1) return { ok: false, errors: [], why: `virt-aa-helper exited 0 but printed no rules for ${filesPath(uuid)}` };
  const from = start + head.length;
  // The next block (the profile's path, -c only) or the end; the buffer's own '\n' and vah_info's '\n' end it.
  const next = run.stderr.indexOf(`\n${PREFIX}:\n`, from);
  let rules = run.stderr.slice(from, next === -1 ? undefined : next + 1);
  if (rules.endsWith('\n\n')) rules = rules.slice(0, -1);
  return { ok: true, rules, warnings };
}

/**
 * Where a facts snapshot keeps one dry run: a text "file" under a path no host has, named by the
 * digest of the request (mode, uuid, XML), holding the run as JSON. Recorded by `facts` and answered
 * by the snapshot view like any other read, so a domain whose XML changed since is "not in the snapshot".
 */
export const VAH_RECORD_DIR = '/virt-seclabel:virt-aa-helper';
export const vahRecordPath = (digest: string) => `${VAH_RECORD_DIR}/${digest}`;

export function encodeRun(run: VirtAaHelperRun): string {
  return JSON.stringify(run);
}

export function decodeRun(text: string): VirtAaHelperRun {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o.kind === 'ran' && typeof o.status === 'number' && typeof o.stderr === 'string') return { kind: 'ran', status: o.status, stderr: o.stderr };
    if ((o.kind === 'missing' || o.kind === 'unknown') && typeof o.why === 'string') return { kind: o.kind, why: o.why };
  } catch {
    /* fall through */
  }
  return { kind: 'unknown', why: 'the recorded virt-aa-helper run is malformed' };
}

const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/** The digest a recorded run is kept under: SHA-256 over the mode, the uuid and the XML. */
export function requestDigest(req: VirtAaHelperRequest): string {
  return crypto()
    .createHash('sha256').update(`${req.mode}\0${req.uuid}\0${req.xml}`).digest('hex');
}

/**
 * virt-aa-helper 9.0's restrictions on the paths it adds (valid_path): prefixes it refuses outright, and
 * prefixes it accepts for read-only use only. Used to tell a person what would get the path accepted.
 */
const REFUSED_ALWAYS = ['/bin/', '/etc/', '/lib', '/lost+found/', '/proc/', '/sbin/', '/selinux/', '/sys/', '/usr/bin/', '/usr/lib', '/usr/sbin/', '/usr/share/', '/usr/local/bin/', '/usr/local/etc/', '/usr/local/lib', '/usr/local/sbin/'];
const READ_ONLY_OK = ['/boot/', '/vmlinuz', '/initrd', '/usr/share/edk2/', '/usr/share/OVMF/', '/usr/share/ovmf/', '/usr/share/AAVMF/', '/usr/share/qemu-efi/', '/usr/share/qemu-efi-aarch64/', '/usr/lib/u-boot/', '/usr/lib/riscv64-linux-gnu/opensbi'];
const ALWAYS_OK = ['/sys/devices/pci', '/sys/kernel/config/target/vhost', '/etc/libvirt-sandbox/services/'];

/** What gets a refused path accepted, in words. */
export function refusedPathAdvice(path: string): string {
  if (path.includes('"')) return 'virt-aa-helper refuses any path with a double quote in it: rename the file';
  if (ALWAYS_OK.some((p) => path.startsWith(p))) return 'virt-aa-helper accepts this path, so it refused for another reason';
  if (READ_ONLY_OK.some((p) => path.startsWith(p))) return 'virt-aa-helper accepts files under it only for read-only use: make the disk <readonly/>, or move a writable file elsewhere (e.g. /var/lib/libvirt/images)';
  if (REFUSED_ALWAYS.some((p) => path.startsWith(p))) return 'virt-aa-helper refuses any use of files under this system directory: move the file elsewhere (e.g. /var/lib/libvirt/images)';
  return 'move the file elsewhere (e.g. /var/lib/libvirt/images)';
}
