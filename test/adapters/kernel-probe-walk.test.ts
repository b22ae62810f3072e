/**
 * The probe's lstat and readlink as QEMU's identity (adapters/live/kernel-probe.ts), against the kernel:
 * each answer is compared with lstat/readlink run by a setpriv'ed process of the same identity. Every
 * component is looked up as that identity with O_PATH|O_NOFOLLOW, so a link in the middle of the path is
 * never followed (the model's paths are physical), and a directory the identity may not search is refused.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createKernelProbe } from '../../src/adapters/live/kernel-probe.js';
import { missingRequirements } from '../support/requirements.js';

const QEMU = { uid: 64055, gid: 64055, groups: [107, 64055] };
const skip = missingRequirements({ root: true, commands: ['setpriv'], files: ['/usr/bin/python3'] });

/** lstat/readlink as the identity, by the kernel: errno name or the answer. */
function asQemu(op: 'lstat' | 'readlink', path: string): string {
  const code = op === 'lstat' ? 's=os.lstat(p); print("%o %d %d" % (s.st_mode, s.st_uid, s.st_gid))' : 'print(os.readlink(p))';
  const r = spawnSync(
    'setpriv',
    [`--reuid=${QEMU.uid}`, `--regid=${QEMU.gid}`, `--groups=${QEMU.groups.join(',')}`, '--inh-caps=-all', '--bounding-set=-all', '--', '/usr/bin/python3', '-I', '-S', '-c',
      `import os,sys,errno\np=sys.argv[1]\ntry:\n  ${code}\nexcept OSError as e:\n  print(errno.errorcode[e.errno])`, path],
    { encoding: 'utf8' },
  );
  return r.stdout.trim();
}

describe.skipIf(skip !== undefined)('the probe looks up and reads links as QEMU, as the kernel does', () => {
  const base = fs.mkdtempSync('/tmp/vsl-probe-walk-');
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('lstat and readlink answers equal the kernel\'s for that identity', () => {
    fs.chmodSync(base, 0o755);
    fs.mkdirSync(`${base}/grp`, { mode: 0o750 });
    fs.chownSync(`${base}/grp`, 0, 107);
    fs.mkdirSync(`${base}/shut`, { mode: 0o700 });
    fs.writeFileSync(`${base}/grp/f`, 'x', { mode: 0o640 });
    fs.writeFileSync(`${base}/shut/f`, 'x');
    fs.symlinkSync('f', `${base}/grp/l`);
    fs.symlinkSync('grp', `${base}/dirlink`);
    const probe = createKernelProbe({ neverInProcess: true });
    try {
      const rows: [string, string, string][] = [];
      for (const p of [`${base}/grp`, `${base}/grp/f`, `${base}/grp/l`, `${base}/shut/f`, `${base}/grp/nope`, `${base}/dirlink`, `${base}/dirlink/f`]) {
        const st = probe.lstat(QEMU, p);
        const mine = st.kind === 'ok' ? `${(({ file: 0o100000, dir: 0o40000, symlink: 0o120000 }) as Record<string, number>)[st.value.type]! + st.value.mode} ${st.value.uid} ${st.value.gid}` : st.kind === 'missing' ? st.errno : st.why;
        const ours = st.kind === 'ok' ? `${Number(mine.split(' ')[0]).toString(8)} ${mine.split(' ').slice(1).join(' ')}` : mine;
        rows.push([p, ours, asQemu('lstat', p)]);
      }
      const link = probe.readlink(QEMU, `${base}/grp/l`);
      expect(link).toEqual({ kind: 'ok', value: asQemu('readlink', `${base}/grp/l`) });
      // QEMU may search grp (group kvm): every inode the kernel shows it, the probe shows.
      for (const [p, ours, kernel] of rows.slice(0, 3)) expect(ours, p).toBe(kernel);
      // A directory it may not search: refused (EACCES), not "missing".
      expect(rows[3]![2]).toBe('EACCES');
      expect(rows[3]![1]).toContain('permission denied (EACCES)');
      expect(rows[4]).toEqual([`${base}/grp/nope`, 'ENOENT', 'ENOENT']);
      // The link itself, never its target; and no walk through it (the model's paths are physical).
      expect(rows[5]![1]).toBe(rows[5]![2]);
      expect(rows[6]![2]).not.toBe('ENOTDIR');
      expect(rows[6]![1]).toBe('ENOTDIR');
    } finally {
      probe.close();
    }
  });
});
