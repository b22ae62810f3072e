/**
 * The hook's policy store (src/app/hook-policy-store.ts, issue 21 item 4): `hook install` stores the parsed
 * model as root, the hook only reads it, for byte-identical policy bytes only. The hook must answer exactly
 * as the full read does: the same model (deep equality), the same answers for many contexts, labels,
 * classes, permissions and booleans on Debian's real policies and on checkpolicy-built edge policies, and
 * the same refusal for a corrupt or truncated policy. A store the hook cannot trust (not root's, writable
 * by others, a symlink, damaged, another build's) is a miss, never an answer.
 */
import { chmodSync, chownSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KEY, debian, reader, root, useStoreDirs, writer } from './hook-store-fixture.js';
import { openReadOnlyStore } from '../../src/adapters/live/policy-cache-dir.js';
import { applyHookPolicyStore, planHookPolicyStore } from '../../src/app/hook-policy-store.js';
import { computeAccess, type AccessRequest } from '../../src/selinux/access.js';
import { cacheEntryName, cacheSupported } from '../../src/selinux/policy/cache-entry.js';
import { loadPolicyCached } from '../../src/selinux/policy/cached-load.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import type { Policy } from '../../src/selinux/policy/model.js';
import { DIR_SEARCH_PERMS, LINK_FOLLOW_PERMS, READ_PERMS, READ_WRITE_PERMS } from '../../src/selinux/qemu-perms.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { allVariants, compilePolicy, variantName } from './differential/compile.js';

/** A store directory as `hook install` leaves it: root's, 0700, filled through openCacheDir. */
const storeDir = useStoreDirs('hook-policy-store-');

/** Fills the store for `bytes` and returns the model the hook gets back from it (or undefined on a miss). */
function throughStore(bytes: Uint8Array, dir = storeDir()): { dir: string; fromStore: Policy | undefined } {
  const filled = loadPolicyCached(bytes, writer(dir));
  expect(filled.ok).toBe(true);
  if (!openReadOnlyStore(dir).read(cacheEntryName(bytes))) return { dir, fromStore: undefined };
  // The hook's own path: a read-only store whose write would be a defect.
  const hit = loadPolicyCached(bytes, { store: { read: (n) => openReadOnlyStore(dir).read(n), write: () => { throw new Error('the hook wrote'); } }, key: KEY });
  return { dir, fromStore: hit.ok ? hit.value : undefined };
}

function questions(policy: Policy, opts: { typeStep: number; maxUsers: number }): AccessRequest[] {
  const mls = policy.mls;
  const users = policy.users.byValue.filter((u) => u !== undefined).slice(0, opts.maxUsers).map((u) => u!.name);
  const roles = policy.roles.byValue.filter((r) => r !== undefined).map((r) => r!.name);
  const types = policy.types.byValue.filter((t) => t !== undefined && !t.isAttribute).map((t) => t!.name);
  const sampled = types.filter((_, i) => i % opts.typeStep === 0);
  const levels = mls ? [':s0', ':s0:c10,c20', ':s0-s0:c0.c1023'] : [''];
  const bools = policy.bools.byValue.filter((b) => b !== undefined).map((b) => b!);
  const boolSets: Record<string, boolean>[] = [{}, Object.fromEntries(bools.map((b) => [b.name, !b.defaultState])), Object.fromEntries(bools.filter((_, i) => i % 2 === 0).map((b) => [b.name, true]))];
  const allClasses: [string, readonly string[]][] = [
    ['file', READ_WRITE_PERMS], ['file', READ_PERMS], ['blk_file', READ_WRITE_PERMS], ['chr_file', READ_PERMS],
    ['dir', DIR_SEARCH_PERMS], ['lnk_file', LINK_FOLLOW_PERMS],
  ];
  const classes = allClasses.filter(([c]) => policy.classes.byName.has(c));
  const named = ['svirt_t', 'svirt_tcg_t', 'virtd_t', 'unconfined_t'].filter((t) => policy.types.byName.has(t));
  // Source contexts the policy accepts (a user, a role and a domain that go together), the named ones first;
  // a handful of invalid ones stay in, for the errors to be compared too.
  const candidates = [...named, ...types].flatMap((t) => users.flatMap((u) => roles.map((r) => `${u}:${r}:${t}`)));
  const valid = (c: string) => computeAccess(policy, { scontext: `${c}${levels[0]}`, tcontext: `${c}${levels[0]}`, tclass: classes[0]![0], perms: ['getattr'] }).ok;
  const sources: string[] = [];
  for (const c of candidates) {
    if (sources.length >= 16) break;
    if (valid(c) && !sources.some((x) => x.split(':')[2] === c.split(':')[2])) sources.push(c);
  }
  sources.push(...candidates.filter((c) => !valid(c)).slice(0, 2));
  const out: AccessRequest[] = [];
  let n = 0;
  for (const s of sources) {
    for (const t of sampled) {
      const [tclass, perms] = classes[n % classes.length]!;
      const user = users[n % users.length]!;
      out.push({
        scontext: `${s}${levels[n % levels.length]}`,
        tcontext: `${user}:object_r:${t}${levels[(n + 1) % levels.length]}`,
        tclass,
        perms,
        booleans: boolSets[n % boolSets.length],
      });
      n++;
    }
  }
  return out;
}

