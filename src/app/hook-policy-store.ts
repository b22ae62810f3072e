/**
 * The hook's policy store (issue 21, item 4): `hook install`, run as root, stores two entries for the
 * policy the host decides under (the entry format of the parsed-policy cache, src/selinux/policy/
 * cache-entry.ts: the policy's bytes in full, this build's key, a payload):
 *  - the parsed model loadPolicy made (the whole policy, for any question);
 *  - its projection for the hook's own questions (src/selinux/policy/projection.ts: the svirt types that
 *    virtual_domain_context names and libvirt's defaults, the classes QEMU opens), a twentieth of the size
 *    and read without rebuilding the model's objects.
 * Where the policy is the running kernel's, also a copy of its bytes and the kernel's instance they were read
 * at (src/selinux/kernel-status.ts: boot and policyload number, the same before and after the read): while
 * the kernel reports that instance, the copy IS the loaded policy, and the hook reads it instead of
 * /sys/fs/selinux/policy, which libvirtd's domain may not read under Debian's policy (security
 * { read_policy }), and which the kernel serialises anew at every open.
 * The hook only reads them (src/commands/hook.ts), for byte-identical policy bytes only. It answers from
 * the projection what the projection can answer exactly (src/selinux/projected-oracle.ts), and anything
 * else from the whole model (the stored one, else the policy read itself). A miss (another policy loaded
 * since, another build, a damaged or foreign entry) means the hook reads the policy itself, as it did
 * before: the store can make the hook faster, never change what it answers.
 */
import type { HostView } from '../host/view.js';
import { failure, success, type Result } from '../result.js';
import { projectedOracle } from '../selinux/projected-oracle.js';
import {
  cacheEntryName, cacheSupported, RUNNING_COPY, RUNNING_INSTANCE, decodeCacheEntry, decodeEntry, decodePayload, encodeEntry, entryHeadLength, entryLayout, projectionEntryName,
} from '../selinux/policy/cache-entry.js';
import { loadPolicyCached, type PolicyCache } from '../selinux/policy/cached-load.js';
import { isStoredProjection, openProjection, projectPolicy, type PolicyProjection, type ProjectionScope } from '../selinux/policy/projection.js';
import { DEFAULT_DYNAMIC } from '../selinux/svirt-process.js';
import type { HostOptions } from './host-options.js';
import {
  domainContexts, hostPolicyPath, liveInstance, loadHostPolicy, namedLiveBooleans, readHostPolicyBytes,
  type LoadedPolicy, type PolicyLoader,
} from './selinux-engine.js';
import { formatInstance, parseInstance, sameInstance, type PolicyInstance } from '../selinux/kernel-status.js';
import { join } from 'node:path';

/** The classes the hook asks about: search on directories, read on symlinks, the disk classes (qemu-perms.ts). */
export const HOOK_CLASSES = ['dir', 'lnk_file', 'file', 'blk_file', 'chr_file'] as const;

/** The key of projection entries: the build's, so a projection of another build (or format) is never read. */
const projectionKey = (key: string) => `${key} projection`;

/**
 * The source types the projection answers for: libvirt's defaults (svirt_t, svirt_tcg_t) and the types
 * the configured store's virtual_domain_context names. A domain whose label names another type (a static
 * label, a baselabel) is answered from the whole policy.
 */
export function hookProjectionScope(view: HostView): ProjectionScope {
  const types = new Set<string>([DEFAULT_DYNAMIC.type, 'svirt_tcg_t']);
  const contexts = domainContexts(view);
  for (const line of [contexts?.primary, contexts?.tcg]) {
    const type = line?.split(':')[2];
    if (type) types.add(type);
  }
  return { sourceTypes: [...types], classes: [...HOOK_CLASSES] };
}

export interface HookStorePlan {
  /** The policy file the hook will read (the running kernel's, else the configured store's). */
  readonly source: string;
  readonly entry: string;
  readonly bytes: Uint8Array;
  /** The projection's entry. */
  readonly projectionEntry: string;
  readonly scope: ProjectionScope;
  /** The kernel's instance these bytes are, when they are the running kernel's and it did not change while they were read. */
  readonly instance?: PolicyInstance;
  /** Entries the hook can use are there already (the model's and the projection's, for this scope; the copy for this instance). */
  readonly present: boolean;
}

