/**
 * Reading a facts file as hostile input: a size cap before reading, JSON.parse, then a strict walk over
 * the shape with the position of the first problem (`view[12].answer.value.mode: ...`). Nothing outside
 * the documented shape is accepted, so a mistyped or foreign file is a clear error, never a silent
 * "everything unknown" run.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFully } from '../../host/fd-io.js';
import { failure, success, type Result } from '../../result.js';
import type { FileType } from '../../host/view.js';
import { isBase64 } from './codec.js';
import { FACTS_FORMAT_VERSION, VIEW_OPS, type FactsFile, type Json, type StoredCall, type StoredBytes, type StoredLookup, type StoredSelinux, type ViewOp, type StoredIdentity, type StoredKernelAnswer } from './format.js';

/** A snapshot of 100,000 paths (facts --path's limit) is tens of MB; far beyond that it is not a facts file. */
export const MAX_FACTS_BYTES = 128 * 1024 * 1024;
const PATH_MAX = 4096;
const MAX_ID = 0xfffffffe;
const FILE_TYPES: readonly FileType[] = ['file', 'dir', 'symlink', 'block', 'char', 'fifo', 'socket'];

class Bad extends Error {}

type Obj = Record<string, unknown>;

function fail(at: string, what: string): never {
  throw new Bad(`${at}: ${what}`);
}

function obj(v: unknown, at: string, keys: { required: readonly string[]; optional?: readonly string[] }): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(at, 'expected an object');
  const o = v as Obj;
  for (const k of keys.required) if (!(k in o)) fail(at, `missing "${k}"`);
  const known = new Set([...keys.required, ...(keys.optional ?? [])]);
  for (const k of Object.keys(o)) if (!known.has(k)) fail(at, `unexpected "${k}"`);
  return o;
}

function arr(v: unknown, at: string): readonly unknown[] {
  if (!Array.isArray(v)) fail(at, 'expected an array');
  return v;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') fail(at, 'expected a string');
  return v;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') fail(at, 'expected true or false');
  return v;
}

function int(v: unknown, at: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(at, `expected an integer 0..${max}`);
  return v;
}

function absPath(v: unknown, at: string): string {
  const p = str(v, at);
  if (!p.startsWith('/') || p.includes('\0') || Buffer.byteLength(p) >= PATH_MAX) fail(at, 'expected an absolute path without NUL, shorter than PATH_MAX');
  return p;
}

function base64(v: unknown, at: string): string {
  const s = str(v, at);
  if (!isBase64(s)) fail(at, 'expected canonical base64');
  return s;
}

function lookup<T>(v: unknown, at: string, value: (v: unknown, at: string) => T): StoredLookup<T> {
  const kind = obj(v, at, { required: ['kind'], optional: ['value', 'errno', 'why'] }).kind;
  if (kind === 'ok') return { kind, value: value(obj(v, at, { required: ['kind', 'value'] }).value, `${at}.value`) };
  if (kind === 'missing') {
    const errno = obj(v, at, { required: ['kind', 'errno'] }).errno;
    if (errno !== 'ENOENT' && errno !== 'ENOTDIR' && errno !== 'ENODATA') fail(`${at}.errno`, 'expected ENOENT, ENOTDIR or ENODATA');
    return { kind, errno };
  }
  if (kind === 'unknown') return { kind, why: str(obj(v, at, { required: ['kind', 'why'] }).why, `${at}.why`) };
  return fail(`${at}.kind`, 'expected ok, missing or unknown');
}

/** A read's bytes: at most the `length` asked (a larger claim is not something the host returned). */
function storedBytes(v: unknown, at: string, length: unknown): StoredBytes {
  const o = obj(v, at, { required: ['head', 'zeros'] });
  const head = base64(o.head, `${at}.head`);
  const max = typeof length === 'number' ? length : 0;
  const zeros = int(o.zeros, `${at}.zeros`, max);
  if ((head.length / 4) * 3 - (head.endsWith('==') ? 2 : head.endsWith('=') ? 1 : 0) + zeros > max) fail(at, `more bytes than the ${max} asked`);
  return { head, zeros };
}

