/** The live HostView on real files: types, xattrs without following links, error mapping, safe reads. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveView, lookupFromError } from '../../src/adapters/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';

const err = (code: string) => Object.assign(new Error(code), { code });

describe('lookupFromError', () => {
  it('only ENOENT and ENOTDIR prove absence', () => {
    expect(lookupFromError(err('ENOENT'), 'x')).toEqual({ kind: 'missing', errno: 'ENOENT' });
    expect(lookupFromError(err('ENOTDIR'), 'x')).toEqual({ kind: 'missing', errno: 'ENOTDIR' });
    for (const code of ['EACCES', 'EPERM', 'EIO', 'ELOOP', 'ESTALE']) expect(lookupFromError(err(code), 'x').kind).toBe('unknown');
    expect(lookupFromError('weird', 'x').kind).toBe('unknown');
  });
});

const skip = missingRequirements({ root: true, commands: ['setfacl', 'setfattr', 'getfattr', 'mkfifo', 'mknod'] });

describe.skipIf(skip !== undefined)('createLiveView on a real tree', () => {
  const view = createLiveView();
  let d = '';
  const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(() => {
    d = fs.mkdtempSync('/tmp/virt-seclabel-live-');
    fs.writeFileSync(`${d}/f`, 'hello world');
    fs.chownSync(`${d}/f`, 1000, 107); // before chmod: chown clears setuid
    fs.chmodSync(`${d}/f`, 0o4640);
    run('setfacl', '-m', 'u:64055:r', `${d}/f`);
    fs.writeFileSync(`${d}/plain`, '');
    fs.symlinkSync('f', `${d}/l`);
    fs.symlinkSync(Buffer.from([0x66, 0xff]), Buffer.from(`${d}/bad-body`));
    run('mkfifo', `${d}/fifo`);
    run('mknod', `${d}/blk`, 'b', '7', '250');
    run('setfattr', '-n', 'security.selinux', '-v', 'system_u:object_r:virt_content_t:s0', `${d}/f`);
    run('setfattr', '-h', '-n', 'security.selinux', '-v', 'system_u:object_r:link_t:s0', `${d}/l`);
    // A real SELinux kernel returns contexts with a trailing NUL.
    run('setfattr', '-n', 'security.selinux', '-v', `0x${Buffer.from('system_u:object_r:nul_t:s0\0').toString('hex')}`, `${d}/plain`);
  });
  afterAll(() => fs.rmSync(d, { recursive: true, force: true }));

  it('lstat: types, permission bits with setuid, owners; absence proven only for ENOENT/ENOTDIR', () => {
    expect(view.lstat(`${d}/f`)).toEqual({ kind: 'ok', value: { type: 'file', mode: 0o4640, uid: 1000, gid: 107 } });
    expect(view.lstat(`${d}/l`)).toMatchObject({ kind: 'ok', value: { type: 'symlink' } });
    expect(view.lstat(`${d}/fifo`)).toMatchObject({ kind: 'ok', value: { type: 'fifo' } });
    expect(view.lstat(`${d}/blk`)).toMatchObject({ kind: 'ok', value: { type: 'block' } });
    expect(view.lstat(`${d}/nope`)).toEqual({ kind: 'missing', errno: 'ENOENT' });
    expect(view.lstat(`${d}/f/x`)).toEqual({ kind: 'missing', errno: 'ENOTDIR' });
  });

  it('aclAccess: the raw xattr bytes, none for files without one and for symlinks (not their target)', () => {
    const hex = /=0x([0-9a-f]+)/.exec(run('getfattr', '--absolute-names', '-e', 'hex', '-n', 'system.posix_acl_access', `${d}/f`).toString())![1]!;
    expect(view.aclAccess(`${d}/f`)).toEqual({ kind: 'ok', value: Uint8Array.from(Buffer.from(hex, 'hex')) });
    expect(view.aclAccess(`${d}/plain`)).toEqual({ kind: 'ok', value: null });
    expect(view.aclAccess(`${d}/l`)).toEqual({ kind: 'ok', value: null });
    expect(view.aclAccess(`${d}/nope`)).toEqual({ kind: 'missing', errno: 'ENOENT' });
  });

  it('selinuxLabel: the inode own label (a symlink\'s, not its target\'s), trailing NUL stripped', () => {
    expect(view.selinuxLabel(`${d}/f`)).toEqual({ kind: 'ok', value: 'system_u:object_r:virt_content_t:s0' });
    expect(view.selinuxLabel(`${d}/l`)).toEqual({ kind: 'ok', value: 'system_u:object_r:link_t:s0' });
    expect(view.selinuxLabel(`${d}/plain`)).toEqual({ kind: 'ok', value: 'system_u:object_r:nul_t:s0' });
    expect(view.selinuxLabel(`${d}/fifo`)).toEqual({ kind: 'ok', value: null });
    expect(view.selinuxLabel(`${d}/nope`)).toEqual({ kind: 'missing', errno: 'ENOENT' });
  });

  it('readlink: the body, or unknown when it is not UTF-8', () => {
    expect(view.readlink(`${d}/l`)).toEqual({ kind: 'ok', value: 'f' });
    expect(view.readlink(`${d}/bad-body`).kind).toBe('unknown');
  });

  it('readBytes follows symlinks like QEMU, clamps at EOF, never blocks on a FIFO', () => {
    expect(view.readBytes(`${d}/l`, 6, 100)).toEqual({ kind: 'ok', value: new TextEncoder().encode('world') });
    expect(view.readBytes(`${d}/fifo`, 0, 4).kind).toBe('unknown');
    expect(view.readBytes(`${d}/nope`, 0, 4)).toEqual({ kind: 'missing', errno: 'ENOENT' });
    expect(view.readBytes(`${d}/f`, -1, 4).kind).toBe('unknown');
  });

  it('readText and readBinary: every byte, whatever size fstat gives (grown past it for /proc); not UTF-8 is unknown', () => {
    const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => String.fromCharCode(32 + (i % 90))).join(''), 'latin1');
    fs.writeFileSync(`${d}/big`, big);
    expect(view.readText(`${d}/big`)).toEqual({ kind: 'ok', value: big.toString('latin1') });
    const bin = view.readBinary(`${d}/big`);
    expect(bin.kind === 'ok' && Buffer.from(bin.value).equals(big)).toBe(true);
    fs.writeFileSync(`${d}/empty`, '');
    expect(view.readText(`${d}/empty`)).toEqual({ kind: 'ok', value: '' });
    // A /proc file larger than the first buffer, which fstat says is empty: the whole of it.
    const maps = view.readText('/proc/self/maps');
    expect(maps.kind === 'ok' && maps.value.length > 4096 && maps.value.endsWith('\n')).toBe(true);
    for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      fs.writeFileSync(`${d}/bad-text`, Buffer.from([0x61, ...bytes]));
      expect(view.readText(`${d}/bad-text`).kind).toBe('unknown');
    }
    fs.writeFileSync(`${d}/bad-text`, 'caf\u00e9 \u{1F600}');
    expect(view.readText(`${d}/bad-text`)).toEqual({ kind: 'ok', value: 'caf\u00e9 \u{1F600}' });
    for (const f of ['big', 'empty', 'bad-text']) fs.rmSync(`${d}/${f}`);
  });

  it('readText reads /proc files whose size says 0; listDir lists names', () => {
    const status = view.readText('/proc/self/status');
    expect(status.kind === 'ok' && status.value.includes('\nUid:')).toBe(true);
    expect(view.listDir(d)).toEqual({ kind: 'ok', value: ['bad-body', 'blk', 'f', 'fifo', 'l', 'plain'] });
  });
});
