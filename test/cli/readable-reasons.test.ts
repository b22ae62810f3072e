/**
 * Reasons a person reads: the path once, what is wrong in words, the errno code only in parentheses
 * after the words, never Node's message. Every errno the live view can meet goes through one
 * translator (src/host/errno.ts); the ones a real tree can produce as root are produced for real and
 * read back through the built CLI.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoWords, pathProblem } from '../../src/host/errno.js';
import { lookupFromError } from '../../src/adapters/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';
import { runCli } from '../hardening/support/cli.js';

/** A bare code (`: ENOENT`) or Node's own wording (`ENOENT: no such file or directory, open '…'`). */
const RAW_ERRNO = /(?<!\()\bE[A-Z]{2,}\b(?!\))|no such file or directory,|, open '|, lstat '/;

/** Every absolute path mentioned, counted: a reason names each path once (a command to run after "fix:" may name it again). */
function repeatedPath(reason: string): string | undefined {
  const seen = new Map<string, number>();
  for (const m of reason.split('; fix: ')[0]!.matchAll(/\/[^\s:;,()'"]+/g)) seen.set(m[0], (seen.get(m[0]) ?? 0) + 1);
  return [...seen].find(([, n]) => n > 1)?.[0];
}

const err = (code: string) => Object.assign(new Error(`${code}: node's own words, lstat '/x'`), { code });

describe('errno in words', () => {
  // Every errno an lstat, open, read, readlink, listxattr or readdir can return on Linux (their man pages).
  const LIVE_VIEW_ERRNOS = ['EACCES', 'EPERM', 'EIO', 'ELOOP', 'ENAMETOOLONG', 'ENOMEM', 'EOVERFLOW', 'ESTALE', 'EBUSY', 'ENXIO', 'ENODEV', 'ENOMEDIUM', 'EFBIG', 'EMFILE', 'ENFILE', 'EINVAL', 'EOPNOTSUPP', 'ETXTBSY', 'EAGAIN', 'EISDIR', 'ENODATA', 'ETIMEDOUT'];

  it.each(LIVE_VIEW_ERRNOS)('%s: a live-view reason says it in words, the code in parentheses, without Node\'s message', (code) => {
    const l = lookupFromError(err(code), 'open');
    expect(l.kind).toBe('unknown');
    const why = l.kind === 'unknown' ? l.why : '';
    expect(why).toMatch(new RegExp(`^cannot open: [a-z/ ]+ \\(${code}\\)$`));
    expect(why).not.toMatch(RAW_ERRNO);
  });

  it('write errors read as the README promises', () => {
    expect(errnoWords('EROFS')).toBe('read-only file system (EROFS)');
    expect(errnoWords('ENOSPC')).toBe('no space left on device (ENOSPC)');
    expect(errnoWords('EPERM')).toBe('operation not permitted (EPERM)');
    expect(errnoWords(new Error('not from the fs'))).toBe('unexpected error');
  });

  it('a path problem names the path once', () => {
    expect(pathProblem('/srv/a.iso', 'ENOENT')).toBe('/srv/a.iso does not exist');
    expect(pathProblem('/srv/f', 'ENOTDIR')).toBe('/srv/f is not a directory');
    expect(pathProblem('/srv/l', 'ELOOP')).toBe('/srv/l: too many levels of symbolic links (ELOOP)');
  });
});

const skip = missingRequirements({ root: true, commands: ['qemu-img'] });

describe.skipIf(skip !== undefined)('reasons from a real tree, through the built CLI', () => {
  let d = '';
  const reasons: string[] = [];

  beforeAll(async () => {
    d = mkdtempSync(join(tmpdir(), 'vsl-reasons-'));
    chmodSync(d, 0o755);
    writeFileSync(join(d, 'file'), '');
    symlinkSync('loop-b', join(d, 'loop-a'));
    symlinkSync('loop-a', join(d, 'loop-b'));
    mkdirSync(join(d, 'dir'));
    const img = (name: string, backing: string) =>
      execFileSync('qemu-img', ['create', '-q', '-u', '-f', 'qcow2', '-b', backing, '-F', 'raw', join(d, name), '1M']);
    img('missing-backing.qcow2', join(d, 'gone.img'));
    img('notdir-backing.qcow2', join(d, 'file/sub.img'));
    img('loop-backing.qcow2', join(d, 'loop-a'));
    const long = 'n'.repeat(300);
    const disks: [string, string, boolean][] = [
      [join(d, 'gone.img'), 'raw', false], // ENOENT
      [join(d, 'file/x.img'), 'raw', false], // ENOTDIR
      [join(d, 'loop-a'), 'raw', false], // ELOOP
      [join(d, long), 'raw', false], // ENAMETOOLONG
      [join(d, 'dir'), 'raw', true], // a directory as a disk
      [join(d, 'missing-backing.qcow2'), 'qcow2', true],
      [join(d, 'notdir-backing.qcow2'), 'qcow2', true],
      [join(d, 'loop-backing.qcow2'), 'qcow2', true],
      [join(d, 'gone.qcow2'), 'qcow2', true],
    ];
    const xml = `<domain type='qemu'><name>reasons</name><devices>\n${disks
      .map(
        ([path, format, ro], i) =>
          `<disk type='file' device='disk'><driver name='qemu' type='${format}'/><source file='${path}'/><target dev='vd${String.fromCharCode(97 + i)}'/>${ro ? '<readonly/>' : ''}</disk>\n`,
      )
      .join('')}</devices></domain>\n`;
    writeFileSync(join(d, 'vm.xml'), xml);
    const r = await runCli(['explain', '--json', '--models', 'dac,selinux', '--policy', '/etc/selinux/default/policy/policy.33', join(d, 'vm.xml')], { timeoutMs: 60_000 });
    expect(r.code, Buffer.from(r.stderr).toString()).toBe(0);
    const collect = (o: unknown): void => {
      if (Array.isArray(o)) o.forEach(collect);
      else if (o && typeof o === 'object')
        for (const [k, v] of Object.entries(o)) {
          if (typeof v === 'string' && (k === 'reason' || k === 'message')) reasons.push(v);
          else collect(v);
        }
    };
    collect(JSON.parse(Buffer.from(r.stdout).toString()));
  });
  afterAll(() => rmSync(d, { recursive: true, force: true }));

  it('every reason names each path once and has no raw errno', () => {
    expect(reasons.length).toBeGreaterThan(9);
    for (const r of reasons) {
      expect(repeatedPath(r), r).toBeUndefined();
      expect(r, r).not.toMatch(RAW_ERRNO);
    }
  });

  it('says what is wrong in words', () => {
    const all = reasons.join('\n');
    expect(all).toContain(`${join(d, 'gone.img')} does not exist`);
    expect(all).toContain(`${join(d, 'file')} is not a directory`);
    expect(all).toContain(`${join(d, 'loop-a')}: too many levels of symbolic links`);
    expect(all).toContain('file name too long');
    expect(all).toContain(`backing file ${join(d, 'gone.img')} does not exist`);
    expect(all).toContain(`${join(d, 'gone.qcow2')} does not exist`);
  });
});