const orNull =
  <T>(f: (v: unknown, at: string) => T) =>
  (v: unknown, at: string): T | null =>
    v === null ? null : f(v, at);

function inode(v: unknown, at: string) {
  const o = obj(v, at, { required: ['type', 'mode', 'uid', 'gid'] });
  if (!FILE_TYPES.includes(o.type as FileType)) fail(`${at}.type`, `expected one of ${FILE_TYPES.join(', ')}`);
  return { type: o.type as FileType, mode: int(o.mode, `${at}.mode`, 0o7777), uid: int(o.uid, `${at}.uid`, MAX_ID), gid: int(o.gid, `${at}.gid`, MAX_ID) };
}

function names(v: unknown, at: string): string[] {
  return arr(v, at).map((n, i) => {
    const s = str(n, `${at}[${i}]`);
    if (s === '' || s.includes('/') || s.includes('\0')) fail(`${at}[${i}]`, 'expected a directory entry name');
    return s;
  });
}

function call(v: unknown, at: string): StoredCall {
  const op = obj(v, at, { required: ['op', 'path', 'answer'], optional: ['offset', 'length', 'ask', 'uid', 'gid', 'groups'] }).op as ViewOp;
  if (!VIEW_OPS.includes(op)) fail(`${at}.op`, `expected one of ${VIEW_OPS.join(', ')}`);
  const required =
    op === 'readBytes'
      ? ['op', 'path', 'answer', 'offset', 'length']
      : op === 'kernelAccess'
        ? ['op', 'path', 'answer', 'ask', 'uid', 'gid', 'groups']
        : op === 'readBytesAs'
          ? ['op', 'path', 'answer', 'offset', 'length', 'uid', 'gid', 'groups']
          : op === 'lstatAs' || op === 'readlinkAs'
            ? ['op', 'path', 'answer', 'uid', 'gid', 'groups']
            : ['op', 'path', 'answer'];
  const o = obj(v, at, { required });
  const path = absPath(o.path, `${at}.path`);
  const a = `${at}.answer`;
  switch (op) {
    case 'lstat':
      return { op, path, answer: lookup(o.answer, a, inode) };
    case 'readlink':
      return { op, path, answer: lookup(o.answer, a, str) };
    case 'aclAccess':
      return { op, path, answer: lookup(o.answer, a, orNull(base64)) };
    case 'selinuxLabel':
      return { op, path, answer: lookup(o.answer, a, orNull(str)) };
    case 'readBytes':
      return {
        op,
        path,
        offset: int(o.offset, `${at}.offset`, Number.MAX_SAFE_INTEGER),
        length: int(o.length, `${at}.length`, MAX_FACTS_BYTES),
        answer: lookup(o.answer, a, (v, at2) => storedBytes(v, at2, o.length)),
      };
    case 'readText':
      return { op, path, answer: lookup(o.answer, a, str) };
    case 'listDir':
      return { op, path, answer: lookup(o.answer, a, names) };
    case 'kernelAccess': {
      const ask = o.ask;
      if (ask !== 'lookup' && ask !== 'read' && ask !== 'readwrite') fail(`${at}.ask`, 'expected lookup, read or readwrite');
      return { op, path, ask, ...identity(o, at), answer: lookup(o.answer, a, kernelAnswer) };
    }
    case 'lstatAs':
      return { op, path, ...identity(o, at), answer: lookup(o.answer, a, inode) };
    case 'readlinkAs':
      return { op, path, ...identity(o, at), answer: lookup(o.answer, a, str) };
    case 'readBytesAs':
      return {
        op,
        path,
        offset: int(o.offset, `${at}.offset`, Number.MAX_SAFE_INTEGER),
        length: int(o.length, `${at}.length`, MAX_FACTS_BYTES),
        ...identity(o, at),
        answer: lookup(o.answer, a, (v, at2) => storedBytes(v, at2, o.length)),
      };
  }
}

