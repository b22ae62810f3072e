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
  const present = hookCanRead(reader, bytes) && sameScope(readProjection(reader, bytes), scope) && (instance === undefined || copyIs(reader, instance, bytes));
  return success({ source, entry: cacheEntryName(bytes), projectionEntry: projectionEntryName(), scope, bytes, present, ...(instance && { instance }) });
}

/** Parses the policy and stores its model through `writer`; then checks that the hook's reader finds it. */
export function applyHookPolicyStore(plan: HookStorePlan, writer: PolicyCache, reader: PolicyCache): Result<void, string> {
  const loaded = loadPolicyCached(plan.bytes, writer);
  if (!loaded.ok) return failure(`${plan.source}: not a usable kernel policy: ${loaded.error.message} (${loaded.error.section} at byte ${loaded.error.offset})`);
  // A flat payload: the hook reads it back without node:v8 and its stream stack (flat-payload.ts).
  writer.store.write(plan.projectionEntry, encodeEntry(projectionKey(writer.key), plan.bytes, projectPolicy(loaded.value, plan.scope), true));
  if (plan.instance) {
    // The copy first, its instance after: an instance names a copy that is whole.
    if (!writer.store.write(RUNNING_COPY, [plan.bytes]) || !writer.store.write(RUNNING_INSTANCE, [Buffer.from(formatInstance(plan.instance), 'utf8')])) {
      return failure('the copy of the running policy was not written (owner, mode or space)');
    }
    if (!copyIs(reader, plan.instance, plan.bytes)) return failure('the copy of the running policy was written, but the hook could not read it back (owner or mode)');
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
    const copy = storeDir !== undefined && given.policy === undefined ? runningCopy(reader, view, storeDir) : undefined;
    const opts = copy !== undefined ? { ...given, policy: copy } : given;
    const where = hostPolicyPath(view, opts);
    if (!where.ok) return where;
    const proj = readProjectionAgainst(reader, view, where.value.path);
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

/** The stored instance, if the store holds one (and its copy, written before it). */
function storedInstance(reader: PolicyCache): PolicyInstance | undefined {
  const text = reader.store.read(RUNNING_INSTANCE);
  return text === undefined ? undefined : parseInstance(Buffer.from(text).toString('utf8'));
}

/** The store holds these bytes as the copy of exactly this instance. */
function copyIs(reader: PolicyCache, instance: PolicyInstance, bytes: Uint8Array): boolean {
  const stored = storedInstance(reader);
  const copy = stored && sameInstance(stored, instance) ? reader.store.read(RUNNING_COPY) : undefined;
  return copy !== undefined && Buffer.compare(copy, bytes) === 0;
}

/**
 * The path of the store's copy when the running kernel reports the very instance it was read at (then the
 * copy is the loaded policy with its boolean values); undefined otherwise (another load or boolean commit
 * since, another boot, no status page), and the hook reads the kernel's policy as before. The instance file
 * is read through the store's checks (root's, private, no link), so the directory the copy lies in is too.
 */
function runningCopy(reader: PolicyCache, view: HostView, storeDir: string): string | undefined {
  const stored = storedInstance(reader);
  if (stored === undefined) return undefined;
  const now = liveInstance(view);
  return now !== undefined && sameInstance(stored, now) ? join(storeDir, RUNNING_COPY) : undefined;
}
