/**
 * The live DoctorEffects: every change through a descriptor, never through a path someone could swap.
 * The file is opened O_PATH|O_NOFOLLOW component by component (openNoFollow, as grant does); its
 * attributes are read and removed by getfattr/setfattr on /proc/self/fd/3 (the held descriptor as their
 * fd 3: the magic link names exactly the inode held), the owner is changed by chown(2) on
 * /proc/self/fd/N (which resolves to the held inode), and the label is written as setfilecon_raw writes
 * it (the context with its trailing NUL).
 *
 * libvirt's metadata lock is a POSIX record lock (fcntl F_SETLK, F_WRLCK, byte 1, length 1), which Node
 * cannot take. A small /usr/bin/python3 helper takes it on a read-write descriptor of the held inode
 * (reopened through /proc/self/fd/N) with libvirt's retry loop (10 000 tries, 1 ms apart), says
 * "locked", and holds it until its stdin closes. POSIX locks belong to a process, so the helper holds
 * exactly that one descriptor: nothing it closes can drop the lock early.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, constants, fstatSync, openSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { Model } from '../../decide/types.js';
import type { DoctorEffects, Held } from '../../doctor/apply.js';
import { recordNames, type RawAttr, type RawRecord } from '../../doctor/records.js';
import { errnoWords } from '../../host/errno.js';
import { openNoFollow } from './acl-effects.js';

const fail = (why: string): Held<never> => ({ ok: false, why });

const LOCK_HELPER = `
import errno, fcntl, os, sys, time
for _ in range(10000):
    try:
        fcntl.lockf(3, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 1, os.SEEK_SET)
        break
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EAGAIN):
            print("error " + os.strerror(e.errno), flush=True)
            sys.exit(1)
        time.sleep(0.001)
else:
    print("busy", flush=True)
    sys.exit(1)
print("locked", flush=True)
sys.stdin.read()
`;

function onFd(fd: number, cmd: string, args: readonly string[]) {
  return spawnSync(cmd, [...args, '/proc/self/fd/3'], {
    stdio: ['ignore', 'pipe', 'pipe', fd],
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
}

const toolError = (stderr: string) => stderr.trim().replace(/^.*\/proc\/self\/fd\/3: /, '');

/** Every trusted.libvirt.security.* attribute of the held inode, hex-decoded. */
function dumpRecords(fd: number): Held<Map<string, Uint8Array>> {
  const r = onFd(fd, 'getfattr', ['--absolute-names', '-d', '-m', '^trusted\\.libvirt\\.security\\.', '-e', 'hex']);
  if (r.error) return fail(`cannot run getfattr (package attr): ${r.error.message}`);
  if (r.status !== 0) return fail(`getfattr: ${toolError(r.stderr)}`);
  const out = new Map<string, Uint8Array>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(trusted\.libvirt\.security\.[^=]+)=(?:0x([0-9a-f]*))?$/.exec(line);
    if (m) out.set(m[1]!, new Uint8Array(Buffer.from(m[2] ?? '', 'hex')));
  }
  return { ok: true, value: out };
}

export interface LiveLock {
  readonly child: ChildProcess;
}

export function createLiveDoctorEffects(): DoctorEffects<number, LiveLock> {
  return {
    open: openNoFollow,
    stat(fd) {
      try {
        const st = fstatSync(fd);
        if (!st.isFile() && !st.isBlockDevice() && !st.isCharacterDevice()) return fail('not a regular file or device');
        return { ok: true, value: { uid: st.uid, gid: st.gid, dev: st.dev, ino: st.ino } };
      } catch (e) {
        return fail(`cannot stat: ${errnoWords(e)}`);
      }
    },
    lock(fd) {
      let rw: number;
      try {
        rw = openSync(`/proc/self/fd/${fd}`, constants.O_RDWR | constants.O_NONBLOCK);
      } catch (e) {
        return Promise.resolve(fail(`cannot open it read-write for libvirt's metadata lock: ${errnoWords(e)}`));
      }
      return new Promise((resolve) => {
        const child = spawn('/usr/bin/python3', ['-c', LOCK_HELPER], { stdio: ['pipe', 'pipe', 'pipe', rw] });
        closeSync(rw);
        let said = '';
        let done = false;
        const finish = (v: Held<LiveLock>) => {
          if (done) return;
          done = true;
          resolve(v);
        };
        child.stdout!.on('data', (b: Buffer) => {
          said += b.toString('utf8');
          if (said.startsWith('locked\n')) finish({ ok: true, value: { child } });
          else if (said.includes('\n')) finish(fail(said.startsWith('busy') ? `unable to lock it for metadata change: libvirt holds the lock` : `the lock helper: ${said.trim()}`));
        });
        child.on('error', (e) => finish(fail(`cannot run /usr/bin/python3 for the metadata lock: ${e.message}`)));
        child.on('exit', (code) => finish(fail(`the lock helper exited (${code ?? 'signal'}) without locking: ${said.trim()}`)));
      });
    },
    unlock(lock) {
      return new Promise((resolve) => {
        if (lock.child.exitCode !== null) return resolve();
        lock.child.on('exit', () => resolve());
        lock.child.stdin!.end();
      });
    },
    readRecord(fd, model: Model): Held<RawRecord> {
      const all = dumpRecords(fd);
      if (!all.ok) return all;
      const n = recordNames(model);
      const get = (name: string): RawAttr => {
        const v = all.value.get(name);
        return v === undefined ? { kind: 'absent' } : { kind: 'value', bytes: v };
      };
      return { ok: true, value: { label: get(n.label), ref: get(n.ref), stamp: get(n.stamp) } };
    },
    readLabel(fd) {
      const r = onFd(fd, 'getfattr', ['--absolute-names', '-n', 'security.selinux', '-e', 'hex']);
      if (r.error) return fail(`cannot run getfattr (package attr): ${r.error.message}`);
      if (r.status !== 0) return /No such attribute/.test(r.stderr) ? { ok: true, value: null } : fail(`getfattr: ${toolError(r.stderr)}`);
      const hex = /security\.selinux=0x([0-9a-f]*)/.exec(r.stdout)?.[1];
      if (hex === undefined) return fail('getfattr printed no value');
      const b = Buffer.from(hex, 'hex');
      return { ok: true, value: (b[b.length - 1] === 0 ? b.subarray(0, -1) : b).toString('utf8') };
    },
    removeAttr(fd, name) {
      const r = onFd(fd, 'setfattr', ['-x', name]);
      if (r.error) return fail(`cannot run setfattr (package attr): ${r.error.message}`);
      return r.status === 0 ? { ok: true, value: undefined } : fail(`setfattr: ${toolError(r.stderr)}`);
    },
    chown(fd, owner) {
      try {
        chownSync(`/proc/self/fd/${fd}`, owner.uid, owner.gid);
        return { ok: true, value: undefined };
      } catch (e) {
        return fail(errnoWords(e));
      }
    },
    setLabel(fd, label) {
      // setfilecon_raw writes the context with its NUL (strlen + 1).
      const value = `0x${Buffer.from(`${label}\0`, 'utf8').toString('hex')}`;
      const r = onFd(fd, 'setfattr', ['-n', 'security.selinux', '-v', value]);
      if (r.error) return fail(`cannot run setfattr (package attr): ${r.error.message}`);
      return r.status === 0 ? { ok: true, value: undefined } : fail(`setfattr: ${toolError(r.stderr)}`);
    },
    close(fd) {
      closeSync(fd);
    },
  };
}