function identity(o: Obj, at: string): StoredIdentity {
  const groups = arr(o.groups, `${at}.groups`);
  if (groups.length > 65536) fail(`${at}.groups`, 'too many groups');
  return { uid: int(o.uid, `${at}.uid`, MAX_ID), gid: int(o.gid, `${at}.gid`, MAX_ID), groups: groups.map((g, i) => int(g, `${at}.groups[${i}]`, MAX_ID)) };
}

function kernelAnswer(v: unknown, at: string): StoredKernelAnswer {
  const kind = obj(v, at, { required: ['kind'], optional: ['how', 'write', 'errno', 'at', 'step'] }).kind;
  if (kind === 'allowed') {
    const o = obj(v, at, { required: ['kind', 'how'], optional: ['write'] });
    if (o.write !== undefined && o.write !== 'access') fail(`${at}.write`, 'expected access');
    return { kind, how: str(o.how, `${at}.how`), ...(o.write === 'access' ? { write: 'access' as const } : {}) };
  }
  if (kind === 'denied') {
    const o = obj(v, at, { required: ['kind', 'errno', 'at', 'step'] });
    const errno = str(o.errno, `${at}.errno`);
    if (!/^E[A-Z0-9]+$/.test(errno)) fail(`${at}.errno`, 'expected an errno name');
    if (o.step !== 'lookup' && o.step !== 'open' && o.step !== 'access') fail(`${at}.step`, 'expected lookup, open or access');
    return { kind, errno, at: absPath(o.at, `${at}.at`), step: o.step };
  }
  return fail(`${at}.kind`, 'expected allowed or denied');
}

function selinux(v: unknown, at: string): StoredSelinux | null {
  if (v === null) return null;
  const o = obj(v, at, { required: ['policy', 'booleans', 'typeExists', 'compute'], optional: ['genfs'] });
  const p = obj(o.policy, `${at}.policy`, { required: ['kind'], optional: ['source', 'mls', 'error'] });
  const policy =
    p.kind === 'loaded'
      ? (obj(p, `${at}.policy`, { required: ['kind', 'source', 'mls'] }), { kind: 'loaded' as const, source: str(p.source, `${at}.policy.source`), mls: bool(p.mls, `${at}.policy.mls`) })
      : p.kind === 'failed'
        ? (obj(p, `${at}.policy`, { required: ['kind', 'error'] }), { kind: 'failed' as const, error: str(p.error, `${at}.policy.error`) })
        : fail(`${at}.policy.kind`, 'expected loaded or failed');
  const booleans =
    o.booleans === null
      ? null
      : arr(o.booleans, `${at}.booleans`).map((b, i) => {
          const pair = arr(b, `${at}.booleans[${i}]`);
          if (pair.length !== 2) fail(`${at}.booleans[${i}]`, 'expected [name, value]');
          return [str(pair[0], `${at}.booleans[${i}][0]`), bool(pair[1], `${at}.booleans[${i}][1]`)] as const;
        });
  const typeExists = arr(o.typeExists, `${at}.typeExists`).map((t, i) => {
    const e = obj(t, `${at}.typeExists[${i}]`, { required: ['name', 'exists'] });
    return { name: str(e.name, `${at}.typeExists[${i}].name`), exists: bool(e.exists, `${at}.typeExists[${i}].exists`) };
  });
  // Requests and answers are the engine's plain data; replay matches them as data, never executes them.
  const compute = arr(o.compute, `${at}.compute`).map((c, i) => {
    const e = obj(c, `${at}.compute[${i}]`, { required: ['request', 'answer'] });
    return { request: e.request as Json, answer: e.answer as Json };
  });
  const genfs =
    o.genfs === undefined
      ? undefined
      : arr(o.genfs, `${at}.genfs`).map((g, i) => {
          const e = obj(g, `${at}.genfs[${i}]`, { required: ['fsType', 'context'] });
          return { fsType: str(e.fsType, `${at}.genfs[${i}].fsType`), context: e.context === null ? null : str(e.context, `${at}.genfs[${i}].context`) };
        });
  return { policy, booleans, typeExists, compute, ...(genfs ? { genfs } : {}) };
}

