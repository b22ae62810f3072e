/**
 * A HostView that answers from a recorded transcript (a facts file's `view`). A call the transcript
 * lacks is answered `unknown('not in the snapshot: <op> <path>')`, never guessed, and remembered so the
 * CLI can warn naming the path: a disk the snapshot does not cover stays unannotated, visibly.
 */
import { APPARMOR_FILES } from '../../host/apparmor-files.js';
import { missing, unknown, type HostView, type Inode, type Lookup } from '../../host/view.js';
import { callKey, fromBase64, identityKey, loadLookup } from './codec.js';
import type { StoredCall, StoredLookup, ViewOp } from './format.js';

export interface SnapshotMiss {
  readonly op: ViewOp | 'readBinary';
  readonly path: string;
}

export interface SnapshotView {
  readonly view: HostView;
  /** Calls that found no answer since the last call to takeMisses, each once, in first-miss order. */
  takeMisses(): SnapshotMiss[];
}

/**
 * One recorded readBytes: `size` bytes from `offset`, of which `head` is the start and the rest zeros;
 * `eof` when the host returned fewer than asked. Zeros are materialized only for the range a replayed
 * read asks, so a hostile `zeros` count cannot make replay allocate it.
 */
interface Segment {
  readonly offset: number;
  readonly head: Uint8Array;
  readonly size: number;
  readonly eof: boolean;
}

const same = <T>(v: T) => v;

export function missText(m: SnapshotMiss): string {
  return `not in the snapshot: ${m.op} ${m.path}`;
}

