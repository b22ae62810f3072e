/**
 * Asks the kernel itself whether QEMU's identity may look up and open a path: the live side of
 * HostView.kernelAccess, used where the local model is not the kernel's last word (NFS, CIFS, FUSE, ...;
 * host/mounts.ts delegatesPermission).
 *
 * One helper process per identity answers every question of a run over a pipe, one JSON line each way:
 * `setpriv --reuid --regid --groups --inh-caps=-all --bounding-set=-all --no-new-privs`, so it holds
 * QEMU's uid, gid and supplementary groups exactly and no capability, even for uid 0. Its first line
 * reports the credentials it really runs with; a helper that does not run as asked answers nothing.
 * When this process already is that identity without capabilities (qemu:///session), the same code
 * answers in-process.
 *
 * No side effects and no blocking: every component is looked up with O_PATH|O_NOFOLLOW from the
 * previous one (through /proc/self/fd), so the helper follows no link the model did not walk (the
 * model's path is physical: a component that has become a link is refused, not followed); a regular
 * file or directory is opened O_RDONLY|O_NONBLOCK|O_NOCTTY and closed at once; a device, FIFO or socket
 * is never opened, its access is asked with access(2) on the O_PATH descriptor; write is asked with
 * access(2) only, never by opening for write. An answer that does not come within the timeout (a hung
 * server) is unknown, and that helper is not asked again.
 */
import type { ChildProcess } from 'node:child_process';
import { lazyBuiltin } from '../../builtins.js';
import { errnoWords } from '../../host/errno.js';
import { missing, ok, unknown, type FileType, type Inode, type KernelAnswer, type KernelAsk, type Lookup } from '../../host/view.js';

// Loaded only when a question is asked (a start on local disks never asks): see builtins.ts. node:fs and
// node:path are loaded already; through lazyBuiltin they are the modules themselves, where `import * as`
// would have the bundle copy each one's every export into a namespace object at every start.
const childProcess = lazyBuiltin<typeof import('node:child_process')>('node:child_process');
const os = lazyBuiltin<typeof import('node:os')>('node:os');
const fs = lazyBuiltin<typeof import('node:fs')>('node:fs');
const path = lazyBuiltin<typeof import('node:path')>('node:path');

/** What the helper's answer function returns: an answer, or why it could not ask. */
type RawAnswer =
  | KernelAnswer
  | { readonly kind: 'unknown'; readonly why: string }
  | { readonly kind: 'bytes'; readonly base64: string }
  /** `stat`: the last component's own inode (not followed), as the identity sees it. */
  | { readonly kind: 'inode'; readonly type: string; readonly mode: number; readonly uid: number; readonly gid: number }
  /** `readlink`: the link body's bytes. */
  | { readonly kind: 'link'; readonly base64: string };

/**
 * The question answered by the process that runs it. Self-contained (it is also the helper's source,
 * through Function.prototype.toString): it uses nothing but its parameters.
 */