function expectSameAnswers(full: Policy, fromStore: Policy, qs: readonly AccessRequest[]): { allowed: number; denied: number; errors: number } {
  const tally = { allowed: 0, denied: 0, errors: 0 };
  for (const q of qs) {
    const a = computeAccess(full, q);
    const b = computeAccess(fromStore, q);
    if (!isDeepStrictEqual(a, b)) expect({ q, b }).toEqual({ q, b: a });
    if (!a.ok) tally.errors++;
    else if (a.allowed) tally.allowed++;
    else tally.denied++;
  }
  return tally;
}

describe.skipIf(!root || !cacheSupported())('the hook policy store answers as the full read', () => {
  it.each(debian)('%s: the same model and the same answers', (path) => {
    const bytes = readFileSync(path);
    const full = loadPolicy(bytes);
    if (!full.ok) throw new Error(full.error.message);
    const { fromStore } = throughStore(bytes);
    expect(fromStore).toBeDefined();
    expect(isDeepStrictEqual(fromStore, full.value)).toBe(true);
    const tally = expectSameAnswers(full.value, fromStore!, questions(full.value, { typeStep: 60, maxUsers: 4 }));
    // Both outcomes occur: a comparison that only ever saw denials (or errors) would prove little.
    expect(tally.allowed).toBeGreaterThan(20);
    expect(tally.denied).toBeGreaterThan(20);
  }, 120_000);

  it('checkpolicy-built edge policies (constraints, conditionals, bounds, xperms, MLS; versions 24..33)', () => {
    const seen = { allowed: 0, denied: 0 };
    for (const v of allVariants()) {
      const bytes = readFileSync(compilePolicy(v));
      const full = loadPolicy(bytes);
      if (!full.ok) throw new Error(`${variantName(v)}: ${full.error.message}`);
      const { fromStore } = throughStore(bytes);
      expect(isDeepStrictEqual(fromStore, full.value), variantName(v)).toBe(true);
      const t = expectSameAnswers(full.value, fromStore!, questions(full.value, { typeStep: 1, maxUsers: 3 }));
      seen.allowed += t.allowed;
      seen.denied += t.denied;
    }
    expect(seen.allowed).toBeGreaterThan(0);
    expect(seen.denied).toBeGreaterThan(0);
  }, 120_000);

  it('a truncated or corrupt policy is refused exactly as the full read refuses it, with an entry for the real one stored', () => {
    const bytes = readFileSync(compilePolicy({ conf: 'conditionals', version: 33, mls: false, handleUnknown: 'deny' }));
    const { dir } = throughStore(bytes);
    const damaged: Uint8Array[] = [bytes.subarray(0, bytes.length - 7), bytes.subarray(0, Math.floor(bytes.length / 2))];
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 20] = flipped[flipped.length - 20]! ^ 0xff;
    damaged.push(flipped);
    const grown = Buffer.concat([bytes, Buffer.from([0])]);
    damaged.push(grown);
    for (const d of damaged) {
      const a = loadPolicy(d);
      const b = loadPolicyCached(d, reader(dir));
      expect(b).toEqual(a);
    }
    expect(loadPolicy(bytes.subarray(0, bytes.length - 7)).ok).toBe(false);
  });

  it('an entry the hook cannot trust is a miss: another owner, writable by others, a symlink, damaged, another build', () => {
    const bytes = readFileSync(compilePolicy({ conf: 'mls', version: 33, mls: true, handleUnknown: 'deny' }));
    const name = cacheEntryName(bytes);
    const hit = (dir: string, key = KEY) => reader(dir, key).store.read(name) !== undefined && loadPolicyCached(bytes, { store: { read: (n) => reader(dir, key).store.read(n), write: () => { throw new Error('the hook wrote'); } }, key }).ok;
    const fresh = () => throughStore(bytes).dir;

    const good = fresh();
    expect(hit(good)).toBe(true);
    // The hook never writes: a miss does not store either (write throws above if called on a hit path).
    expect(openReadOnlyStore(good).write(name, [Buffer.from('x')])).toBe(false);

    const other = fresh();
    chownSync(join(other, name), 65534, 65534);
    expect(reader(other).store.read(name)).toBeUndefined();

    const groupWritable = fresh();
    chmodSync(join(groupWritable, name), 0o620);
    expect(reader(groupWritable).store.read(name)).toBeUndefined();

    const dirWritable = fresh();
    chmodSync(dirWritable, 0o777);
    expect(reader(dirWritable).store.read(name)).toBeUndefined();

    const linked = fresh();
    const real = join(linked, 'elsewhere.bin');
    writeFileSync(real, readFileSync(join(linked, name)), { mode: 0o600 });
    rmSync(join(linked, name));
    symlinkSync(real, join(linked, name));
    expect(reader(linked).store.read(name)).toBeUndefined();

    const damaged = fresh();
    const e = readFileSync(join(damaged, name));
    e[e.length - 3] = e[e.length - 3]! ^ 0x55; // inside the model: its CRC no longer matches
    writeFileSync(join(damaged, name), e, { mode: 0o600 });
    expect(reader(damaged).store.read(name)).toBeDefined();
    const decoded = loadPolicyCached(bytes, { store: openReadOnlyStore(damaged), key: KEY });
    expect(decoded).toEqual(loadPolicy(bytes)); // the full read's answer, not the damaged model
    expect(readdirSync(damaged)).toEqual([name]);

    const another = loadPolicyCached(bytes, { store: openReadOnlyStore(good), key: 'another build' });
    expect(another).toEqual(loadPolicy(bytes));
  });

  it('install plans the store from the host, stores it, then finds it present', () => {
    const view = createLiveView();
    const dir = storeDir();
    const plan = planHookPolicyStore(view, reader(dir));
    if (!plan.ok) {
      // A host with no SELinux policy at all: nothing to store, said so.
      expect(debian).toEqual([]);
      return;
    }
    expect(plan.value.present).toBe(false);
    expect(applyHookPolicyStore(plan.value, writer(dir), reader(dir))).toEqual({ ok: true, value: undefined });
    const again = planHookPolicyStore(view, reader(dir));
    expect(again.ok && again.value.present).toBe(true);
    expect(planHookPolicyStore(view, undefined).ok).toBe(false);
  }, 60_000);
});
