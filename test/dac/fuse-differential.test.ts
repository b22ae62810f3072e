/**
 * The DAC engine on FUSE, where the local model is not the kernel's last word and the engine asks the
 * kernel as QEMU's identity (adapters/live/kernel-probe.ts): the random scenarios of the kernel
 * differential, built once on a tmpfs and seen through several FUSE mounts (bindfs mirroring modes,
 * rewriting them with --perms, forcing the owner, --mirror, without allow_other; and a daemon that
 * decides by its own rule without default_permissions, test/dac/support/deciding-fuse.py), every path
 * opened by an unprivileged helper per identity (setpriv, open O_RDONLY/O_RDWR as QEMU does) and compared
 * with every decision the engine makes. A decision (a proof or a denial) must equal the kernel's open;
 * "unknown" is no decision (it leaves libvirt's default) and is counted apart, and on every mount kind
 * the engine must prove some opens and deny some.
 * Seed and size: DAC_FUSE_SEED, DAC_FUSE_SCENARIOS (default 100).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDacAccess, DacHostFacts, type DacVerdict } from '../../src/dac/check.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { createKernelProbe } from '../../src/adapters/live/kernel-probe.js';
import { missingRequirements } from '../support/requirements.js';
import { buildScenarios, resolveRoot } from './support/build-tree.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import { rng } from './support/prng.js';
import { makeScratch, type Scratch } from './support/scratch-fs.js';
import { generateScenario, IDENTITIES, type Scenario } from './support/scenarios.js';

const SEED = Number(process.env.DAC_FUSE_SEED ?? 20261205);
const COUNT = Number(process.env.DAC_FUSE_SCENARIOS ?? 100);
const DAEMON = new URL('./support/deciding-fuse.py', import.meta.url).pathname;

const skip = missingRequirements({
  root: true,
  commands: ['setpriv', 'setfacl', 'bindfs', 'fusermount'],
  files: ['/usr/bin/python3', '/dev/fuse', '/usr/lib/python3/dist-packages/fusepy.py'],
});

interface MountKind {
  readonly name: string;
  readonly start: (source: string, mnt: string) => ChildProcess | undefined;
}

const bindfs = (...opts: string[]) => (source: string, mnt: string) => {
  const r = spawnSync('bindfs', [...opts, source, mnt], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bindfs ${opts.join(' ')}: ${r.stderr}`);
  return undefined;
};

const KINDS: readonly MountKind[] = [
  { name: 'bindfs (modes mirrored, default_permissions, allow_other)', start: bindfs() },
  { name: 'bindfs --perms=a+rD:go-w', start: bindfs('--perms=a+rD:go-w') },
  { name: 'bindfs --force-user=libvirt-qemu --force-group=kvm', start: bindfs('--force-user=64055', '--force-group=107') },
  { name: 'bindfs --mirror=libvirt-qemu', start: bindfs('--mirror=64055') },
  { name: 'bindfs --no-allow-other', start: bindfs('--no-allow-other') },
  {
    name: 'deciding daemon (no default_permissions, allow_other)',
    start: (source, mnt) => spawn('/usr/bin/python3', ['-I', DAEMON, source, mnt], { stdio: ['ignore', 'ignore', 'inherit'] }),
  },
  // Root is refused where QEMU's identity is not: the walk goes on as that identity (src/host/walk-as.ts).
  {
    name: 'deciding daemon squashing root to nobody (root refused where the directory is not world-searchable)',
    start: (source, mnt) => spawn('/usr/bin/python3', ['-I', DAEMON, '--squash-root', source, mnt], { stdio: ['ignore', 'ignore', 'inherit'] }),
  },
  {
    // Owned by uid 64055 gid 107 (libfuse takes user_id/group_id from the real ids; effective root only
    // opens /dev/fuse and mounts): without allow_other the kernel lets that identity alone in, root included out.
    name: 'bindfs --no-allow-other owned by 64055:107 (root cannot look up the mount)',
    start: (source, mnt) => {
      const r = spawnSync('setpriv', ['--ruid=64055', '--rgid=107', '--keep-groups', '--', 'bindfs', '--no-allow-other', source, mnt], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`bindfs as 64055: ${r.stderr}`);
      return undefined;
    },
  },
];

const engineClass = (v: DacVerdict) => (v.accessible === true ? 'ok' : v.accessible === false ? v.errno : 'unknown');

function mounted(mnt: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
}

describe.skipIf(skip !== undefined)('DAC engine on FUSE vs the kernel (setpriv opens as each identity)', () => {
  let scratch: Scratch | undefined;
  let base = '';
  let scenarios: Scenario[] = [];
  const mounts: { kind: MountKind; mnt: string; daemon?: ChildProcess }[] = [];

  beforeAll(async () => {
    scratch = makeScratch('virt-seclabel-fuse-src-');
    base = scratch.base;
    const r = rng(SEED);
    scenarios = Array.from({ length: COUNT }, (_, i) => generateScenario(r, i));
    buildScenarios(base, scenarios);
    for (const [i, kind] of KINDS.entries()) {
      const mnt = fs.mkdtempSync(`/tmp/virt-seclabel-fuse-${i}-`);
      fs.chmodSync(mnt, 0o755);
      const daemon = kind.start(base, mnt);
      mounts.push({ kind, mnt, ...(daemon ? { daemon } : {}) });
      for (let t = 0; !mounted(mnt); t++) {
        if (t > 200) throw new Error(`${kind.name} did not mount on ${mnt}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    }
  }, 120_000);

  afterAll(() => {
    for (const m of mounts) {
      spawnSync('fusermount', ['-u', '-z', m.mnt]);
      m.daemon?.kill();
      fs.rmSync(m.mnt, { recursive: true, force: true });
    }
    scratch?.cleanup();
  });

  it(`every decision on ${KINDS.length} kinds of FUSE mount equals the kernel's open as QEMU`, () => {
    const probe = createKernelProbe();
    const view = createLiveView(() => probe);
    const facts = new DacHostFacts(view);
    const lines: string[] = [];
    const mismatches: string[] = [];
    const why = new Map<string, number>();
    const counts: [string, { proofs: number; denials: number; asQemu: number }][] = [];
    const t = performance.now();
    for (const { kind, mnt } of mounts) {
      const all = scenarios.flatMap((s) => s.queries.map((q) => ({ s, q, path: resolveRoot(mnt, s, q.path) })));
      const kernel = new Map<(typeof all)[number], string>();
      const tk = performance.now();
      IDENTITIES.forEach((id, index) => {
        const mine = all.filter((x) => x.q.identity === index);
        const answers = kernelOpen(id, mine.map((x) => [x.path, x.q.want] as const));
        expect({ uid: answers.uid, capEff: answers.capEff }).toEqual({ uid: id.uid, capEff: '0000000000000000' });
        mine.forEach((x, i) => kernel.set(x, kernelClass(answers.results[i]!)));
      });
      const kernelMs = Math.round(performance.now() - tk);
      const te = performance.now();
      const count = { proofs: 0, denials: 0, unknown: 0, disagree: 0, kernelOk: 0, asQemu: 0 };
      for (const x of all) {
        const id = IDENTITIES[x.q.identity]!;
        const v = checkDacAccess(view, id, x.path, x.q.want, { facts });
        const mine = engineClass(v);
        if (v.rootRefused && mine !== 'unknown') count.asQemu++;
        const theirs = kernel.get(x)!;
        if (theirs === 'ok') count.kernelOk++;
        if (mine === 'unknown') {
          count.unknown++;
          if (process.env.DAC_FUSE_WHY && v.accessible === null) {
            const key = `${theirs} ${x.q.want} ${v.reason.replace(/^.*?(the kernel let|stopped earlier|whose permission|failed:|not a file|symlink|protected)/, '$1').slice(0, 60)}`;
            why.set(key, (why.get(key) ?? 0) + 1);
          }
        }
        else if (mine !== theirs) {
          count.disagree++;
          mismatches.push(`${kind.name}: ${JSON.stringify(x.path)} ${x.q.want} as ${JSON.stringify(id)}: kernel ${theirs}, engine ${mine}: ${v.accessible === true ? v.because : v.reason}`);
        } else if (mine === 'ok') count.proofs++;
        else count.denials++;
      }
      lines.push(
        `${kind.name}: ${all.length} opens, ${count.proofs + count.denials} decided and agreeing (${count.proofs} proven, ${count.denials} denied), ${count.unknown} unknown, ${count.disagree} disagree, ${count.asQemu} decided past a lookup root was refused; kernel allowed ${count.kernelOk}; kernel opens ${kernelMs} ms, engine ${Math.round(performance.now() - te)} ms`,
      );
      counts.push([kind.name, count]);
    }
    console.log(`fuse differential (seed ${SEED}, ${COUNT} scenarios, ${Math.round(performance.now() - t)} ms):\n  ${lines.join('\n  ')}`);
    if (why.size > 0) console.log([...why].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join('\n'));
    if (mismatches.length > 0) console.log(mismatches.slice(0, 10).join('\n'));
    expect(mismatches).toEqual([]);
    // Each mount kind must make the engine both prove and deny, or the suite proves less than it claims.
    for (const [name, c] of counts) {
      expect(c.proofs, name).toBeGreaterThan(0);
      expect(c.denials, name).toBeGreaterThan(0);
    }
    // Where root is refused, decisions rest on the walk as QEMU's identity, not only on unknowns.
    for (const [name, c] of counts.filter(([n]) => /squashing root|owned by 64055/.test(n))) expect(c.asQemu, name).toBeGreaterThan(0);
    probe.close();
  }, 600_000);
});
