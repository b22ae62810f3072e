/**
 * The live DoctorReader. Records are read with @napi-rs/xattr on the real path (its l* calls then act on
 * the file libvirt's getxattr reaches, as no component is a link). A filesystem that lists xattrs but has
 * no trusted.* handler (NFS) shows nothing in the list, so once per filesystem getfattr(1) is asked for
 * one record name: EOPNOTSUPP there means libvirt can never record anything on that filesystem.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { lazyBuiltin } from '../../builtins.js';
import type { Model } from '../../decide/types.js';
import { MODELS } from '../../decide/types.js';
import type { DoctorReader, StatFollowed, StatusFile } from '../../doctor/ports.js';
import { recordNames, RECORD_PREFIX, type RawAttr, type RawRecord, type RecordRead } from '../../doctor/records.js';
import type { DaemonXattrs } from '../../doctor/verdict.js';
import { errnoCode, errnoWords } from '../../host/errno.js';
import { ok, unknown, type Lookup } from '../../host/view.js';
import { lookupFromError, readXattr, typeOf, xattrErrno } from './live-view.js';
import { xattr } from './xattr.js';

const childProcess = lazyBuiltin<typeof import('node:child_process')>('node:child_process');

/** The errno name of an xattr call's failure (the addon's "(os error N)", else Node's code). */
const errnoOf = (e: unknown): string => xattrErrno(e instanceof Error ? e.message : String(e)) ?? errnoCode(e) ?? 'EIO';

/** A followed stat's type: live-view's names, a link impossible here and anything unnamed as 'other'. */
function followedType(st: Stats): StatFollowed['type'] {
  const type = typeOf(st);
  return type === undefined || type === 'symlink' ? 'other' : type;
}

/** Per filesystem (st_dev): does it take trusted.* at all? Asked of getfattr once. */
function trustedSupport(path: string): 'yes' | { errno: string } {
  const r = childProcess().spawnSync('getfattr', ['--absolute-names', '-n', recordNames('dac').ref, path], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
  if (r.error || r.status === 0) return 'yes';
  if (/Operation not supported/.test(r.stderr)) return { errno: 'EOPNOTSUPP' };
  return 'yes';
}

function capEffHasSysAdmin(status: string): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 21n)) !== 0n;
}

function xattrsOf(pid: string): DaemonXattrs {
  try {
    const map = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/);
    const n = /^[0-9]+$/.test(pid) ? { pid: Number(pid) } : {};
    if (map.join(' ') !== '0 0 4294967295') return { ok: false, why: `process ${pid} runs in a user namespace (uid_map ${map.join(' ')})`, ...n };
    if (!capEffHasSysAdmin(readFileSync(`/proc/${pid}/status`, 'utf8'))) return { ok: false, why: `process ${pid} has no CAP_SYS_ADMIN`, ...n };
    return { ok: true };
  } catch (e) {
    return { ok: false, why: `cannot read /proc/${pid}: ${errnoWords(e)}` };
  }
}

export function createDoctorReader(): DoctorReader {
  const support = new Map<number, 'yes' | { errno: string }>();
  return {
    realPath(path) {
      try {
        return ok(realpathSync.native(path));
      } catch (e) {
        return lookupFromError(e, 'resolve it');
      }
    },
    stat(realPath) {
      try {
        const st = statSync(realPath);
        return ok({ type: followedType(st), uid: st.uid, gid: st.gid, dev: st.dev, ino: st.ino });
      } catch (e) {
        return lookupFromError(e, 'stat it');
      }
    },
    records(realPath): RecordRead {
      let names: string[];
      try {
        names = xattr().listAttributesSync(realPath);
      } catch (e) {
        const code = errnoOf(e);
        if (code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'ENOSYS') return { kind: 'unsupported', errno: code };
        return { kind: 'error', why: `cannot list its extended attributes: ${errnoWords(code)}` };
      }
      const read = (name: string): RawAttr => {
        if (!names.includes(name)) return { kind: 'absent' };
        const v = xattr().getAttributeSync(realPath, name);
        return v === null ? { kind: 'error', errno: 'EIO' } : { kind: 'value', bytes: new Uint8Array(v) };
      };
      if (!names.some((n) => n.startsWith(RECORD_PREFIX))) {
        let dev: number | undefined;
        try {
          dev = statSync(realPath).dev;
        } catch {
          dev = undefined;
        }
        if (dev !== undefined) {
          if (!support.has(dev)) support.set(dev, trustedSupport(realPath));
          const s = support.get(dev)!;
          if (s !== 'yes') return { kind: 'unsupported', errno: s.errno };
        }
      }
      const raw = {} as Record<Model, RawRecord>;
      for (const m of MODELS) {
        const n = recordNames(m);
        raw[m] = { label: read(n.label), ref: read(n.ref), stamp: read(n.stamp) };
      }
      return { kind: 'read', raw };
    },
    selinuxLabel(realPath) {
      const v = readXattr(realPath, 'security.selinux', false);
      if (v.kind !== 'ok' || v.value === null) return v as Lookup<null>;
      const bytes = v.value[v.value.length - 1] === 0 ? v.value.subarray(0, -1) : v.value;
      return ok(bytes.toString('utf8'));
    },
    listDir(dir) {
      try {
        return ok(readdirSync(dir));
      } catch (e) {
        return lookupFromError(e, 'list it');
      }
    },
    statusFiles(dir) {
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.xml')).sort();
      } catch (e) {
        return lookupFromError(e, 'list it');
      }
      const files: StatusFile[] = [];
      for (const n of names) {
        try {
          files.push({ file: join(dir, n), bytes: new Uint8Array(readFileSync(join(dir, n))) });
        } catch (e) {
          return unknown(`cannot read ${join(dir, n)}: ${errnoWords(e)}`);
        }
      }
      return ok(files);
    },
    qemuAlive(pid) {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('qemu');
      } catch {
        return false;
      }
    },
    bootStampInputs() {
      const file = (p: string) => {
        try {
          return readFileSync(p);
        } catch {
          return undefined;
        }
      };
      const utmp = file('/var/run/utmp');
      return { utmp: utmp ? new Uint8Array(utmp) : undefined, nowMs: Date.now(), uptime: file('/proc/uptime')?.toString('utf8') };
    },
    selfXattrs: () => xattrsOf('self'),
    daemonXattrs(runDir) {
      // A privileged daemon writes /run/virtqemud.pid or /run/libvirtd.pid (LOCALSTATEDIR/run); look beside
      // the state directory's parent too, where a daemon started with -p may keep it.
      const candidates = [dirname(runDir), runDir].flatMap((d) => ['virtqemud.pid', 'libvirtd.pid'].map((f) => join(d, f)));
      for (const file of candidates) {
        let pid: string;
        try {
          pid = readFileSync(file, 'utf8').trim();
        } catch {
          continue;
        }
        if (/^[1-9][0-9]*$/.test(pid) && existsSync(`/proc/${pid}`)) return xattrsOf(pid);
      }
      return undefined;
    },
  };
}
