/**
 * Two DAC questions the files beyond disks ask, checked against the kernel itself (setpriv as the qemu
 * uid, no capabilities):
 * - after libvirt's chown (ChainFile.assumeQemuOwner): the engine judges the file before the chown as if
 *   owned by QEMU; the file is then really chowned and opened by the kernel;
 * - creation (ChainFile.create): what QEMU does for a VNC socket (unlink an old one, bind a new one) and a
 *   missing /dev/shm file; the engine's verdict against the kernel doing exactly that.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDacEngine } from '../../src/dac/engine.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { numericNames } from '../../src/host/accounts.js';
import { missingRequirements } from '../support/requirements.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import { makeScratch, type Scratch } from './support/scratch-fs.js';

const QEMU = { uid: 64055, gid: 64055, groups: [64055] };
const skip = missingRequirements({ root: true, commands: ['setpriv', 'setfacl'], files: ['/usr/bin/python3'] });

/** As QEMU's unix_listen_saddr: unlink(path) (ENOENT ignored), then bind a new socket there. */
const BIND = `
import json, os, socket, sys
out = []
for p in json.load(sys.stdin):
    try:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(p)
        s.close()
        os.unlink(p)
        out.append('ok')
    except OSError as e:
        out.append('EACCES' if e.errno in (13, 1) else os.strerror(e.errno))
print(json.dumps(out))
`;

function kernelBind(paths: string[]): string[] {
  const r = spawnSync('setpriv', [`--reuid=${QEMU.uid}`, `--regid=${QEMU.gid}`, `--groups=${QEMU.groups.join(',')}`, '--inh-caps=-all', '--bounding-set=-all', '--', '/usr/bin/python3', '-I', '-S', '-c', BIND], { input: JSON.stringify(paths), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

describe.skipIf(skip !== undefined)('DAC after a chown, and creation, against the kernel', () => {
  let scratch: Scratch | undefined;
  let base = '';
  beforeAll(() => {
    scratch = makeScratch('virt-seclabel-dac-create-');
    base = scratch.base;
  });
  afterAll(() => scratch?.cleanup());

  it('the verdict before the chown matches the kernel after it, for every mode and an ACL naming the qemu user', () => {
    const engine = createDacEngine(createLiveView(), QEMU, numericNames);
    const cases: { mode: number; acl?: string }[] = [0o000, 0o044, 0o200, 0o400, 0o600, 0o640, 0o604, 0o060].map((mode) => ({ mode }));
    // An ACL entry for the qemu user stops applying once it owns the file: user_obj (---) matches first.
    cases.push({ mode: 0o040, acl: `u::---,u:${QEMU.uid}:rw-,g::---,m::rw-,o::---` });
    const rows = cases.flatMap((c, i) =>
      (['read', 'readwrite'] as const).map((want) => {
        const path = join(base, `f${i}-${want}`);
        writeFileSync(path, 'x');
        chownSync(path, 0, 0);
        chmodSync(path, c.mode);
        if (c.acl) expect(spawnSync('setfacl', ['-m', c.acl, path]).status).toBe(0);
        const v = engine.check({ path, access: want, role: 'top', assumeQemuOwner: true });
        return { c, want, path, engine: v.accessible === true ? 'ok' : v.accessible === false ? 'EACCES' : `unknown: ${v.reason}` };
      }),
    );
    // libvirt's chown: owner and group only, as virSecurityDACSetOwnership does; the ACL and mode stay.
    for (const r of rows) chownSync(r.path, QEMU.uid, QEMU.gid);
    const kernel = kernelOpen({ uid: QEMU.uid, gid: QEMU.gid, groups: QEMU.groups }, rows.map((r) => [r.path, r.want] as const));
    const got = rows.map((r, i) => `${r.c.mode.toString(8)}${r.c.acl ? '+acl' : ''} ${r.want}: engine ${r.engine}, kernel ${kernelClass(kernel.results[i]!)}`);
    for (const line of got) expect(line).toMatch(/engine (ok|EACCES), kernel \1$/);
    // The cases the decision turns on: readable today through other, lost after the chown; the ACL no longer applies.
    expect(got).toContain('44 read: engine EACCES, kernel EACCES');
    expect(got).toContain('600 readwrite: engine ok, kernel ok');
    expect(got).toContain('40+acl read: engine EACCES, kernel EACCES');
  });

  it('creation as QEMU binds a socket: write and search on the directory, and the sticky rule for an old name', async () => {
    const engine = createDacEngine(createLiveView(), QEMU, numericNames);
    const dir = (name: string, mode: number, uid = 0, gid = 0) => {
      const d = join(base, name);
      mkdirSync(d);
      chownSync(d, uid, gid);
      chmodSync(d, mode);
      return d;
    };
    const oldSocket = async (path: string, uid: number) => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(path, r));
      await new Promise<void>((r) => s.close(() => r()));
      // close() removes the socket file: leave a plain file of that owner in its place, as an old socket would be.
      writeFileSync(path, '');
      chownSync(path, uid, uid);
    };
    const cases: { path: string; old?: number }[] = [
      { path: join(dir('open', 0o755), 's') },
      { path: join(dir('group-rwx', 0o770, 0, QEMU.gid), 's') },
      { path: join(dir('group-wx', 0o730, 0, QEMU.gid), 's') },
      { path: join(dir('group-rx', 0o750, 0, QEMU.gid), 's') },
      { path: join(dir('sticky-empty', 0o1777), 's') },
      { path: join(dir('sticky-root-old', 0o1777), 's'), old: 0 },
      { path: join(dir('sticky-qemu-old', 0o1777), 's'), old: QEMU.uid },
      { path: join(dir('sticky-qemu-dir', 0o1777, QEMU.uid, QEMU.gid), 's'), old: 0 },
      { path: join(dir('plain-root-old', 0o777), 's'), old: 0 },
    ];
    for (const c of cases) if (c.old !== undefined) await oldSocket(c.path, c.old);
    const verdicts = cases.map((c) => {
      const v = engine.check({ path: c.path, access: 'readwrite', role: 'top', create: true });
      return v.accessible === true ? 'ok' : v.accessible === false ? 'EACCES' : `unknown: ${v.reason}`;
    });
    const kernel = kernelBind(cases.map((c) => c.path));
    const got = cases.map((c, i) => `${c.path.slice(base.length)}: engine ${verdicts[i]}, kernel ${kernel[i]}`);
    for (const line of got) expect(line).toMatch(/engine (ok|EACCES), kernel \1$/);
    expect(got).toContain('/sticky-root-old/s: engine EACCES, kernel EACCES');
    expect(got).toContain('/sticky-qemu-dir/s: engine ok, kernel ok');
    expect(got).toContain('/group-rx/s: engine EACCES, kernel EACCES');
    expect(got).toContain('/group-wx/s: engine ok, kernel ok');
  });
});
