/**
 * The hook's policy projection (src/selinux/policy/projection.ts, src/selinux/projected-oracle.ts, stored by
 * `hook install` through src/app/hook-policy-store.ts): it must answer every question the hook can ask
 * exactly as the whole policy does. Differential, on Debian's two policies and on the checkpolicy-built edge
 * policies: every file class and permission set QEMU needs, every target type (Debian: all of them, the
 * levels and boolean settings rotating; a sample in full cross product), MCS levels (s0, the domain's own
 * categories, others, a range), the kernel's booleans flipped, sources in and out of the scope, invalid
 * contexts. Compared: the projection's own answer whenever either side allows (deep equality, the sentence
 * included), and the oracle's answer (which asks the whole policy for everything else) always. A damaged,
 * truncated, foreign or mismatched store entry is a miss, never an answer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KEY, debian, reader, root, useStoreDirs, writer } from './hook-store-fixture.js';
import { openReadOnlyStore } from '../../src/adapters/live/policy-cache-dir.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { HOOK_CLASSES, hookPolicyLoader, readProjection } from '../../src/app/hook-policy-store.js';
import type { HostOptions } from '../../src/app/host-options.js';
import { computeAccess, type AccessRequest } from '../../src/selinux/access.js';
import { cacheSupported, encodeEntry, entryHeadLength, entryLayout, projectionEntryName } from '../../src/selinux/policy/cache-entry.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import type { Policy } from '../../src/selinux/policy/model.js';
import { openProjection, PROJECTION_FORMAT, projectPolicy, type PolicyProjection, type ProjectionScope } from '../../src/selinux/policy/projection.js';
import { encodeFlat } from '../../src/selinux/policy/flat-payload.js';
import { policyOracle } from '../../src/selinux/policy-oracle.js';
import { projectedOracle } from '../../src/selinux/projected-oracle.js';
import { DIR_SEARCH_PERMS, LINK_FOLLOW_PERMS, READ_PERMS, READ_WRITE_PERMS } from '../../src/selinux/qemu-perms.js';
import { allVariants, compilePolicy, variantName } from './differential/compile.js';

/** A store directory as `hook install` leaves it: root's, 0700, filled through openCacheDir. */
const storeDir = useStoreDirs('hook-projection-');
const projectionKey = `${KEY} projection`;

/** The projection as the hook gets it: written by install's writer, read back through the read-only store. */
function throughStore(bytes: Uint8Array, policy: Policy, scope: ProjectionScope, dir = storeDir()): PolicyProjection {
  expect(writer(dir).store.write(projectionEntryName(), encodeEntry(projectionKey, bytes, projectPolicy(policy, scope)))).toBe(true);
  const p = readProjection(reader(dir), bytes);
  expect(p).toBeDefined();
  return p!;
}

const QEMU_ASKS: [string, readonly string[]][] = [
  ['file', READ_WRITE_PERMS], ['file', READ_PERMS], ['blk_file', READ_WRITE_PERMS], ['blk_file', READ_PERMS],
  ['chr_file', READ_WRITE_PERMS], ['chr_file', READ_PERMS], ['dir', DIR_SEARCH_PERMS], ['lnk_file', LINK_FOLLOW_PERMS],
];

/** Boolean settings as the kernel may hold them: the policy's values, all flipped, every other one on. */
function booleanSettings(policy: Policy): Record<string, boolean>[] {
  const bools = policy.bools.byValue.filter((b) => b !== undefined).map((b) => b!);
  return [
    Object.fromEntries(bools.map((b) => [b.name, b.defaultState])),
    Object.fromEntries(bools.map((b) => [b.name, !b.defaultState])),
    Object.fromEntries(bools.map((b, i) => [b.name, i % 2 === 0])),
  ];
}

interface Tally { asked: number; allowed: number; denied: number; errors: number; local: number }

/**
 * Asks every question of the whole policy's oracle and of the projected oracle (under each boolean setting,
 * the projected one given only the projection's booleans, as the hook reads them), and of the projection's
 * own engine (each question under one of the settings, rotating): the projected oracle must equal the whole one always; the projection's own answer must equal
 * the whole policy's whenever either allows (the only answers the oracle takes from it).
 */
