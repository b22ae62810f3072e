/**
 * grant against the Linux kernel: generated trees (modes, owners, ACLs with and without masks,
 * group-readable files, 0700 directories, symlinks across directories) are planned, applied through
 * the live effects (O_PATH walk + setfacl on /proc/self/fd/3), and then
 * - the qemu identity (setpriv, no capabilities) opens every planned file with the mode it needs;
 * - nothing but the planned inodes changed (every ACL and mode of the tree compared before and after),
 *   and each planned inode holds exactly the planned ACL;
 * - no element of the plan can be dropped: taking back any one entry or mask widening makes the
 *   kernel deny again.
 * Seed and size: GRANT_KERNEL_SEED, GRANT_KERNEL_SCENARIOS (default 60).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permString } from '../../src/dac/acl.js';
import { checkDacAccess } from '../../src/dac/check.js';
import { applyGrants } from '../../src/dac/grant-apply.js';
import { GrantPlanner, type InodeGrant } from '../../src/dac/grant-plan.js';
import type { QemuIdentity } from '../../src/dac/identity.js';
import { createLiveGrantEffects, probeAclSupport } from '../../src/adapters/live/acl-effects.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import { rng, type Rng } from './support/prng.js';
import { makeScratch, type Scratch } from './support/scratch-fs.js';

const SEED = Number(process.env.GRANT_KERNEL_SEED ?? 20261203);
const COUNT = Number(process.env.GRANT_KERNEL_SCENARIOS ?? 60);
const skip = missingRequirements({ root: true, commands: ['setpriv', 'setfacl', 'getfattr', 'mount', 'umount'], files: ['/usr/bin/python3'] });

/** The qemu identity of these trees: a uid no tree owner uses, with a supplementary group some trees name. */
const QEMU: QemuIdentity = { uid: 61401, gid: 61401, groups: [61401, 61402] };
const OWNERS = [4101, 4102, 0];
const GROUPS = [4101, 61402, 0];
const DIR_MODES = [0o700, 0o750, 0o755, 0o711, 0o705, 0o770, 0o710];
const FILE_MODES = [0o600, 0o640, 0o644, 0o400, 0o660, 0o604, 0o620];
const ACLS = [
  undefined,
  undefined,
  'u::rwx,u:4102:r-x,g::r-x,m::r-x,o::---',
  'u::rwx,u:4102:rwx,g::rwx,g:4101:r--,m::r--,o::---',
  'u::rwx,g::---,g:61402:r-x,m::--x,o::---',
  'u::rwx,u:61401:r--,g::r--,m::r--,o::---',
  'u::rwx,u:4102:rwx,g::---,m::---,o::r-x',
];

interface Scenario {
  readonly dir: string;
  /** The path a disk names (maybe through a link) and the access it needs. */
  readonly path: string;
  readonly want: 'read' | 'readwrite';
}

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function node(r: Rng, path: string, kind: 'dir' | 'file') {
  if (kind === 'dir') fs.mkdirSync(path);
  else fs.writeFileSync(path, 'disk');
  fs.chownSync(path, r.pick(OWNERS), r.pick(GROUPS));
  fs.chmodSync(path, kind === 'dir' ? r.pick(DIR_MODES) : r.pick(FILE_MODES));
  const acl = r.pick(ACLS);
  // The ACL as given (its mask becomes the mode's group bits, as the kernel does).
  if (acl) run('setfacl', ['-n', '--set', kind === 'file' ? acl.replace(/x(?=,|$)/g, '-') : acl, path]);
}

function build(base: string, r: Rng, i: number): Scenario {
  const dir = `${base}/s${i}`;
  fs.mkdirSync(dir, { mode: 0o755 });
  node(r, `${dir}/a`, 'dir');
  node(r, `${dir}/a/b`, 'dir');
  node(r, `${dir}/a/b/disk.img`, 'file');
  fs.mkdirSync(`${dir}/links`, { mode: 0o755 });
  const want = r.chance(0.3) ? 'readwrite' : 'read';
  if (r.chance(0.3)) {
    // A symlink in another directory, owned by the file's owner or root (the ones grant follows).
    const target = r.chance(0.5) ? `${dir}/a/b/disk.img` : '../a/b/disk.img';
    fs.symlinkSync(target, `${dir}/links/l.img`);
    const owner = r.chance(0.5) ? 0 : fs.statSync(`${dir}/a/b/disk.img`).uid;
    fs.lchownSync(`${dir}/links/l.img`, owner, 0);
    return { dir, path: `${dir}/links/l.img`, want };
  }
  return { dir, path: `${dir}/a/b/disk.img`, want };
}

