// Child process of policy-fuzz.test.ts. Plain JavaScript over the built dist/ because it runs under its
// own `node --max-old-space-size=…` (the heap bound under test) and vitest cannot host that.
//
// argv[2] is a JSON plan: { policies: [{ path, truncate, flip, inflate }], seed, skip, selftest? }.
// For each policy it loads the original once with ByteReader.u32 instrumented (to learn where the u32
// counts and lengths are), then loads each mutant and prints one line before and one after:
//   S <index> <description>
//   E <index> <status> <ms> <rssMB> <arrayBuffersMB>
// The parent kills this process when an S has no E in time (a hang) and restarts it at skip = index + 1;
// the mutant sequence depends only on the seed, so a restart continues exactly where it stopped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const plan = JSON.parse(process.argv[2]);
const dist = join(import.meta.dirname, '../../dist');
const { loadPolicy } = await import(join(dist, 'selinux/policy/load.js'));
const { ByteReader } = await import(join(dist, 'selinux/policy/reader.js'));
const { computeAccess } = await import(join(dist, 'selinux/access.js'));

const out = (line) => process.stdout.write(`${line}\n`);

if (plan.selftest === 'hang') {
  out('S 0 selftest hang');
  for (;;);
}
if (plan.selftest === 'allocate') {
  out('S 0 selftest allocate');
  const hog = [];
  for (;;) hog.push(new Array(1e6).fill(Math.random()));
}

function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

/** Every u32 the reader takes from the original file: offset, label, section. */
function u32Reads(bytes) {
  const reads = [];
  const original = ByteReader.prototype.u32;
  ByteReader.prototype.u32 = function (what) {
    reads.push({ at: this.offset, what: what ?? 'u32', section: this.section });
    return original.call(this, what);
  };
  try {
    const p = loadPolicy(bytes);
    if (!p.ok) throw new Error(`the original policy does not load: ${p.error.message}`);
    return { reads, policy: p.value };
  } finally {
    ByteReader.prototype.u32 = original;
  }
}

/** A few questions a caller would ask, built from names the original policy has. */
function queriesFor(policy) {
  const names = (t) => t.byValue.filter((d) => d !== undefined);
  const types = names(policy.types).filter((t) => !t.isAttribute).map((t) => t.name);
  const pickType = (want, i) => (types.includes(want) ? want : types[i % types.length]);
  const user = names(policy.users)[0]?.name ?? 'system_u';
  const role = names(policy.roles).find((r) => r.name !== 'object_r')?.name ?? 'object_r';
  const level = policy.mls ? ':s0' : '';
  const cls = policy.classes.byName.has('file') ? 'file' : names(policy.classes)[0]?.name ?? 'file';
  const perms = ['read', 'write', 'open', 'getattr'];
  const q = (s, t, c, p) => ({ scontext: `${user}:${role}:${s}${level}`, tcontext: `${user}:object_r:${t}${level}`, tclass: c, perms: p });
  return [
    q(pickType('svirt_t', 0), pickType('public_content_t', 1), cls, perms.slice(0, 1)),
    q(pickType('svirt_t', 2), pickType('svirt_image_t', 3), cls, perms),
    q(pickType('vm_t', 4), pickType('image_t', 5), 'dir', ['search']),
    q(types[0], types[types.length - 1], cls, ['read']),
  ];
}

const HUGE = [0xffffffff, 0x80000000, 0x7fffffff, 0x10000000, 0x01000000, 0x00ffffff, 0x10000];

function* mutants(bytes, reads, p, r) {
  const counts = reads.filter((x) => /count|length|nel|len\b|number/i.test(x.what));
  const boundaries = reads.filter((x, i) => i === 0 || reads[i - 1].section !== x.section).map((x) => x.at);
  for (let i = 0; i < p.truncate; i++) {
    const base = i % 3 === 0 ? r.pick(boundaries) : i % 3 === 1 ? r.pick(counts).at : r.int(bytes.length);
    const at = Math.max(0, Math.min(bytes.length - 1, base + r.int(9) - 4));
    yield { desc: `truncate at ${at} of ${bytes.length}`, bytes: bytes.subarray(0, at) };
  }
  for (let i = 0; i < p.flip; i++) {
    const c = Uint8Array.from(bytes);
    const flips = [];
    for (let k = 1 + r.int(4); k > 0; k--) {
      const at = r.int(c.length);
      const bit = r.int(8);
      c[at] ^= 1 << bit;
      flips.push(`${at}.${bit}`);
    }
    yield { desc: `flip bits ${flips.join(',')}`, bytes: c };
  }
  for (let i = 0; i < p.inflate; i++) {
    const x = i % 4 === 3 ? r.pick(reads) : r.pick(counts);
    const c = Uint8Array.from(bytes);
    const dv = new DataView(c.buffer);
    const old = dv.getUint32(x.at, true);
    const v = r.pick([...HUGE, old + 1, old * 2 + 1, 0]) >>> 0;
    dv.setUint32(x.at, v, true);
    yield { desc: `set ${x.section}/${x.what} at ${x.at} from ${old} to ${v}`, bytes: c };
  }
}

let index = 0;
const r = rng(plan.seed);
for (const p of plan.policies) {
  const bytes = new Uint8Array(readFileSync(p.path));
  const { reads, policy } = u32Reads(bytes);
  const queries = queriesFor(policy);
  out(`P ${p.path} ${bytes.length} bytes, ${reads.length} u32 reads`);
  for (const m of mutants(bytes, reads, p, r)) {
    const i = index++;
    if (i < plan.skip) continue;
    out(`S ${i} ${p.path}: ${m.desc}`);
    const t0 = performance.now();
    let status;
    try {
      const loaded = loadPolicy(m.bytes);
      if (!loaded.ok) status = loaded.error.section === 'reader' ? `internal:${loaded.error.message}` : `refused:${loaded.error.section}`;
      else {
        let inconsistent;
        for (const q of queries) {
          const a = JSON.stringify(computeAccess(loaded.value, q));
          const b = JSON.stringify(computeAccess(loaded.value, q));
          if (a !== b) inconsistent = `${q.scontext} ${q.tcontext}`;
        }
        status = inconsistent ? `inconsistent:${inconsistent}` : 'loaded';
      }
    } catch (e) {
      status = `threw:${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    }
    const mem = process.memoryUsage();
    out(`E ${i} ${status.replace(/\s+/g, '_')} ${(performance.now() - t0).toFixed(1)} ${(mem.rss / 1048576).toFixed(0)} ${(mem.arrayBuffers / 1048576).toFixed(0)}`);
  }
}
out('DONE');
