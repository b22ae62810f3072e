/**
 * The SELinux decision where SELinux really runs: Debian's own kernel with SELinux, booted under QEMU
 * with Debian's default policy loaded (scripts/selinux-guest/), a labelled tree on a tmpfs, and the
 * built CLI inside (guest/job.mjs). Checked here, on the host, from what the guest reports:
 * - live mode (no --policy: the kernel's policy and booleans) decides exactly as file mode;
 * - the kernel agrees: every disk annotated is allowed by security_compute_av for every process context
 *   libvirt could give the VM (several category pairs and a single category; the static label), on
 *   every directory, link and file QEMU's open touches; every "not accessible" is denied for one of them;
 * - real opens as the VM's context: an annotated disk draws no AVC denial, a refused one does;
 * - a boolean flipped in the running kernel changes the live decision, as --boolean changes file mode;
 * - `query` live equals `query --policy` over 3,000 generated questions;
 * - the kernel's canonical form of a category range is read right; a policy reload changes nothing.
 * A failing case prints the guest's console.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { bootGuest, REPO, type GuestRun } from './harness.js';

const skip = missingRequirements({ root: true, commands: ['qemu-system-x86_64', 'cpio', 'apt-get', 'dpkg-deb'], files: ['/usr/bin/busybox', '/etc/selinux/default/policy/policy.33'] });

interface ModelJson { action: string; accessible: boolean | null; reason: string }
interface Report { files: { disks: { target: string; source: string; models: { selinux: ModelJson } }[] }[] }
interface Explained { code: number; report: Report | null; stderr: string }
interface KernelCase { domain: string; target: string; mode: string; scon: string; allowed: boolean; answers: { path: string; cls: string; tcon: string | null; allowed: boolean | null | { error: string } }[] }
interface GuestOut {
  setLabels: { path: string; ctx: string; ok: boolean; err: string }[];
  domains: Record<string, { live: Explained; file: Explained }>;
  kernel: KernelCase[];
  opens: { target: string; path: string; scon: string; exits: number[]; denials: string[] }[];
  booleanFlip: { on: { live: Explained; file: Explained }; off: { live: Explained } };
  query: { count: number; liveCode: number; fileCode: number; liveErr: string; fileErr: string; live: string; file: string };
  edges: { canonicalLabel: string | null; afterReload: Explained };
  labels: { liveCode: number; fileCode: number; liveErr: string; same: boolean; checks: { type: string; use: string; class: string; levels: Record<string, boolean>; kernelNoCategories: boolean | null; kernelForeign: boolean | null }[] };
  hook: Record<'plain' | 'ownCategories' | 'foreignCategories', { code: number; stderr: string }>;
  facts: Record<string, { code: number; stderr: string; snapshot: string; xml: string }>;
}

const selinuxOf = (e: Explained) => {
  expect(e.code, e.stderr).toBe(0);
  return new Map(e.report!.files[0]!.disks.map((d) => [d.target, { source: d.source, ...d.models.selinux }]));
};

describe.skipIf(skip !== undefined)('live mode against a real SELinux kernel (Debian default policy, permissive)', () => {
  let run: GuestRun;
  let out: GuestOut;
  const withConsole = (what: string) => `${what}\n--- guest stderr ---\n${run.stderr.slice(-4000)}\n--- guest console (tail) ---\n${run.console.slice(-6000)}`;

  beforeAll(async () => {
    run = await bootGuest({ policy: '/etc/selinux/default/policy/policy.33', job: `${REPO}/test/selinux-kernel/guest/job.sh` });
    try {
      out = JSON.parse(run.stdout) as GuestOut;
    } catch {
      throw new Error(`the guest job printed no JSON:\n${run.stdout.slice(0, 2000)}\n${run.stderr.slice(-4000)}`);
    }
    console.log(`selinux guest: ${run.seconds.toFixed(0)} s for boot, tree, ${Object.keys(out.domains).length} domains × live/file, ${out.kernel.length} kernel access cases, ${out.opens.length} real opens, ${out.query.count} queries`);
  }, 1_200_000);

  it('the labelled tree was made by the kernel (only the type the policy lacks may be refused)', () => {
    const failed = out.setLabels.filter((l) => !l.ok);
    expect(failed.map((l) => l.ctx).filter((c) => !c.includes('no_such_type_t')), withConsole('setfattr failed')).toEqual([]);
  });

  it('live mode decides exactly as file mode with the same policy and booleans, for every domain kind', () => {
    for (const [name, d] of Object.entries(out.domains)) {
      const live = selinuxOf(d.live);
      const file = selinuxOf(d.file);
      expect([...live.entries()], withConsole(`domain ${name}`)).toEqual([...file.entries()]);
      expect(live.size).toBeGreaterThan(15);
    }
  });

  it('the kernel agrees with every decision: annotated = allowed for every context libvirt could give, refused = denied for one', () => {
    const counts = { annotate: 0, refused: 0, noClaim: 0 };
    for (const [name, d] of Object.entries(out.domains)) {
      for (const [target, m] of selinuxOf(d.live)) {
        const cases = out.kernel.filter((k) => k.domain === name && k.target === target);
        expect(cases.length, `${name} ${target}`).toBeGreaterThan(0);
        const why = withConsole(`${name} ${target} ${m.source}: tool says ${m.action} (${m.reason}); kernel: ${JSON.stringify(cases.map((c) => [c.scon, c.allowed, c.answers.filter((a) => a.allowed !== true)]))}`);
        if (m.action === 'annotate') {
          counts.annotate++;
          expect(cases.every((c) => c.allowed), why).toBe(true);
        } else if (m.accessible === false) {
          counts.refused++;
          expect(cases.some((c) => !c.allowed), why).toBe(true);
        } else counts.noClaim++;
      }
    }
    console.log(`selinux guest kernel agreement: ${counts.annotate} annotated (allowed for every context), ${counts.refused} refused (denied for some context), ${counts.noClaim} without a claim (exclusive disks, unknown)`);
    expect(counts.annotate).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(10);
  });

  it('real opens as the VM context: an annotated disk draws no AVC denial, a refused one draws one', () => {
    const dynamic = selinuxOf(out.domains.dynamic!.live);
    let checked = 0;
    for (const o of out.opens) {
      const m = dynamic.get(o.target)!;
      if (m.action === 'annotate') expect(o.denials, withConsole(`${o.path} annotated but denied`)).toEqual([]);
      else if (m.accessible === false) expect(o.denials.length, withConsole(`${o.path} refused (${m.reason}) but opened without a denial`)).toBeGreaterThan(0);
      else continue;
      checked++;
    }
    expect(checked).toBeGreaterThan(8);
  });

  it('a boolean flipped in the running kernel changes the live decision, as --boolean does in file mode', () => {
    const on = selinuxOf(out.booleanFlip.on.live);
    expect([...on.entries()]).toEqual([...selinuxOf(out.booleanFlip.on.file).entries()]);
    const nfs = [...on.values()].find((m) => m.source.endsWith('/nfs.iso'))!;
    const nfsOff = [...selinuxOf(out.booleanFlip.off.live).values()].find((m) => m.source.endsWith('/nfs.iso'))!;
    expect(nfs.action).toBe('annotate');
    expect(nfsOff.action).toBe('keep');
  });

  it('query without --policy answers as query --policy over 3,000 generated questions', () => {
    expect(out.query.liveCode, out.query.liveErr).toBe(0);
    expect(out.query.fileCode, out.query.fileErr).toBe(0);
    const live = out.query.live.trim().split('\n');
    const file = out.query.file.trim().split('\n');
    expect(live).toHaveLength(out.query.count);
    // The verdicts must be equal; the reasons differ by design: the kernel's access interface gives a
    // verdict without the rule behind it, so live mode says "denied by the running kernel's policy".
    const verdict = (l: string) => {
      const a = JSON.parse(l) as { allowed: boolean | null; denied?: string[]; error?: string };
      return { allowed: a.allowed, denied: a.denied, error: a.error };
    };
    let same = 0;
    let sameReason = 0;
    live.forEach((l, i) => {
      if (JSON.stringify(verdict(l)) === JSON.stringify(verdict(file[i]!))) same++;
      if (l === file[i]) sameReason++;
    });
    console.log(`selinux guest query: ${same}/${live.length} live verdicts equal the file mode's (${sameReason} with the same reason text)`);
    expect(same).toBe(live.length);
  });

  it('labels: the live list equals the file mode list, and the kernel allows every listed type under its MCS condition', () => {
    expect(out.labels.liveCode, out.labels.liveErr).toBe(0);
    expect(out.labels.fileCode).toBe(0);
    expect(out.labels.same).toBe(true);
    expect(out.labels.checks.length).toBeGreaterThan(50);
    const wrong = out.labels.checks.filter((c) => c.kernelNoCategories !== c.levels['no-categories'] || c.kernelForeign !== c.levels.foreign);
    console.log(`selinux guest labels: ${out.labels.checks.length - wrong.length}/${out.labels.checks.length} listed (type, use, class) agree with the kernel at no categories and at a foreign category`);
    expect(wrong).toEqual([]);
  });

  it('the start-time hook at start begin judges with the label libvirt generated', () => {
    expect(out.hook.plain.code, out.hook.plain.stderr).toBe(0);
    expect(out.hook.ownCategories.code, out.hook.ownCategories.stderr).toBe(0);
    // Exit 10 is the hook's refusal (libvirt then refuses the start with its line).
    expect(out.hook.foreignCategories.code, out.hook.foreignCategories.stderr).toBe(10);
    expect(out.hook.foreignCategories.stderr).toMatch(/^virt-seclabel: vsl-hook: disk hdc \(\/srv\/vsl\/pub-cats\.iso\)/m);
  });

  it('a facts snapshot taken in the guest, replayed on this host with --facts, gives the live decisions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsl-guest-facts-'));
    try {
      for (const [name, f] of Object.entries(out.facts)) {
        expect(f.code, f.stderr).toBe(0);
        // The same path as in the guest, so the snapshot's answers are found; the domain as written there.
        writeFileSync(join(dir, `${name}.json`), f.snapshot);
        const xml = join(dir, `${name}.xml`);
        writeFileSync(xml, f.xml);
        const r = spawnSync(process.execPath, [join(REPO, 'dist/cli/main.js'), 'explain', '--json', '--facts', join(dir, `${name}.json`), xml], { encoding: 'utf8' });
        const replayed = selinuxOf({ code: r.status ?? -1, report: r.status === 0 ? (JSON.parse(r.stdout) as Report) : null, stderr: r.stderr });
        expect([...replayed.entries()], `${name}: ${r.stderr}`).toEqual([...selinuxOf(out.domains[name]!.live).entries()]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the kernel's canonical category range, and a policy reload while running changes no decision", () => {
    expect(out.edges.canonicalLabel).toBe('system_u:object_r:public_content_t:s0:c1.c3');
    expect([...selinuxOf(out.edges.afterReload).entries()]).toEqual([...selinuxOf(out.domains.dynamic!.live).entries()]);
  });
});