/** What storing would do, from what is on disk now; a failure says why there is nothing to store. */
export function planHookPolicyStore(view: HostView, reader: PolicyCache | undefined): Result<HookStorePlan, string> {
  if (!reader || !cacheSupported()) return failure('this build has no build identity (only the bundled build keeps a policy store)');
  const before = liveInstance(view);
  const read = readHostPolicyBytes(view, {});
  if (!read.ok) return read;
  const after = liveInstance(view);
  const { path: source, bytes, live } = read.value;
  const instance = live && before && after && sameInstance(before, after) ? before : undefined;
  const scope = hookProjectionScope(view);
  const present = hookCanRead(reader, bytes) && sameScope(readProjection(reader, bytes), scope) && (instance === undefined || recordIs(reader, instance, bytes));
  return success({ source, entry: cacheEntryName(bytes), projectionEntry: projectionEntryName(), scope, bytes, present, ...(instance && { instance }) });
}

/** Parses the policy and stores its model through `writer`; then checks that the hook's reader finds it. */
export function applyHookPolicyStore(plan: HookStorePlan, writer: PolicyCache, reader: PolicyCache): Result<void, string> {
  const loaded = loadPolicyCached(plan.bytes, writer);
  if (!loaded.ok) return failure(`${plan.source}: not a usable kernel policy: ${loaded.error.message} (${loaded.error.section} at byte ${loaded.error.offset})`);
  // A flat payload: the hook reads it back without node:v8 and its stream stack (flat-payload.ts).
  const projection = encodeEntry(projectionKey(writer.key), plan.bytes, projectPolicy(loaded.value, plan.scope), true);
  if (!writer.store.write(plan.projectionEntry, projection)) return failure('the projection was not written (owner, mode or space)');
  if (plan.instance) {
    // The copy and the projection first, the record after: a record names only what is whole.
    const record: RunningRecord = { instance: plan.instance, projection: payloadMark(projectionKey(writer.key), projection) };
    if (!writer.store.write(RUNNING_COPY, [plan.bytes]) || !writer.store.write(RUNNING_INSTANCE, [Buffer.from(formatRecord(record), 'utf8')])) {
      return failure('the copy of the running policy was not written (owner, mode or space)');
    }
    if (!recordIs(reader, plan.instance, plan.bytes)) return failure('the copy of the running policy, its record and the projection were written, but the hook could not read them back (owner or mode)');
  }
  if (!hookCanRead(reader, plan.bytes)) return failure('the entry was not written, or the hook could not use it (owner, mode or space)');
  return sameScope(readProjection(reader, plan.bytes), plan.scope) ? success(undefined) : failure('the projection was not written, or the hook could not use it (owner, mode or space)');
}

/** The projection stored for exactly these policy bytes by this build, if any (a damaged or foreign one is none). */
export function readProjection(reader: PolicyCache, bytes: Uint8Array): PolicyProjection | undefined {
  const entry = reader.store.read(projectionEntryName());
  if (entry === undefined) return undefined;
  const stored = decodeEntry(projectionKey(reader.key), bytes, entry);
  return isStoredProjection(stored) ? openProjection(stored) : undefined;
}

/**
 * The projection stored for exactly the policy file at `path` now, read side by side with that file
 * (EntryStore.readAgainst); a store that cannot stream is read whole, against the file's bytes.
 */
function readProjectionAgainst(reader: PolicyCache, view: HostView, path: string): PolicyProjection | undefined {
  const key = projectionKey(reader.key);
  if (!reader.store.readAgainst) {
    const bytes = view.readBinary(path);
    return bytes.kind === 'ok' ? readProjection(reader, bytes.value) : undefined;
  }
  let crc = 0;
  const payload = reader.store.readAgainst(projectionEntryName(), path, entryHeadLength(key), (head) => {
    const l = entryLayout(key, head);
    if (l) crc = l.payloadCrc;
    return l;
  });
  const stored = payload && decodePayload(payload, crc);
  return isStoredProjection(stored) ? openProjection(stored) : undefined;
}