function compare(full: Policy, proj: PolicyProjection, qs: readonly AccessRequest[], settings: readonly Record<string, boolean>[]): Tally {
  const t: Tally = { asked: 0, allowed: 0, denied: 0, errors: 0, local: 0 };
  // One oracle pair per setting; question i is asked under setting i mod their count.
  const pairs = settings.map((kernel) => {
    const whole = policyOracle(full, kernel);
    const named = Object.fromEntries(proj.booleans.filter((n) => n in kernel).map((n) => [n, kernel[n]!]));
    const loaded = { count: 0 };
    const projected = projectedOracle(proj, named, () => { loaded.count++; return whole; });
    return { kernel, whole, named, projected, loaded };
  });
  qs.forEach((q0, i) => {
    const { kernel, whole, named, projected } = pairs[i % pairs.length]!;
    // Some questions carry their own override on top (as --boolean does).
    const q = i % 11 === 3 ? { ...q0, booleans: Object.fromEntries(Object.entries(kernel).slice(0, 3).map(([n, v]) => [n, !v])) } : q0;
    const a = whole.compute(q);
    const b = projected.compute(q);
    if (!isDeepStrictEqual(a, b)) expect({ q, b }).toEqual({ q, b: a });
    const own = computeAccess(proj.policy, { ...q, booleans: { ...named, ...(q.booleans ?? {}) } });
    const inScope = proj.classes.includes(q.tclass) && proj.sourceTypes.includes(full.types.byName.get(q.scontext.split(':')[2]!)?.value ?? -1);
    if (inScope && ((own.ok && own.allowed) || (a.ok && a.allowed))) {
      if (!isDeepStrictEqual(a, own)) expect({ q, own }).toEqual({ q, own: a });
      t.local++;
    }
    t.asked++;
    if (!a.ok) t.errors++;
    else if (a.allowed) t.allowed++;
    else t.denied++;
  });
  // The whole policy is loaded once at most per oracle, on the first question the projection leaves to it.
  for (const p of pairs) expect(p.loaded.count).toBeLessThanOrEqual(1);
  return t;
}

function debianQuestions(policy: Policy): AccessRequest[] {
  const mls = policy.mls;
  const types = policy.types.byValue.filter((t) => t !== undefined && !t.isAttribute).map((t) => t!.name);
  const sLevels = [':s0:c1,c2', ':s0:c500,c1023', ':s0', ':s0-s0:c0.c1023'];
  const tLevels = mls ? [':s0', ':s0:c1,c2', ':s0:c3,c4', ':s0-s0:c0.c1023', ':s15:c1,c2', ':s0:c1'] : [':s0', ':s0:c1,c2', ':s0:c3,c4', ':s0-s0:c0.c1023', ':s0:c1'];
  const sources = ['system_u:system_r:svirt_t', 'system_u:system_r:svirt_tcg_t', 'system_u:system_r:virtd_t', 'unconfined_u:unconfined_r:svirt_t', 'system_u:object_r:svirt_t'];
  const out: AccessRequest[] = [];
  let n = 0;
  // Every target type, each with every class QEMU opens, the levels rotating.
  for (const t of types) {
    for (const [tclass, perms] of QEMU_ASKS) {
      out.push({ scontext: `${sources[n % 2]}${sLevels[n % sLevels.length]}`, tcontext: `system_u:object_r:${t}${tLevels[n % tLevels.length]}`, tclass, perms });
      n++;
    }
  }
  // A sample in full cross product, with the other sources, classes outside the scope and invalid labels.
  const sample = types.filter((_, i) => i % 160 === 0).concat(['svirt_image_t', 'virt_image_t', 'svirt_home_t', 'default_t', 'nfs_t', 'public_content_t', 'root_t', 'var_t', 'etc_t'].filter((x) => policy.types.byName.has(x)));
  for (const s of sources) for (const sl of sLevels.slice(0, 3)) for (const t of sample) for (const tl of tLevels) {
    for (const [tclass, perms] of [...QEMU_ASKS, ['sock_file', ['write']] as [string, string[]], ['process', ['signal']] as [string, string[]]]) {
      out.push({ scontext: `${s}${sl}`, tcontext: `system_u:object_r:${t}${tl}`, tclass, perms });
    }
  }
  out.push(
    { scontext: 'system_u:system_r:svirt_t:s0:c1,c2', tcontext: 'system_u:object_r:no_such_t:s0', tclass: 'file', perms: READ_PERMS },
    { scontext: 'system_u:system_r:svirt_t:s0:c1,c2', tcontext: 'system_u:object_r:virt_image_t:s0:c9999', tclass: 'file', perms: READ_PERMS },
    { scontext: 'system_u:system_r:svirt_t:s0:c1,c2', tcontext: 'system_u:object_r:virt_image_t:s0', tclass: 'file', perms: ['no_such_perm'] },
    { scontext: 'system_u:system_r:svirt_t', tcontext: 'system_u:object_r:virt_image_t', tclass: 'file', perms: READ_PERMS },
    { scontext: 'system_u:system_r:domain:s0', tcontext: 'system_u:object_r:virt_image_t:s0', tclass: 'file', perms: READ_PERMS },
  );
  return out;
}