function probeAnswer(nodeFs: typeof import('node:fs'), q: { readonly path: string; readonly op: string; readonly offset?: number; readonly length?: number }): RawAnswer {
  const c = nodeFs.constants;
  const O_PATH = 0o10000000;
  if (typeof q.path !== 'string' || !q.path.startsWith('/') || q.path.includes('\0')) return { kind: 'unknown', why: 'not an absolute path' };
  const all = q.path.split('/').filter((n) => n !== '');
  // readlink: the last name is read by readlink itself from its directory, never followed.
  const last = q.op === 'readlink' ? all[all.length - 1] : undefined;
  if (q.op === 'readlink' && (last === undefined || last === '.' || last === '..')) return { kind: 'unknown', why: 'not a link path' };
  const names = last === undefined ? all : all.slice(0, -1);
  let fd = nodeFs.openSync('/', O_PATH | c.O_DIRECTORY);
  let at = '';
  try {
    for (const name of names) {
      at = name === '.' ? at : `${at}/${name}`;
      let next: number;
      try {
        next = nodeFs.openSync(`/proc/self/fd/${fd}/${name}`, O_PATH | c.O_NOFOLLOW);
      } catch (e) {
        return { kind: 'denied', errno: String((e as { code?: string }).code ?? 'EIO'), at: name === '.' ? q.path : at, step: 'lookup' };
      }
      nodeFs.closeSync(fd);
      fd = next;
    }
    if (q.op === 'lookup') return { kind: 'allowed', how: 'lookup of every component' };
    if (last !== undefined) {
      try {
        return { kind: 'link', base64: nodeFs.readlinkSync(`/proc/self/fd/${fd}/${last}`, { encoding: 'buffer' }).toString('base64') };
      } catch (e) {
        return { kind: 'denied', errno: String((e as { code?: string }).code ?? 'EIO'), at: `${at}/${last}`, step: 'lookup' };
      }
    }
    const st = nodeFs.fstatSync(fd);
    if (q.op === 'stat') {
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isBlockDevice() ? 'block' : st.isCharacterDevice() ? 'char' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : '';
      if (type === '') return { kind: 'unknown', why: 'unrecognised file type' };
      return { kind: 'inode', type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    }
    if (st.isSymbolicLink()) return { kind: 'unknown', why: `${q.path} is now a symlink the model did not walk` };
    const self = `/proc/self/fd/${fd}`;
    if (q.op === 'head') {
      // An image header, read as this identity (root may be squashed where QEMU's user is not).
      const offset = Number(q.offset);
      const length = Number(q.length);
      if (!st.isFile()) return { kind: 'unknown', why: 'not a regular file' };
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || length > 16 * 1024 * 1024) return { kind: 'unknown', why: 'invalid read range' };
      let rfd: number;
      try {
        rfd = nodeFs.openSync(self, c.O_RDONLY | c.O_NONBLOCK | c.O_NOCTTY);
      } catch (e) {
        return { kind: 'denied', errno: String((e as { code?: string }).code ?? 'EIO'), at: q.path, step: 'open' };
      }
      try {
        const buf = Buffer.alloc(length);
        let got = 0;
        while (got < length) {
          const n = nodeFs.readSync(rfd, buf, got, length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        return { kind: 'bytes', base64: buf.subarray(0, got).toString('base64') };
      } finally {
        nodeFs.closeSync(rfd);
      }
    }
    const write = q.op === 'readwrite';
    if (st.isFile() || st.isDirectory()) {
      try {
        nodeFs.closeSync(nodeFs.openSync(self, c.O_RDONLY | c.O_NONBLOCK | c.O_NOCTTY));
      } catch (e) {
        return { kind: 'denied', errno: String((e as { code?: string }).code ?? 'EIO'), at: q.path, step: 'open' };
      }
      if (!write) return { kind: 'allowed', how: 'open O_RDONLY' };
      try {
        nodeFs.accessSync(self, c.W_OK);
      } catch (e) {
        return { kind: 'denied', errno: String((e as { code?: string }).code ?? 'EIO'), at: q.path, step: 'access' };
      }
      return { kind: 'allowed', how: 'open O_RDONLY, access W_OK', write: 'access' };
    }
    try {
      nodeFs.accessSync(self, write ? c.R_OK | c.W_OK : c.R_OK);
    } catch (e) {
      return { kind: 'denied', errno: String((e as { code?: string }).code ?? 'EIO'), at: q.path, step: 'access' };
    }
    return write ? { kind: 'allowed', how: 'access R_OK|W_OK', write: 'access' } : { kind: 'allowed', how: 'access R_OK' };
  } finally {
    nodeFs.closeSync(fd);
  }
}

/** The helper: its credentials on the first line, then one answer line per question line. */
function helperSource(): string {
  return [
    `'use strict';`,
    `const fs = require('fs');`,
    `const answer = ${probeAnswer.toString()};`,
    `const st = fs.readFileSync('/proc/self/status', 'utf8');`,
    `const field = (k) => (new RegExp('^' + k + ':[ \\\\t]*(.*)$', 'm').exec(st) || [])[1] || '';`,
    `const ids = (k) => field(k).split(/\\s+/).filter(Boolean).map(Number);`,
    `fs.writeSync(1, JSON.stringify({ uid: ids('Uid'), gid: ids('Gid'), groups: ids('Groups'), capEff: field('CapEff') }) + '\\n');`,
    `let buf = '';`,
    `process.stdin.setEncoding('utf8');`,
    `process.stdin.on('data', (d) => {`,
    `  buf += d;`,
    `  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {`,
    `    const line = buf.slice(0, i); buf = buf.slice(i + 1);`,
    `    let out; try { out = answer(fs, JSON.parse(line)); } catch (e) { out = { kind: 'unknown', why: String((e && e.code) || e) }; }`,
    `    fs.writeSync(1, JSON.stringify(out) + '\\n');`,
    `  }`,
    `});`,
    `process.stdin.on('end', () => process.exit(0));`,
  ].join('\n');
}

export interface ProbeIdentity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

export interface KernelProbeOptions {
  /** How long one answer may take (a hung NFS server); default 20 s. */
  readonly timeoutMs?: number;
  /** Force a helper even when this process is the identity (tests of the helper path). */
  readonly neverInProcess?: boolean;
}

export interface KernelProbe {
  ask(q: KernelAsk): Lookup<KernelAnswer>;
  /** Bytes of a regular file (a physical path) read as the identity: an image header where root is squashed. */
  read(id: ProbeIdentity, path: string, offset: number, length: number): Lookup<Uint8Array>;
  /** lstat of a physical path, every component looked up as the identity (none followed). */
  lstat(id: ProbeIdentity, path: string): Lookup<Inode>;
  /** readlink of a physical path, its directories looked up as the identity. */
  readlink(id: ProbeIdentity, path: string): Lookup<string>;
  /** Ends the helpers (also done at process exit). */
  close(): void;
}

const sameGroups = (a: readonly number[], b: readonly number[]) => {
  const x = [...new Set(a)].sort((m, n) => m - n);
  const y = [...new Set(b)].sort((m, n) => m - n);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/** This process is the identity, with no capability: asking in-process is asking as QEMU. */
function isSelf(id: ProbeIdentity): boolean {
  let status: string;
  try {
    status = fs().readFileSync('/proc/self/status', 'utf8');
  } catch {
    return false;
  }
  const ids = (k: string) => (new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '').split(/\s+/).filter(Boolean).map(Number);
  if (ids('Uid').some((u) => u !== id.uid) || ids('Gid').some((g) => g !== id.gid)) return false;
  if (!sameGroups(ids('Groups'), id.groups)) return false;
  return /^0+$/.test(/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '1');
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

class Helper {
  private readonly child: ChildProcess | undefined;
  private readonly toHelper: number;
  private readonly fromHelper: number;
  private readonly errFd: number;
  private pending = '';
  private dead: string | undefined;

  constructor(
    readonly id: ProbeIdentity,
    private readonly timeoutMs: number,
  ) {
    const dir = fs().mkdtempSync(path().join(os().tmpdir(), 'virt-seclabel-probe-'));
    try {
      const q = path().join(dir, 'q');
      const a = path().join(dir, 'a');
      const made = childProcess().spawnSync('mkfifo', ['-m', '0600', q, a], { stdio: 'ignore' });
      if (made.status !== 0) throw new Error('mkfifo failed');
      const helperIn = fs().openSync(q, fs().constants.O_RDONLY | fs().constants.O_NONBLOCK);
      this.toHelper = fs().openSync(q, fs().constants.O_WRONLY);
      this.fromHelper = fs().openSync(a, fs().constants.O_RDONLY | fs().constants.O_NONBLOCK);
      const helperOut = fs().openSync(a, fs().constants.O_WRONLY);
      this.errFd = fs().openSync(path().join(dir, 'err'), 'w+', 0o600);
      const groups = id.groups.length > 0 ? [`--groups=${[...new Set(id.groups)].join(',')}`] : ['--clear-groups'];
      this.child = childProcess().spawn(
        'setpriv',
        [`--reuid=${id.uid}`, `--regid=${id.gid}`, ...groups, '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', process.execPath, '-e', helperSource()],
        { stdio: [helperIn, helperOut, this.errFd], cwd: '/', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
      );
      this.child.on('error', () => undefined);
      this.child.unref();
      fs().closeSync(helperIn);
      fs().closeSync(helperOut);
    } finally {
      fs().rmSync(dir, { recursive: true, force: true });
    }
    const hello = this.line();
    if (hello.kind !== 'ok') {
      this.dead = hello.why;
      return;
    }
    try {
      // /proc/self/status: real, effective, saved and filesystem ids; the supplementary groups exactly.
      const h = JSON.parse(hello.value) as { uid: number[]; gid: number[]; groups: number[]; capEff: string };
      if (h.uid.some((u) => u !== id.uid) || h.gid.some((g) => g !== id.gid) || !sameGroups(h.groups, id.groups) || !/^0+$/.test(h.capEff))
        this.dead = `the helper runs as uid ${h.uid.join('/')} gid ${h.gid.join('/')} groups ${h.groups.join(',')} capabilities ${h.capEff}, not as asked`;
    } catch {
      this.dead = 'the helper did not report its credentials';
    }
  }

  private stderr(): string {
    try {
      const b = Buffer.alloc(2000);
      const n = fs().readSync(this.errFd, b, 0, b.length, 0);
      return b.subarray(0, n).toString('utf8').trim().split('\n')[0] ?? '';
    } catch {
      return '';
    }
  }

  /** One line from the helper, waiting at most the timeout. */
  private line(): { kind: 'ok'; value: string } | { kind: 'failed'; why: string } {
    const deadline = Date.now() + this.timeoutMs;
    const chunk = Buffer.alloc(65536);
    // Most answers take well under a millisecond: poll again at once a few times, then back off to 2 ms.
    let idle = 0;
    for (;;) {
      const nl = this.pending.indexOf('\n');
      if (nl >= 0) {
        const value = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        return { kind: 'ok', value };
      }
      let n: number;
      try {
        n = fs().readSync(this.fromHelper, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EAGAIN') return { kind: 'failed', why: `reading the helper: ${errnoWords(e)}` };
        if (Date.now() > deadline) {
          this.kill();
          return { kind: 'failed', why: `no answer within ${this.timeoutMs / 1000} s (a hung server?)` };
        }
        idle++;
        if (idle > 20) Atomics.wait(sleeper, 0, 0, Math.min(2, 0.02 * (idle - 20)));
        continue;
      }
      if (n === 0) {
        const err = this.stderr();
        return { kind: 'failed', why: `the helper (setpriv … ${path().basename(process.execPath)}) exited${err ? `: ${err}` : ''}` };
      }
      idle = 0;
      this.pending += chunk.subarray(0, n).toString('utf8');
    }
  }

  ask(q: Question): Lookup<RawAnswer> {
    if (this.dead) return unknown(this.dead);
    try {
      fs().writeSync(this.toHelper, `${JSON.stringify({ path: q.path, op: q.op, offset: q.offset, length: q.length })}\n`);
    } catch (e) {
      this.dead = `the helper is gone: ${errnoWords(e)}`;
      return unknown(this.dead);
    }
    const l = this.line();
    if (l.kind !== 'ok') {
      this.dead = l.why;
      return unknown(l.why);
    }
    return fromRaw(l.value);
  }

  private kill(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  close(): void {
    for (const fd of [this.toHelper, this.fromHelper, this.errFd]) {
      try {
        fs().closeSync(fd);
      } catch {
        // closed already
      }
    }
    this.dead ??= 'closed';
  }
}

/** A question to the helper: KernelAsk's, or `head` (bytes of a regular file read as the identity). */
interface Question {
  readonly path: string;
  readonly op: KernelAsk['op'] | 'head' | 'stat' | 'readlink';
  readonly offset?: number;
  readonly length?: number;
}

function isAnswer(v: unknown): v is RawAnswer {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (o.kind === 'bytes' || o.kind === 'link') return typeof o.base64 === 'string';
  if (o.kind === 'inode')
    return (
      typeof o.type === 'string' &&
      FILE_TYPES.includes(o.type as FileType) &&
      [o.mode, o.uid, o.gid].every((n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
      (o.mode as number) <= 0o7777
    );
  if (o.kind === 'allowed') return typeof o.how === 'string' && (o.write === undefined || o.write === 'access');
  if (o.kind === 'denied') return typeof o.errno === 'string' && typeof o.at === 'string' && (o.step === 'lookup' || o.step === 'open' || o.step === 'access');
  return o.kind === 'unknown' && typeof o.why === 'string';
}

function fromRaw(line: string): Lookup<RawAnswer> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return unknown('the helper answered something that is not JSON');
  }
  if (!isAnswer(v)) return unknown('the helper answered something that is not an answer');
  return v.kind === 'unknown' ? unknown(v.why) : ok(v);
}

const FILE_TYPES: readonly FileType[] = ['file', 'dir', 'symlink', 'block', 'char', 'fifo', 'socket'];

function asAnswer(a: Lookup<RawAnswer>): Lookup<KernelAnswer> {
  if (a.kind !== 'ok') return a;
  const k = a.value.kind;
  return k === 'allowed' || k === 'denied' ? ok(a.value as KernelAnswer) : unknown('the helper answered something else than a permission');
}

/** A lookup the identity was refused: only ENOENT/ENOTDIR prove absence, as in the live view. */
function refusedLookup(v: { errno: string; at: string }, uid: number): Lookup<never> {
  if (v.errno === 'ENOENT' || v.errno === 'ENOTDIR') return missing(v.errno);
  return unknown(`cannot look it up as uid ${uid} either: ${errnoWords(v.errno)} at ${v.at}`);
}

function asInode(a: Lookup<RawAnswer>, uid: number): Lookup<Inode> {
  if (a.kind !== 'ok') return a;
  const v = a.value;
  if (v.kind === 'inode') return ok({ type: v.type as FileType, mode: v.mode, uid: v.uid, gid: v.gid });
  if (v.kind === 'denied') return refusedLookup(v, uid);
  return unknown('the helper answered something else than an inode');
}

function asLink(a: Lookup<RawAnswer>, uid: number): Lookup<string> {
  if (a.kind !== 'ok') return a;
  const v = a.value;
  if (v.kind === 'denied') return v.errno === 'EINVAL' ? unknown('not a symlink') : refusedLookup(v, uid);
  if (v.kind !== 'link') return unknown('the helper answered something else than a link body');
  const bytes = Buffer.from(v.base64, 'base64');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? ok(text) : unknown('its link body is not valid UTF-8');
}

function asBytes(a: Lookup<RawAnswer>): Lookup<Uint8Array> {
  if (a.kind !== 'ok') return a;
  const v = a.value;
  if (v.kind === 'bytes') return ok(new Uint8Array(Buffer.from(v.base64, 'base64')));
  if (v.kind === 'denied') return unknown(`cannot open it as that identity either: ${errnoWords(v.errno)} (${v.step} of ${v.at})`);
  return unknown('the helper answered a permission to a read');
}

export function createKernelProbe(options: KernelProbeOptions = {}): KernelProbe {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const helpers = new Map<string, Helper>();
  const answers = new Map<string, Lookup<RawAnswer>>();
  const close = () => {
    for (const h of helpers.values()) h.close();
    helpers.clear();
  };
  let hooked = false;
  const raw = (id: ProbeIdentity, q: Question): Lookup<RawAnswer> => {
    const idKey = `${id.uid}:${id.gid}:${[...new Set(id.groups)].sort((a, b) => a - b).join(',')}`;
    const key = `${idKey} ${q.op} ${q.offset ?? ''} ${q.length ?? ''} ${q.path}`;
    const memo = answers.get(key);
    if (memo) return memo;
    let a: Lookup<RawAnswer>;
    if (!options.neverInProcess && isSelf(id)) {
      try {
        const r = probeAnswer(fs(), q);
        a = r.kind === 'unknown' ? unknown(r.why) : ok(r);
      } catch (e) {
        a = unknown(`asking in-process failed: ${errnoWords(e)}`);
      }
    } else {
      let h = helpers.get(idKey);
      if (!h) {
        if (!hooked) {
          process.once('exit', close);
          hooked = true;
        }
        try {
          h = new Helper(id, timeoutMs);
        } catch (e) {
          return unknown(`cannot start the helper: ${e instanceof Error ? e.message : String(e)}`);
        }
        helpers.set(idKey, h);
      }
      a = h.ask(q);
    }
    answers.set(key, a);
    return a;
  };
  return {
    ask: (q) => asAnswer(raw(q, { path: q.path, op: q.op })),
    read: (id, path, offset, length) => asBytes(raw(id, { path, op: 'head', offset, length })),
    lstat: (id, path) => asInode(raw(id, { path, op: 'stat' }), id.uid),
    readlink: (id, path) => asLink(raw(id, { path, op: 'readlink' }), id.uid),
    close,
  };
}