/** The projection answers for the scope install would give it now (virtual_domain_context may have changed). */
function sameScope(p: PolicyProjection | undefined, scope: ProjectionScope): boolean {
  if (!p) return false;
  const types = new Set(scope.sourceTypes.map((n) => p.policy.types.byName.get(n)).filter((t) => t !== undefined && !t.isAttribute).map((t) => t!.value));
  return types.size === p.sourceTypes.length && p.sourceTypes.every((v) => types.has(v)) && scope.classes.every((c) => p.classes.includes(c) || !p.policy.classes.byName.has(c));
}

/**
 * The hook's policy loader: the host's policy bytes, then the projection stored for exactly those bytes;
 * a hit answers from the projection what it can (reading only the booleans it depends on) and loads the
 * whole model (the store's, else the policy's own read) the first time a question needs it. Without a
 * store, or on a miss, or for --policy: loadHostPolicy, as any command.
 */
export function hookPolicyLoader(reader: PolicyCache | undefined, storeDir?: string): PolicyLoader {
  return (view: HostView, given: HostOptions): Result<LoadedPolicy, string> => {
    if (!reader || !cacheSupported()) return loadHostPolicy(view, given);
    // The running kernel's policy: its copy in the store while the kernel still holds that instance.
    const record = storeDir !== undefined && given.policy === undefined ? currentRecord(reader, view) : undefined;
    const opts = record !== undefined ? { ...given, policy: join(storeDir!, RUNNING_COPY) } : given;
    const where = hostPolicyPath(view, opts);
    if (!where.ok) return where;
    // The projection install made from that copy, while the entry still holds that payload; else (a
    // projection written since, an older store) the entry's policy part compared with the file in full.
    const proj = (record?.projection && readProjectionMarked(reader, record.projection)) || readProjectionAgainst(reader, view, where.value.path);
    if (!proj) return loadHostPolicy(view, opts);
    const whole = () => {
      const loaded = loadHostPolicy(view, opts);
      // The bytes just matched the projection's, which this build made from a policy it parsed: a
      // failure now (the policy replaced in between) is not an answer, and the check says it cannot tell.
      if (!loaded.ok) throw new Error(loaded.error);
      return loaded.value.oracle;
    };
    const booleans = namedLiveBooleans(view, opts, where.value.live, proj.booleans);
    return success({ oracle: projectedOracle(proj, booleans, whole), mls: proj.policy.mls, source: where.value.path });
  };
}

function hookCanRead(reader: PolicyCache, bytes: Uint8Array): boolean {
  const entry = reader.store.read(cacheEntryName(bytes));
  return entry !== undefined && decodeCacheEntry(reader.key, bytes, entry) !== undefined;
}

/**
 * What the store says of its copy of the running policy (RUNNING_INSTANCE): the kernel's instance the copy
 * is (src/selinux/kernel-status.ts), and the mark of the projection entry install made from those very
 * bytes. Install writes it last, after the copy and the projection, and checks both against the bytes it
 * read (recordIs), so a record names only a copy and a projection that are whole and agree. While the
 * kernel reports that instance and the projection entry still carries that payload, the hook reads the
 * payload alone: comparing the entry's 2 MB policy part with the 2 MB copy again would only repeat install's
 * comparison (about 4 ms of every SELinux start, bench/hook-start.mjs). A projection written since (by an
 * install that did not write a record) carries another payload and is compared in full as before.
 */
interface RunningRecord {
  readonly instance: PolicyInstance;
  /** Absent in a store written before records named a projection: such a store is compared in full. */
  readonly projection?: PayloadMark;
}

/** A projection entry's payload as its head states it: the policy part's length, the payload's length and CRC-32. */
interface PayloadMark {
  readonly policyLength: number;
  readonly payloadLength: number;
  readonly payloadCrc: number;
}