describe.skipIf(!cacheSupported())('the hook projection answers as the whole policy', () => {
  it.each(debian)('%s: every question the hook can ask', (path) => {
    const bytes = readFileSync(path);
    const full = loadPolicy(bytes);
    if (!full.ok) throw new Error(full.error.message);
    const proj = throughStore(bytes, full.value, { sourceTypes: ['svirt_t', 'svirt_tcg_t'], classes: [...HOOK_CLASSES] });
    // A projection at all: the rules of two svirt domains, not the policy's.
    expect(proj.policy.avtab.size).toBeLessThan(full.value.avtab.size / 50);
    expect(proj.booleans.length).toBeGreaterThan(0);
    const t = compare(full.value, proj, debianQuestions(full.value), booleanSettings(full.value));
    // Both outcomes, errors and answers from the projection itself occur: a comparison that saw one kind only would prove little.
    expect(t.allowed).toBeGreaterThan(1000);
    expect(t.denied).toBeGreaterThan(1000);
    expect(t.errors).toBeGreaterThan(10);
    expect(t.local).toBeGreaterThan(1000);
  }, 240_000);

  it('checkpolicy-built edge policies (constraints, conditionals, bounds, xperms, MLS; versions 24..33), each type as the scope', () => {
    const seen = { allowed: 0, denied: 0, local: 0 };
    for (const v of allVariants()) {
      const bytes = readFileSync(compilePolicy(v));
      const full = loadPolicy(bytes);
      if (!full.ok) throw new Error(`${variantName(v)}: ${full.error.message}`);
      const p = full.value;
      const types = p.types.byValue.filter((t) => t !== undefined && !t.isAttribute).map((t) => t!.name);
      const users = p.users.byValue.filter((u) => u !== undefined).map((u) => u!.name);
      const roles = p.roles.byValue.filter((r) => r !== undefined).map((r) => r!.name);
      const classes = p.classes.byValue.filter((c) => c !== undefined).map((c) => c!);
      const levels = p.mls ? [':s0', ':s0:c1', ':s0-s0:c0.c1'] : [''];
      // Source contexts the policy accepts, one per type where it has one.
      const sources = types.flatMap((t) => {
        for (const u of users) for (const r of roles) {
          const c = `${u}:${r}:${t}${levels[0]}`;
          if (computeAccess(p, { scontext: c, tcontext: c, tclass: classes[0]!.name, perms: [[...classes[0]!.perms.keys(), ...(classes[0]!.common?.perms.keys() ?? [])][0]!] }).ok) return [`${u}:${r}:${t}`];
        }
        return [];
      });
      const qs: AccessRequest[] = [];
      let n = 0;
      for (const s of sources) for (const t of types) for (const cls of classes) {
        const perms = [...(cls.common?.perms.keys() ?? []), ...cls.perms.keys()];
        if (perms.length === 0) continue;
        qs.push({ scontext: `${s}${levels[n % levels.length]}`, tcontext: `${users[n % users.length]}:object_r:${t}${levels[(n + 1) % levels.length]}`, tclass: cls.name, perms: perms.filter((_, i) => i % 2 === n % 2).slice(0, 4) });
        n++;
      }
      for (const scopeType of sources.map((s) => s.split(':')[2]!).slice(0, 6)) {
        const scope = { sourceTypes: [scopeType], classes: classes.filter((_, i) => i % 2 === 0).map((c) => c.name) };
        const proj = throughStore(bytes, p, scope);
        const t = compare(p, proj, qs.filter((q) => q.perms.length > 0), booleanSettings(p));
        seen.allowed += t.allowed;
        seen.denied += t.denied;
        seen.local += t.local;
      }
    }
    expect(seen.allowed).toBeGreaterThan(0);
    expect(seen.denied).toBeGreaterThan(0);
    expect(seen.local).toBeGreaterThan(0);
  }, 240_000);

  it('a damaged, truncated, foreign or mismatched entry is a miss, never an answer', () => {
    const bytes = readFileSync(compilePolicy({ conf: 'conditionals', version: 33, mls: false, handleUnknown: 'deny' }));
    const full = loadPolicy(bytes);
    if (!full.ok) throw new Error(full.error.message);
    const scope = { sourceTypes: full.value.types.byValue.filter((t) => t && !t.isAttribute).map((t) => t!.name).slice(0, 1), classes: [...HOOK_CLASSES] };
    const entry = encodeEntry(projectionKey, bytes, projectPolicy(full.value, scope));
    const whole = Buffer.concat(entry);
    const missWith = (stored: Uint8Array, key = KEY, policyBytes: Uint8Array = bytes) =>
      readProjection({ store: { read: (n) => (n === projectionEntryName() ? stored : undefined), write: () => false }, key }, policyBytes) === undefined;

    expect(missWith(whole)).toBe(false);
    expect(missWith(whole.subarray(0, whole.length - 1))).toBe(true);
    expect(missWith(whole.subarray(0, 30))).toBe(true);
    expect(missWith(new Uint8Array(0))).toBe(true);
    for (const at of [0, 9, 13, 17, 21, 30, whole.length - 200, whole.length - 1]) {
      const flipped = Buffer.from(whole);
      flipped[at] = flipped[at]! ^ 0x41;
      expect(missWith(flipped), `byte ${at} flipped`).toBe(true);
    }
    // Another build's key, the whole model's key, the projection under the model's entry name.
    expect(missWith(whole, 'another build')).toBe(true);
    expect(missWith(Buffer.concat(encodeEntry(KEY, bytes, projectPolicy(full.value, scope))))).toBe(true);
    // Other policy bytes of the same length and name slot cannot take this entry.
    const other = Buffer.from(bytes);
    other[other.length - 20] = other[other.length - 20]! ^ 0xff;
    expect(readProjection({ store: { read: () => whole, write: () => false }, key: KEY }, other)).toBeUndefined();
    // A foreign payload with a correct header and CRC: the whole model, another format, junk.
    expect(missWith(Buffer.concat(encodeEntry(projectionKey, bytes, full.value)))).toBe(true);
    expect(missWith(Buffer.concat(encodeEntry(projectionKey, bytes, { ...projectPolicy(full.value, scope), format: PROJECTION_FORMAT + 1 })))).toBe(true);
    // The format before genfscon was kept apart (its genfs a list, not a payload of its own).
    expect(missWith(Buffer.concat(encodeEntry(projectionKey, bytes, { ...projectPolicy(full.value, scope), format: 1, genfs: full.value.genfs })))).toBe(true);
    expect(missWith(Buffer.concat(encodeEntry(projectionKey, bytes, { format: 1 })))).toBe(true);
    const p = projectPolicy(full.value, scope);
    expect(missWith(Buffer.concat(encodeEntry(projectionKey, bytes, { ...p, types: { ...p.types, ends: p.types.ends.subarray(1) } })))).toBe(true);
  });

  it.skipIf(!root)('the streamed read takes the payload only for a policy file equal byte for byte', () => {
    const bytes = readFileSync(compilePolicy({ conf: 'mls', version: 33, mls: true, handleUnknown: 'deny' }));
    const full = loadPolicy(bytes);
    if (!full.ok) throw new Error(full.error.message);
    const dir = storeDir();
    throughStore(bytes, full.value, { sourceTypes: ['t1'], classes: [...HOOK_CLASSES] }, dir);
    // A scratch directory removed after the test, as store directories are (storeDir's parent).
    const files = dirname(storeDir());
    const streamed = (policy: Uint8Array, key = projectionKey) => {
      const f = join(files, `p${Math.random()}`);
      writeFileSync(f, policy);
      return openReadOnlyStore(dir).readAgainst!(projectionEntryName(), f, entryHeadLength(key), (h) => entryLayout(key, h));
    };
    expect(streamed(bytes)).toBeDefined();
    const flipped = Buffer.from(bytes);
    flipped[bytes.length >> 1] = flipped[bytes.length >> 1]! ^ 1;
    const last = Buffer.from(bytes);
    last[bytes.length - 1] = last[bytes.length - 1]! ^ 1;
    for (const other of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])]), flipped, last, new Uint8Array(0)]) {
      expect(streamed(other)).toBeUndefined();
    }
    expect(streamed(bytes, `${KEY} other`)).toBeUndefined();
    expect(openReadOnlyStore(dir).readAgainst!(projectionEntryName(), join(files, 'missing'), entryHeadLength(projectionKey), (h) => entryLayout(projectionKey, h))).toBeUndefined();
  });

  it.skipIf(!root || debian.length === 0)('the hook\'s loader: projection on a hit, the whole read on a miss, the same answers', () => {
    const path = debian[0]!;
    const bytes = readFileSync(path);
    const full = loadPolicy(bytes);
    if (!full.ok) throw new Error(full.error.message);
    const dir = storeDir();
    const opts = { policy: path, booleans: {} } as unknown as HostOptions;
    const view = createLiveView();
    const miss = hookPolicyLoader(reader(dir))(view, opts);
    throughStore(bytes, full.value, { sourceTypes: ['svirt_t', 'svirt_tcg_t'], classes: [...HOOK_CLASSES] }, dir);
    const hit = hookPolicyLoader(reader(dir))(view, opts);
    const none = hookPolicyLoader(undefined)(view, opts);
    if (!miss.ok || !hit.ok || !none.ok) throw new Error('a loader failed');
    expect(hit.value.mls).toBe(none.value.mls);
    expect(hit.value.source).toBe(path);
    for (const t of ['svirt_image_t', 'virt_image_t', 'default_t', 'etc_t', 'no_such_t']) {
      for (const [tclass, perms] of QEMU_ASKS) {
        const q = { scontext: `system_u:system_r:svirt_t${full.value.mls ? ':s0:c1,c2' : ':s0:c1,c2'}`, tcontext: `system_u:object_r:${t}:s0`, tclass, perms };
        expect(hit.value.oracle.compute(q)).toEqual(none.value.oracle.compute(q));
        expect(miss.value.oracle.compute(q)).toEqual(none.value.oracle.compute(q));
      }
    }
    expect(hit.value.oracle.typeExists('svirt_tcg_t')).toBe(none.value.oracle.typeExists('svirt_tcg_t'));
    // genfscon, read from the projection on first use: every filesystem type the policy names, and one it does not.
    for (const fsType of [...full.value.genfs.map((g) => g.fstype), 'no_such_fs']) expect(hit.value.oracle.genfsContext!(fsType)).toBe(none.value.oracle.genfsContext!(fsType));
    expect(hit.value.oracle.genfsContext!('nfs')).toMatch(/:nfs_t:/);
    expect(hit.value.oracle.booleans()).toEqual(none.value.oracle.booleans());
  }, 120_000);

  it.skipIf(debian.length === 0)('genfscon rules that do not read back: the whole policy answers, never an empty list', () => {
    const path = debian[0]!;
    const full = loadPolicy(readFileSync(path));
    if (!full.ok) throw new Error(full.error.message);
    const whole = policyOracle(full.value);
    const stored = projectPolicy(full.value, { sourceTypes: ['svirt_t'], classes: [...HOOK_CLASSES] });
    for (const genfs of [new Uint8Array([1, 2, 3]), Buffer.concat(encodeFlat([{ fstype: 'nfs', entries: [{ path: '/', sclass: 0, context: 'not a context' }] }]))]) {
      const proj = openProjection({ ...stored, genfs });
      expect(proj.genfs()).toBeUndefined();
      let asked = 0;
      const oracle = projectedOracle(proj, {}, () => (asked++, whole));
      expect(oracle.genfsContext!('nfs')).toBe(whole.genfsContext!('nfs'));
      expect(oracle.genfsContext!('nfs')).toMatch(/:nfs_t:/);
      expect(asked).toBe(1);
    }
  }, 120_000);
});
