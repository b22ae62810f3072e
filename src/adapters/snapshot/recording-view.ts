/**
 * A HostView that answers from another one and writes down every call with its answer. Wrapped around
 * the live view while `facts` runs the real decisions, it captures exactly what those decisions read,
 * no more: nothing is guessed at or walked ahead of need, so what offline replay can answer is what the
 * live run asked.
 *
 * readBinary passes through unrecorded: it only ever serves the policy file (megabytes), whose role in
 * a snapshot is taken by the recorded SELinux oracle questions (recording-oracle.ts).
 */
import type { HostView, Inode, Lookup } from '../../host/view.js';
import { callKey, identityKey, storeLookup, toBase64, toStoredBytes } from './codec.js';
import type { StoredCall } from './format.js';

export interface RecordingView {
  readonly view: HostView;
  /** Every distinct call so far, in first-call order. */
  calls(): readonly StoredCall[];
  /** Writes down a text answer obtained elsewhere (virt-aa-helper's runs), replayed as readText of `path`. */
  noteText(path: string, text: string): void;
}

const asInode = (i: Inode) => ({ type: i.type, mode: i.mode, uid: i.uid, gid: i.gid });
const same = <T>(v: T) => v;
// The inner view may hand out views of a reused buffer; base64 copies the bytes at call time.
const bytesOrNull = (b: Uint8Array | null) => (b === null ? null : toBase64(b));

export interface RecordingOptions {
  /**
   * What to store for a whole text file instead of its full text; must be answer-preserving for every
   * reader of that file (see qemu-conf-shrink.ts). The caller still gets the full text.
   */
  readonly storeText?: (path: string, text: string) => string;
}

export function createRecordingView(inner: HostView, options: RecordingOptions = {}): RecordingView {
  const storeText = options.storeText ?? ((_path: string, text: string) => text);
  const recorded = new Map<string, StoredCall>();
  const keep = (key: string, call: StoredCall) => {
    if (!recorded.has(key)) recorded.set(key, call);
  };
  const view: HostView = {
    lstat(path): Lookup<Inode> {
      const a = inner.lstat(path);
      keep(callKey('lstat', path), { op: 'lstat', path, answer: storeLookup(a, asInode) });
      return a;
    },
    readlink(path) {
      const a = inner.readlink(path);
      keep(callKey('readlink', path), { op: 'readlink', path, answer: storeLookup(a, same) });
      return a;
    },
    aclAccess(path) {
      const a = inner.aclAccess(path);
      keep(callKey('aclAccess', path), { op: 'aclAccess', path, answer: storeLookup(a, bytesOrNull) });
      return a;
    },
    selinuxLabel(path) {
      const a = inner.selinuxLabel(path);
      keep(callKey('selinuxLabel', path), { op: 'selinuxLabel', path, answer: storeLookup(a, same) });
      return a;
    },
    readBytes(path, offset, length) {
      const a = inner.readBytes(path, offset, length);
      keep(callKey('readBytes', path, offset, length), { op: 'readBytes', path, offset, length, answer: storeLookup(a, toStoredBytes) });
      return a;
    },
    readText(path) {
      const a = inner.readText(path);
      keep(callKey('readText', path), { op: 'readText', path, answer: storeLookup(a, (text) => storeText(path, text)) });
      return a;
    },
    readBinary(path) {
      return inner.readBinary(path);
    },
    listDir(path) {
      const a = inner.listDir(path);
      keep(callKey('listDir', path), { op: 'listDir', path, answer: storeLookup(a, (names) => [...names]) });
      return a;
    },
  };
  const ids = (w: { uid: number; gid: number; groups: readonly number[] }) => ({ uid: w.uid, gid: w.gid, groups: [...new Set(w.groups)].sort((a, b) => a - b) });
  if (inner.kernelAccess) {
    const ask = inner.kernelAccess.bind(inner);
    view.kernelAccess = (q) => {
      const a = ask(q);
      keep(identityKey('kernelAccess', q.path, q, q.op), { op: 'kernelAccess', path: q.path, ask: q.op, ...ids(q), answer: storeLookup(a, same) });
      return a;
    };
  }
  if (inner.readBytesAs) {
    const read = inner.readBytesAs.bind(inner);
    view.readBytesAs = (who, path, offset, length) => {
      const a = read(who, path, offset, length);
      keep(identityKey('readBytesAs', path, who, offset, length), { op: 'readBytesAs', path, offset, length, ...ids(who), answer: storeLookup(a, toStoredBytes) });
      return a;
    };
  }
  if (inner.lstatAs) {
    const st = inner.lstatAs.bind(inner);
    view.lstatAs = (who, path) => {
      const a = st(who, path);
      keep(identityKey('lstatAs', path, who), { op: 'lstatAs', path, ...ids(who), answer: storeLookup(a, asInode) });
      return a;
    };
  }
  if (inner.readlinkAs) {
    const rl = inner.readlinkAs.bind(inner);
    view.readlinkAs = (who, path) => {
      const a = rl(who, path);
      keep(identityKey('readlinkAs', path, who), { op: 'readlinkAs', path, ...ids(who), answer: storeLookup(a, same) });
      return a;
    };
  }
  return {
    view,
    calls: () => [...recorded.values()],
    noteText: (path, text) => keep(callKey('readText', path), { op: 'readText', path, answer: { kind: 'ok', value: text } }),
  };
}