/** The record's text: the instance's line, then `projection POLICY-LENGTH PAYLOAD-LENGTH PAYLOAD-CRC`. */
export function formatRecord(r: RunningRecord): string {
  const m = r.projection;
  return `${formatInstance(r.instance)}${m ? `projection ${m.policyLength} ${m.payloadLength} ${m.payloadCrc}\n` : ''}`;
}

export function parseRecord(text: string): RunningRecord | undefined {
  const m = /^([^\n]*\n)(?:projection (\d{1,10}) (\d{1,10}) (\d{1,10})\n)?$/.exec(text);
  const instance = m ? parseInstance(m[1]!) : undefined;
  if (!m || !instance) return undefined;
  if (m[2] === undefined) return { instance };
  const [policyLength, payloadLength, payloadCrc] = [m[2], m[3]!, m[4]!].map(Number) as [number, number, number];
  return [policyLength, payloadLength, payloadCrc].every((n) => n <= 0xffffffff) ? { instance, projection: { policyLength, payloadLength, payloadCrc } } : undefined;
}

/** The mark of an entry encodeEntry made (its parts: head, key, policy, payload). */
function payloadMark(key: string, parts: readonly Uint8Array[]): PayloadMark | undefined {
  const l = entryLayout(key, Buffer.concat([parts[0]!, parts[1]!]));
  return l && { policyLength: l.policyLength, payloadLength: l.payloadLength, payloadCrc: l.payloadCrc };
}

/** The projection whose entry carries exactly the marked payload (its policy part not read), if any. */
export function readProjectionMarked(reader: PolicyCache, mark: PayloadMark): PolicyProjection | undefined {
  const key = projectionKey(reader.key);
  const marked = (head: Uint8Array) => {
    const l = entryLayout(key, head);
    return l && l.policyLength === mark.policyLength && l.payloadLength === mark.payloadLength && l.payloadCrc === mark.payloadCrc ? l : undefined;
  };
  let payload: Uint8Array | undefined;
  if (reader.store.readPayload) payload = reader.store.readPayload(projectionEntryName(), entryHeadLength(key), marked);
  else {
    const entry = reader.store.read(projectionEntryName());
    const l = entry && marked(entry.subarray(0, entryHeadLength(key)));
    payload = l && l.total === entry.length ? entry.subarray(l.payloadAt) : undefined;
  }
  const stored = payload && decodePayload(payload, mark.payloadCrc);
  return isStoredProjection(stored) ? openProjection(stored) : undefined;
}

/** The stored record, if the store holds one (and its copy, written before it). */
function storedRecord(reader: PolicyCache): RunningRecord | undefined {
  const text = reader.store.read(RUNNING_INSTANCE);
  return text === undefined ? undefined : parseRecord(Buffer.from(text).toString('utf8'));
}

/**
 * The store holds these bytes as the copy of exactly this instance, and its record marks a projection the
 * hook reads back, made for these bytes (install's own check, and `present`: an older record is rewritten).
 */
function recordIs(reader: PolicyCache, instance: PolicyInstance, bytes: Uint8Array): boolean {
  const stored = storedRecord(reader);
  const copy = stored && sameInstance(stored.instance, instance) ? reader.store.read(RUNNING_COPY) : undefined;
  if (copy === undefined || Buffer.compare(copy, bytes) !== 0 || !stored?.projection) return false;
  return readProjectionMarked(reader, stored.projection) !== undefined && readProjection(reader, bytes) !== undefined;
}

/**
 * The record when the running kernel reports the very instance it names (then the store's copy is the
 * loaded policy with its boolean values); undefined otherwise (another load or boolean commit since,
 * another boot, no status page), and the hook reads the kernel's policy as before. The record is read
 * through the store's checks (root's, private, no link), so the directory the copy lies in is too.
 */
function currentRecord(reader: PolicyCache, view: HostView): RunningRecord | undefined {
  const stored = storedRecord(reader);
  if (stored === undefined) return undefined;
  const now = liveInstance(view);
  return now !== undefined && sameInstance(stored.instance, now) ? stored : undefined;
}