function hostOptions(v: unknown, at: string): FactsFile['hostOptions'] {
  const o = obj(v, at, { required: ['connect', 'qemuConf', 'booleans'], optional: ['user', 'group', 'models', 'policy'] });
  if (o.connect !== 'system' && o.connect !== 'session') fail(`${at}.connect`, 'expected system or session');
  const booleans: Record<string, boolean> = {};
  for (const [k, b] of Object.entries(obj(o.booleans, `${at}.booleans`, { required: [], optional: Object.keys(o.booleans ?? {}) })))
    booleans[k] = bool(b, `${at}.booleans.${k}`);
  const models = o.models === undefined ? undefined : arr(o.models, `${at}.models`).map((m, i) => (m === 'dac' || m === 'selinux' || m === 'apparmor' ? m : fail(`${at}.models[${i}]`, 'expected dac, selinux or apparmor')));
  return {
    connect: o.connect,
    qemuConf: absPath(o.qemuConf, `${at}.qemuConf`),
    ...(o.user !== undefined && { user: str(o.user, `${at}.user`) }),
    ...(o.group !== undefined && { group: str(o.group, `${at}.group`) }),
    ...(models !== undefined && { models }),
    ...(o.policy !== undefined && { policy: str(o.policy, `${at}.policy`) }),
    booleans,
  };
}

export function parseFacts(text: string): Result<FactsFile, string> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return failure(`not JSON: ${(e as Error).message}`);
  }
  try {
    const version = obj(data, 'facts', { required: ['formatVersion'], optional: ['host', 'collectedAt', 'generator', 'hostOptions', 'invoker', 'covers', 'view', 'selinux'] }).formatVersion;
    if (version !== FACTS_FORMAT_VERSION)
      return failure(`formatVersion ${JSON.stringify(version)} is not supported (this version reads ${FACTS_FORMAT_VERSION}); take the snapshot again with this version`);
    const o = obj(data, 'facts', { required: ['formatVersion', 'host', 'collectedAt', 'generator', 'hostOptions', 'invoker', 'covers', 'view', 'selinux'] });
    const collectedAt = str(o.collectedAt, 'collectedAt');
    if (Number.isNaN(Date.parse(collectedAt))) fail('collectedAt', 'expected an ISO 8601 date');
    const inv = o.invoker === null ? null : obj(o.invoker, 'invoker', { required: ['uid', 'gid'] });
    const covers = obj(o.covers, 'covers', { required: ['domains', 'paths'] });
    return success({
      formatVersion: FACTS_FORMAT_VERSION,
      host: str(o.host, 'host'),
      collectedAt,
      generator: str(o.generator, 'generator'),
      hostOptions: hostOptions(o.hostOptions, 'hostOptions'),
      invoker: inv === null ? null : { uid: int(inv.uid, 'invoker.uid', MAX_ID), gid: int(inv.gid, 'invoker.gid', MAX_ID) },
      covers: { domains: arr(covers.domains, 'covers.domains').map((d, i) => str(d, `covers.domains[${i}]`)), paths: arr(covers.paths, 'covers.paths').map((p, i) => str(p, `covers.paths[${i}]`)) },
      view: arr(o.view, 'view').map((c, i) => call(c, `view[${i}]`)),
      selinux: selinux(o.selinux, 'selinux'),
    });
  } catch (e) {
    if (e instanceof Bad) return failure(e.message);
    throw e;
  }
}

/** Reads and checks a facts file; the size is checked on the open descriptor before any byte is read. */
export function readFactsFile(path: string): Result<FactsFile, string> {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return failure(`${path}: not a regular file`);
    if (st.size > MAX_FACTS_BYTES) return failure(`${path}: ${st.size} bytes is more than a facts file can be (${MAX_FACTS_BYTES})`);
    const buf = Buffer.alloc(st.size);
    const n = readFully(fd, buf);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n));
    const parsed = parseFacts(text);
    return parsed.ok ? parsed : failure(`${path}: ${parsed.error}`);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return failure(`${path}: cannot read: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
