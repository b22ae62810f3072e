/**
 * Boots the guest (scripts/selinux-guest/): Debian's kernel with SELinux (a binary policy loaded) or
 * AppArmor as the active LSM (`lsm`), this host's root read-only over 9p, one job script from the
 * repository run inside; returns
 * what the job printed (framed on the console, so kernel messages in between are dropped) and the whole
 * console log for a failing test to show.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../..');

export interface GuestRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly console: string;
  readonly seconds: number;
}

export function buildGuest(): { kernel: string; initrd: string } {
  const [kernel, initrd] = execFileSync('bash', [join(REPO, 'scripts/selinux-guest/build-initramfs.sh'), join(REPO, '.cache/selinux-guest')], { encoding: 'utf8' }).trim().split('\n');
  return { kernel: kernel!, initrd: initrd! };
}

function framed(log: string, name: string): string | undefined {
  const m = new RegExp(`===VSL-${name}-BEGIN===\\r?\\n([\\s\\S]*?)===VSL-${name}-END===`).exec(log);
  if (!m) return undefined;
  // Only base64 lines: a kernel message printed in the middle of the frame is dropped.
  const b64 = m[1]!.split(/\r?\n/).filter((l) => /^[A-Za-z0-9+/=]+$/.test(l)).join('');
  return Buffer.from(b64, 'base64').toString('utf8');
}

/**
 * lsm 'selinux' (the default): policy is the binary policy to load, enforcing the kernel's mode.
 * lsm 'apparmor': Debian's kernel picks AppArmor (it is built in, like SELinux); securityfs is mounted at
 * /sys/kernel/security and no profile is loaded (the job loads what it needs with apparmor_parser).
 * No `audit=1`: without an auditd, AppArmor's records then go to the kernel log and nowhere else (with it,
 * kauditd also holds each for an auditd that never comes, and floods the console with "hold queue overflow").
 * The root is moved over / rather than chrooted into (init.sh): AppArmor names files from the namespace's root.
 */
export function bootGuest(opts: { lsm?: 'selinux' | 'apparmor'; policy?: string; job: string; arg?: string; enforcing?: boolean; hostContext?: string; timeoutMs?: number }): Promise<GuestRun> {
  const { kernel, initrd } = buildGuest();
  const lsm = opts.lsm === 'apparmor'
    ? ['security=apparmor', 'apparmor=1', 'vsl.lsm=apparmor']
    : ['security=selinux', 'selinux=1', `enforcing=${opts.enforcing ? 1 : 0}`, `vsl.policy=${opts.policy ?? ''}`];
  const append = ['console=ttyS0', 'loglevel=4', ...lsm, 'panic=-1', `vsl.job=${opts.job}`, `vsl.repo=${REPO}`, ...(opts.arg ? [`vsl.arg=${opts.arg}`] : []), ...(opts.hostContext ? [`vsl.hostcontext=${opts.hostContext}`] : [])].join(' ');
  // TCG: this kind of machine has no usable KVM (a KVM boot here hung in the BIOS).
  const args = ['-accel', 'tcg', '-m', '2048', '-smp', '1', '-nographic', '-no-reboot', '-kernel', kernel, '-initrd', initrd, '-append', append,
    '-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on'];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    // The console also goes to a file as it comes, to watch a long guest run (tail -f) while it runs.
    const live = join(REPO, '.tmp/selinux-guest', `${opts.job.split('/').pop()}-${opts.arg ?? 'run'}.console`);
    mkdirSync(join(REPO, '.tmp/selinux-guest'), { recursive: true });
    writeFileSync(live, '');
    const take = (c: Buffer) => { chunks.push(c); appendFileSync(live, c); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 900_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const log = Buffer.concat(chunks).toString('utf8');
      const stdout = framed(log, 'RESULT');
      const stderr = framed(log, 'STDERR') ?? '';
      if (stdout === undefined) {
        const why = log.includes('===VSL-RESULT-BEGIN===') ? 'the console stopped inside the result frame' : 'the guest printed no result';
        reject(new Error(`${why}; its console:\n${log.slice(-20000)}`));
      }
      else resolve({ stdout, stderr, console: log, seconds: (Date.now() - t0) / 1000 });
    });
  });
}
