/**
 * Filesystem faults under `--in-place`, with the built CLI on real mounts: a read-only directory (a
 * read-only bind mount, and a 0555 directory for an unprivileged user), a full filesystem (a 64 KiB
 * tmpfs), a symlink target (static, and swapped in while the CLI runs), two runs on one file at once,
 * and kill -9 at random moments and right when the temporary file appears. After each: the file is the
 * original or the complete new output (never truncated), and the error names the path and the cause.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, watch, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { CLI, runCli, runCommand, spawnKillableCli } from './support/cli.js';
import { createRng, fuzzCount, fuzzSeed } from './support/prng.js';

const skip = missingRequirements({ root: true, files: [CLI], commands: ['mount', 'umount', 'setpriv', 'chattr', 'mkfs.ext4', 'truncate'] });
const QEMU = (user: string) => ['--models', 'dac', '--user', user, '--group', user === 'root' ? 'root' : 'nogroup', '--qemu-conf', '/nonexistent/qemu.conf'];
const TEMP = /\.virt-seclabel-[0-9a-f]+\.tmp$/;

describe.skipIf(skip)('filesystem faults with --in-place (built CLI, real mounts)', () => {
  const base = mkdtempSync(join(tmpdir(), 'vsl-hardening-fs-'));
  const images = join(base, 'images');
  const mounts: string[] = [];
  let domain = '';
  let byNobody: Uint8Array = new Uint8Array();
  let byRoot: Uint8Array = new Uint8Array();

  const mount = (...args: string[]) => {
    execFileSync('mount', args, { stdio: 'pipe' });
    mounts.push(args[args.length - 1]!);
  };
  const tempsIn = (dir: string) => readdirSync(dir).filter((n) => TEMP.test(n));
  const annotated = async (user: string, text: string) => {
    const r = await runCli(QEMU(user), { stdin: new TextEncoder().encode(text), timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    chmodSync(base, 0o755);
    mkdirSync(images, { mode: 0o755 });
    writeFileSync(join(images, 'shared.iso'), '', { mode: 0o644 });
    writeFileSync(join(images, 'private.img'), '', { mode: 0o600 });
    chmodSync(join(images, 'shared.iso'), 0o644);
    chmodSync(join(images, 'private.img'), 0o600);
    domain = `<domain type='kvm'>
  <name>faults</name>
  <description>${'x'.repeat(100)}</description>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${images}/shared.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${images}/private.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
`;
    // nobody can read only the shared ISO; root can use both: two different complete outputs.
    byNobody = await annotated('nobody', domain);
    byRoot = await annotated('root', domain);
    expect(Buffer.from(byNobody).equals(Buffer.from(byRoot))).toBe(false);
    expect(new TextDecoder().decode(byNobody)).toContain("<seclabel model='dac' relabel='no'/>");
  }, 300_000);

  afterAll(() => {
    for (const m of mounts.reverse()) execFileSync('umount', [m], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  });

  const fresh = (name: string, dir = base) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true, mode: 0o755 });
    const f = join(d, 'faults.xml');
    writeFileSync(f, domain);
    return { dir: d, file: f };
  };
  const same = (a: Uint8Array | Buffer, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

  /** A large input (4 MB of description) so that reading, deciding and writing take a while; timed once. */
  let bigRun: { text: string; complete: Buffer; ms: number } | undefined;
  const big = async () => {
    if (bigRun) return bigRun;
    const text = domain.replace(`<description>${'x'.repeat(100)}</description>`, `<description>${'x'.repeat(4_000_000)}</description>`);
    const probe = fresh('big-probe');
    writeFileSync(probe.file, text);
    const full = await runCli([...QEMU('nobody'), '--in-place', probe.file], { timeoutMs: 300_000 });
    expect(full.code, full.stderr).toBe(0);
    bigRun = { text, complete: readFileSync(probe.file), ms: full.ms };
    return bigRun;
  };

  it('read-only bind mount: exit 2, the error names the file and EROFS, the file is untouched, no temp file', async () => {
    const { dir, file } = fresh('ro');
    mount('--bind', dir, dir);
    execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
    const r = await runCli([...QEMU('nobody'), '--in-place', file], { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toHaveLength(0);
    // The README's format: the file once, `error:`, the errno in words; no Node message, no temp name.
    expect(r.stderr).toBe(`${file}: error: cannot write: read-only file system (EROFS)\n`);
    expect(readFileSync(file, 'utf8')).toBe(domain);
    expect(tempsIn(dir)).toEqual([]);
  });

  it('0555 directory for an unprivileged user: exit 2 with EACCES, the file is untouched, no temp file', async () => {
    const { dir, file } = fresh('locked');
    chownSync(dir, 65534, 65534);
    chownSync(file, 65534, 65534);
    chmodSync(dir, 0o555);
    const r = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...QEMU('nobody'), '--in-place', file], {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`${file}: error: cannot write: permission denied (EACCES)\n`);
    expect(readFileSync(file, 'utf8')).toBe(domain);
    expect(tempsIn(dir)).toEqual([]);
  });

  it('immutable directory (chattr +i on ext4): exit 2 with EPERM in words, the file is untouched, no temp file', async () => {
    // tmpfs takes no inode flags; an ext4 image loop-mounted is the filesystem people have.
    const img = join(base, 'ext4.img');
    const dir = join(base, 'immutable');
    mkdirSync(dir);
    execFileSync('truncate', ['-s', '8M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', img], { stdio: 'pipe' });
    mount('-o', 'loop', img, dir);
    const file = join(dir, 'faults.xml');
    writeFileSync(file, domain);
    execFileSync('chattr', ['+i', dir]);
    try {
      const r = await runCli([...QEMU('nobody'), '--in-place', file], { timeoutMs: 120_000 });
      expect(r.code).toBe(2);
      expect(r.stdout).toHaveLength(0);
      expect(r.stderr).toBe(`${file}: error: cannot write: operation not permitted (EPERM)\n`);
      expect(readFileSync(file, 'utf8')).toBe(domain);
      expect(tempsIn(dir)).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', dir]);
    }
  });

  it('full filesystem (64 KiB tmpfs): exit 2 with ENOSPC, the file is untouched, no temp file', async () => {
    const dir = join(base, 'full');
    mkdirSync(dir);
    mount('-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir);
    const file = join(dir, 'faults.xml');
    writeFileSync(file, domain);
    // Fill every remaining block.
    const filler = join(dir, 'filler');
    try {
      for (;;) writeFileSync(filler, Buffer.alloc(1024, 1), { flag: 'a' });
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const r = await runCli([...QEMU('nobody'), '--in-place', file], { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${file}: error: cannot write: no space left on device (ENOSPC)\n`);
    expect(readFileSync(file, 'utf8')).toBe(domain);
    expect(tempsIn(dir)).toEqual([]);
    // Control: with room again, the same command succeeds on the same mount.
    rmSync(filler);
    const ok = await runCli([...QEMU('nobody'), '--in-place', file], { timeoutMs: 120_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(same(readFileSync(file), byNobody)).toBe(true);
  });

  it('a symlink as FILE is refused (the link and its target stay as they are)', async () => {
    const { dir, file } = fresh('link');
    const link = join(dir, 'link.xml');
    symlinkSync(file, link);
    const r = await runCli([...QEMU('nobody'), '--in-place', link], { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(link);
    expect(r.stderr).toMatch(/symbolic link/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(domain);
  });

  it('a symlink swapped in while the CLI runs: the target is never written through the link', async () => {
    const seed = fuzzSeed();
    const rng = createRng(seed);
    const n = fuzzCount(2);
    const outcomes = { refusedAtWrite: 0, readTheLink: 0, writtenBeforeSwap: 0, replacedTheLink: 0 };
    for (let i = 0; i < n; i++) {
      const { dir, file } = fresh(`swap-${i}`);
      const b = await big();
      writeFileSync(file, b.text);
      const victim = join(dir, 'victim.xml');
      writeFileSync(victim, 'victim\n');
      const link = join(dir, 'new-link');
      symlinkSync(victim, link);
      const run = runCli([...QEMU('nobody'), '--in-place', file], { timeoutMs: 120_000 });
      // Mostly after the read and before the write; sometimes before the read.
      await new Promise((r) => setTimeout(r, b.ms * (0.2 + 0.7 * rng.next())));
      renameSync(link, file);
      const r = await run;
      expect(readFileSync(victim, 'utf8'), `seed ${seed} run ${i}`).toBe('victim\n');
      if (r.code === 2) {
        // Swapped before the write: refused at the write; swapped before the read: the link's target was
        // read (it is not a domain), refused at parse. Either way the error names the file.
        expect(r.stderr).toContain(file);
        if (/symbolic link/.test(r.stderr)) outcomes.refusedAtWrite++;
        else outcomes.readTheLink++;
      } else {
        expect(r.code, r.stderr).toBe(0);
        if (lstatSync(file).isSymbolicLink()) outcomes.writtenBeforeSwap++;
        else {
          // Swapped in the instant between the last check and rename(2): the rename replaced the link
          // itself with the complete output. The link's target is untouched (checked above), which is
          // what matters; the path now holds a whole annotated document, never a partial one.
          expect(same(readFileSync(file), b.complete)).toBe(true);
          outcomes.replacedTheLink++;
        }
      }
    }
    console.log(`symlink swap: seed ${seed}, ${n} runs: ${JSON.stringify(outcomes)}`);
  }, 300_000);

  it('two runs on the same file at once: always one of the two complete outputs, parseable, no temp file', async () => {
    const n = fuzzCount(2);
    const seen = { nobody: 0, root: 0, refused: 0 };
    for (let i = 0; i < n; i++) {
      const { dir, file } = fresh(`race-${i}`);
      const [a, b] = await Promise.all([
        runCli([...QEMU('nobody'), '--in-place', file], { timeoutMs: 120_000 }),
        runCli([...QEMU('root'), '--in-place', file], { timeoutMs: 120_000 }),
      ]);
      // A run that finds the file replaced by the other one before its own rename refuses (exit 2, the
      // other's change kept) instead of overwriting it; when the renames do not overlap both succeed.
      for (const r of [a, b]) {
        expect([0, 2], r.stderr).toContain(r.code);
        if (r.code === 2) {
          expect(r.stderr).toContain(`${file}: error: changed while it was processed; nothing written, run again`);
          seen.refused++;
        }
      }
      expect(a.code === 0 || b.code === 0, `${a.stderr}${b.stderr}`).toBe(true);
      const now = readFileSync(file);
      const which = same(now, byRoot) ? 'root' : same(now, byNobody) ? 'nobody' : undefined;
      expect(which, `run ${i}: the file is neither complete output:\n${now.toString()}`).toBeDefined();
      seen[which!]++;
      expect(tempsIn(dir)).toEqual([]);
    }
    console.log(`concurrent --in-place: ${n} pairs, final file = root's output ${seen.root}x, nobody's ${seen.nobody}x, ${seen.refused} runs refused`);
  }, 600_000);

  it('kill -9 at random moments and right when the temporary file appears: original or complete, never truncated', async () => {
    const seed = fuzzSeed();
    const rng = createRng(seed);
    const { text: bigText, complete, ms: duration } = await big();
    const n = fuzzCount(3);
    const tally = { original: 0, complete: 0, tempLeft: 0 };
    for (let i = 0; i < 2 * n; i++) {
      const { dir, file } = fresh(`kill-${i}`);
      writeFileSync(file, bigText);
      const atTemp = i % 2 === 1;
      const run = spawnKillableCli([...QEMU('nobody'), '--in-place', file]);
      let watcher: ReturnType<typeof watch> | undefined;
      if (atTemp) {
        // Kill within a few milliseconds of the temporary file being created: mid-write.
        watcher = watch(dir, (_e, name) => {
          if (name && TEMP.test(name)) setTimeout(() => run.kill(), rng.int(5));
        });
      } else setTimeout(() => run.kill(), duration * (0.3 + 0.9 * rng.next()));
      await run.done;
      watcher?.close();
      const now = readFileSync(file);
      const state = now.equals(Buffer.from(bigText)) ? 'original' : now.equals(complete) ? 'complete' : undefined;
      expect(state, `seed ${seed} kill ${i}: file has ${now.length} bytes, neither original (${bigText.length}) nor complete (${complete.length})`).toBeDefined();
      tally[state!]++;
      if (atTemp) expect(state, `seed ${seed} kill ${i} at temp-file creation`).toBe('original');
      tally.tempLeft += tempsIn(dir).length;
    }
    // A kill right at the temporary file's creation is before the rename: the original must be there.
    console.log(`kill -9 during --in-place: seed ${seed}, ${2 * n} kills (${n} at random times within ${duration.toFixed(0)} ms, ${n} at temp-file creation): ${JSON.stringify(tally)}`);
    expect(tally.original + tally.complete).toBe(2 * n);
  }, 600_000);
});