/** Every inode's mode and ACL xattr under a directory (getfattr -R, no links followed). */
function aclSnapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    const r = spawnSync('getfattr', ['-h', '--absolute-names', '-e', 'hex', '-n', 'system.posix_acl_access', p], { encoding: 'utf8', env: { LC_ALL: 'C', PATH: process.env.PATH } });
    const acl = /=0x([0-9a-f]+)/.exec(r.stdout)?.[1] ?? 'none';
    out.set(p, `${(st.mode & 0o7777).toString(8)} ${acl}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(`${p}/${n}`);
  };
  walk(root);
  return out;
}

function kernelOk(s: Scenario): string {
  return kernelClass(kernelOpen(QEMU, [[s.path, s.want]]).results[0]!);
}

/** setfacl arguments that take back one element of an applied edit. */
function takeBack(g: InodeGrant): { what: string; args: string[] }[] {
  const out: { what: string; args: string[] }[] = [];
  if (g.entry) {
    out.push({
      what: `entry user:${QEMU.uid}:${permString(g.entry.to)}`,
      args: g.entry.from === null ? ['-n', '-x', `u:${QEMU.uid}`, g.path] : ['-n', '-m', `u:${QEMU.uid}:${permString(g.entry.from)}`, g.path],
    });
  }
  // A mask that did not exist before is required by the new entry: it is part of that element.
  if (g.mask && g.mask.from !== null) out.push({ what: `mask ${permString(g.mask.to)}`, args: ['-n', '-m', `m::${permString(g.mask.from)}`, g.path] });
  return out;
}

describe.skipIf(skip !== undefined)('grant vs the kernel (setpriv, no capabilities)', () => {
  let scratch: Scratch | undefined;
  let base = '';
  const scenarios: Scenario[] = [];

  beforeAll(() => {
    scratch = makeScratch('virt-seclabel-i14b-grant-');
    base = scratch.base;
    const r = rng(SEED);
    for (let i = 0; i < COUNT; i++) scenarios.push(build(base, r, i));
  });
  afterAll(() => scratch?.cleanup());

  it(`applied plans let QEMU in, change nothing else, and are minimal (${COUNT} trees)`, () => {
    const view = createLiveView();
    const fx = createLiveGrantEffects();
    const counts = { granted: 0, alreadyOk: 0, refused: 0, changes: 0, widened: 0, droppedChecked: 0 };
    const failures: string[] = [];
    const refusals = new Map<string, number>();
    for (const s of scenarios) {
      const before = aclSnapshot(s.dir);
      const kernelBefore = kernelOk(s);
      const planner = new GrantPlanner(view, QEMU, probeAclSupport);
      const f = planner.planFile(s.path, s.want);
      const changes = planner.changes();
      if (f.outcome === 'accessible') {
        counts.alreadyOk++;
        if (kernelBefore !== 'ok') failures.push(`${s.path}: engine says accessible, kernel ${kernelBefore}`);
        continue;
      }
      if (f.outcome === 'refused') {
        counts.refused++;
        const kind = /owns it|mask::---|symbolic link|EROFS|read-only|not support/.exec(f.reason)?.[0] ?? f.reason;
        refusals.set(kind, (refusals.get(kind) ?? 0) + 1);
        if (kernelBefore === 'ok') failures.push(`${s.path}: refused but the kernel already grants it`);
        continue;
      }
      counts.granted++;
      counts.changes += changes.length;
      counts.widened += changes.filter((c) => c.widens.length > 0).length;
      if (kernelBefore === 'ok') failures.push(`${s.path}: planned ${changes.length} changes but the kernel already grants it`);
      const outcomes = applyGrants(changes, fx, QEMU.uid);
      if (outcomes.some((o) => o.status !== 'applied')) {
        failures.push(`${s.path}: apply ${JSON.stringify(outcomes)}`);
        continue;
      }
      // 1. The kernel lets QEMU open it now, and the engine agrees.
      const after = kernelOk(s);
      if (after !== 'ok') failures.push(`${s.path}: after the grant the kernel says ${after}`);
      if (checkDacAccess(view, QEMU, s.path, s.want).accessible !== true) failures.push(`${s.path}: the engine does not prove it after the grant`);
      // 2. Only the planned inodes changed, each to exactly the planned mode.
      const now = aclSnapshot(s.dir);
      const planned = new Set(changes.map((c) => c.path));
      for (const [p, v] of now) if (!planned.has(p) && before.get(p) !== v) failures.push(`${p}: changed outside the plan (${before.get(p)} -> ${v})`);
      for (const c of changes) if (now.get(c.path)?.split(' ')[0] !== c.mode.toString(8)) failures.push(`${c.path}: mode ${now.get(c.path)}, planned ${c.mode.toString(8)}`);
      // 3. Minimal: every single element taken back makes the kernel deny again.
      for (const c of changes) {
        for (const t of takeBack(c)) {
          run('setfacl', t.args);
          const denied = kernelOk(s);
          counts.droppedChecked++;
          if (denied === 'ok') failures.push(`${c.path}: ${t.what} is not needed (the kernel grants without it)`);
          run('setfacl', ['-n', '-m', [c.entry ? `u:${QEMU.uid}:${permString(c.entry.to)}` : '', c.mask ? `m::${permString(c.mask.to)}` : ''].filter(Boolean).join(','), c.path]);
        }
      }
    }
    console.log(`grant vs kernel: ${JSON.stringify(counts)}; refusals: ${JSON.stringify(Object.fromEntries(refusals))}`);
    expect(failures).toEqual([]);
    // The generator must exercise every branch, or the test proves little.
    expect(counts.granted).toBeGreaterThan(COUNT / 4);
    expect(counts.refused).toBeGreaterThan(0);
    expect(counts.alreadyOk).toBeGreaterThan(0);
    expect(counts.widened).toBeGreaterThan(0);
  }, 600_000);

  it('refuses on a filesystem without ACL support (ramfs, asked of the filesystem) and on a read-only mount, where setfacl really fails', () => {
    const where = `${base}/refusals`;
    fs.mkdirSync(where, { mode: 0o755 });
    const mounted: string[] = [];
    try {
      for (const [name, kind] of [['ramfs', 'ramfs'], ['ro', 'ro']] as const) {
        const m = `${where}/${name}`;
        fs.mkdirSync(m, { mode: 0o755 });
        run('mount', ['-t', kind === 'ramfs' ? 'ramfs' : 'tmpfs', kind, m]);
        mounted.push(m);
        fs.chmodSync(m, 0o755);
        fs.mkdirSync(`${m}/d`, { mode: 0o700 });
        fs.writeFileSync(`${m}/d/disk.img`, 'x', { mode: 0o600 });
        fs.chownSync(`${m}/d`, 4101, 4101);
        fs.chownSync(`${m}/d/disk.img`, 4101, 4101);
        if (kind === 'ro') run('mount', ['-o', 'remount,ro', m]);
        const planner = new GrantPlanner(createLiveView(), QEMU, probeAclSupport);
        const f = planner.planFile(`${m}/d/disk.img`, 'read');
        expect(f.outcome).toBe('refused');
        expect(f.reason).toMatch(kind === 'ramfs' ? /does not support POSIX ACLs: reading system.posix_acl_access fails with EOPNOTSUPP/ : /read-only mount/);
        expect(planner.changes()).toEqual([]);
        // The refusal is the truth: setfacl fails there.
        const r = spawnSync('setfacl', ['-m', `u:${QEMU.uid}:x`, `${m}/d`], { encoding: 'utf8', env: { LC_ALL: 'C', PATH: process.env.PATH } });
        expect(r.stderr).toMatch(kind === 'ramfs' ? /Operation not supported/ : /Read-only file system/);
      }
    } finally {
      for (const m of mounted.reverse()) spawnSync('umount', [m]);
    }
  });
});