export function createSnapshotView(calls: readonly StoredCall[]): SnapshotView {
  const answers = new Map<string, StoredCall>();
  const segments = new Map<string, Segment[]>();
  const failedReads = new Map<string, Exclude<StoredLookup<unknown>, { kind: 'ok' }>>();
  const asked = new Map<string, StoredCall>();
  for (const c of calls) {
    if (c.op === 'kernelAccess') {
      asked.set(identityKey('kernelAccess', c.path, c, c.ask), c);
      continue;
    }
    if (c.op === 'readBytesAs') {
      asked.set(identityKey('readBytesAs', c.path, c, c.offset, c.length), c);
      continue;
    }
    if (c.op === 'lstatAs' || c.op === 'readlinkAs') {
      asked.set(identityKey(c.op, c.path, c), c);
      continue;
    }
    if (c.op !== 'readBytes') {
      answers.set(callKey(c.op, c.path), c);
      continue;
    }
    if (c.answer.kind === 'ok') {
      const head = fromBase64(c.answer.value.head);
      const size = head.length + c.answer.value.zeros;
      const list = segments.get(c.path) ?? [];
      list.push({ offset: c.offset, head, size, eof: size < c.length });
      segments.set(c.path, list);
    } else {
      // A file that could not be opened fails every read alike (missing, or unknown with its reason).
      failedReads.set(c.path, c.answer);
    }
  }

  let misses = new Map<string, SnapshotMiss>();
  /**
   * A path whose directory was listed on the host (facts --path records its listings) and whose name
   * was not in the listing is proven absent, exactly as the host would have said, not unknown.
   */
  const listings = new Map<string, ReadonlySet<string> | undefined>();
  const absent = (path: string): boolean => {
    const cut = path.lastIndexOf('/');
    if (cut < 0 || path === '/') return false;
    const dir = cut === 0 ? '/' : path.slice(0, cut);
    if (!listings.has(dir)) {
      const listing = recorded<Extract<StoredCall, { op: 'listDir' }>>('listDir', dir);
      listings.set(dir, listing?.answer.kind === 'ok' ? new Set(listing.answer.value) : undefined);
    }
    const names = listings.get(dir);
    return names !== undefined && !names.has(path.slice(cut + 1));
  };
  const miss = (op: SnapshotMiss['op'], path: string, file = path): Lookup<never> => {
    if (op !== 'listDir' && op !== 'readBinary' && absent(file)) return missing('ENOENT');
    const m = { op, path };
    // Reads that only inform (is AppArmor in use?) are not worth a "take the snapshot again" warning.
    if (!APPARMOR_FILES.has(path)) misses.set(callKey(op, path), m);
    return unknown(missText(m));
  };
  function recorded<C extends StoredCall>(op: C['op'], path: string): C | undefined {
    return answers.get(callKey(op, path)) as C | undefined;
  }

  const view: HostView = {
    lstat(path): Lookup<Inode> {
      const c = recorded<Extract<StoredCall, { op: 'lstat' }>>('lstat', path);
      return c ? loadLookup(c.answer, same) : miss('lstat', path);
    },
    readlink(path) {
      const c = recorded<Extract<StoredCall, { op: 'readlink' }>>('readlink', path);
      return c ? loadLookup(c.answer, same) : miss('readlink', path);
    },
    aclAccess(path) {
      const c = recorded<Extract<StoredCall, { op: 'aclAccess' }>>('aclAccess', path);
      return c ? loadLookup(c.answer, (v) => (v === null ? null : fromBase64(v))) : miss('aclAccess', path);
    },
    selinuxLabel(path) {
      const c = recorded<Extract<StoredCall, { op: 'selinuxLabel' }>>('selinuxLabel', path);
      return c ? loadLookup(c.answer, same) : miss('selinuxLabel', path);
    },
    readBytes(path, offset, length) {
      const failed = failedReads.get(path);
      if (failed) return loadLookup(failed, () => new Uint8Array());
      const answer = readFromSegments(segments.get(path) ?? [], offset, length);
      return answer ?? miss('readBytes', `${path} (bytes ${offset}..${offset + length})`, path);
    },
    readText(path) {
      const c = recorded<Extract<StoredCall, { op: 'readText' }>>('readText', path);
      return c ? loadLookup(c.answer, same) : miss('readText', path);
    },
    readBinary(path) {
      return miss('readBinary', path);
    },
    kernelAccess(q) {
      const c = asked.get(identityKey('kernelAccess', q.path, q, q.op)) as Extract<StoredCall, { op: 'kernelAccess' }> | undefined;
      return c ? loadLookup(c.answer, same) : miss('kernelAccess', `${q.path} (${q.op} as uid ${q.uid})`, q.path);
    },
    lstatAs(who, path) {
      const c = asked.get(identityKey('lstatAs', path, who)) as Extract<StoredCall, { op: 'lstatAs' }> | undefined;
      return c ? loadLookup(c.answer, same) : miss('lstatAs', `${path} (as uid ${who.uid})`, path);
    },
    readlinkAs(who, path) {
      const c = asked.get(identityKey('readlinkAs', path, who)) as Extract<StoredCall, { op: 'readlinkAs' }> | undefined;
      return c ? loadLookup(c.answer, same) : miss('readlinkAs', `${path} (as uid ${who.uid})`, path);
    },
    readBytesAs(who, path, offset, length) {
      const c = asked.get(identityKey('readBytesAs', path, who, offset, length)) as Extract<StoredCall, { op: 'readBytesAs' }> | undefined;
      if (!c) return miss('readBytesAs', `${path} (bytes ${offset}..${offset + length} as uid ${who.uid})`, path);
      return loadLookup(c.answer, (b) => {
        const head = fromBase64(b.head);
        const out = new Uint8Array(head.length + b.zeros);
        out.set(head);
        return out;
      });
    },
    listDir(path) {
      const c = recorded<Extract<StoredCall, { op: 'listDir' }>>('listDir', path);
      return c ? loadLookup(c.answer, same) : miss('listDir', path);
    },
  };
  return {
    view,
    takeMisses() {
      const out = [...misses.values()];
      misses = new Map();
      return out;
    },
  };
}

/**
 * The bytes at [offset, offset+length) when one recorded read covers them: inside its bytes, or past
 * them up to a recorded end of file (a shorter read then is exactly what the host would return).
 */
function readFromSegments(list: readonly Segment[], offset: number, length: number): Lookup<Uint8Array> | undefined {
  for (const s of list) {
    if (offset < s.offset) continue;
    const end = s.offset + s.size;
    if (offset + length <= end) return { kind: 'ok', value: slice(s, offset - s.offset, offset - s.offset + length) };
    if (s.eof) return { kind: 'ok', value: slice(s, Math.min(offset, end) - s.offset, end - s.offset) };
  }
  return undefined;
}

/** Bytes [from, to) of a segment (relative to its offset): the head's, then zeros. */
function slice(s: Segment, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  if (from < s.head.length) out.set(s.head.subarray(from, Math.min(to, s.head.length)));
  return out;
}

