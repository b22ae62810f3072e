/**
 * Every option of every command, as a person types it: before the files and after them, as
 * `--opt value` and as `--opt=value`. The options come from each command's own `--help` (the yargs
 * definitions), so a new option without a sample value here fails the test instead of going untested.
 * The four placements must give the same exit code, stdout and stderr: an option that swallowed the
 * file would read standard input instead, or report the file as its value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, REPO } from '../hardening/support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vsl-optpos-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const domain = join(REPO, 'samples/demo/live-demo.xml');
const qemuConf = join(dir, 'qemu.conf');
writeFileSync(qemuConf, 'user = "root"\n');

/** A value each option accepts; facts --output is per placement so the runs do not share a file. */
const SAMPLES: Record<string, (placement: number) => string> = {
  connect: () => 'qemu:///system',
  'qemu-conf': () => qemuConf,
  user: () => 'root',
  group: () => 'root',
  models: () => 'dac',
  policy: () => '/etc/selinux/default/policy/policy.33',
  boolean: () => 'virt_use_nfs=on',
  facts: () => join(REPO, 'samples/demo/host.json'),
  path: () => join(REPO, 'samples/demo'),
  output: (p) => join(dir, `facts-${p}.json`),
  scontext: () => 'system_u:system_r:svirt_t:s0:c1,c2',
  tcontext: () => 'system_u:object_r:public_content_t:s0',
  tclass: () => 'file',
  perms: () => 'read,open',
  color: () => 'never',
  context: () => 'system_u:system_r:svirt_t:s0:c1,c2',
  check: () => 'system_u:object_r:public_content_t:s0',
  // With a FILE, --domain is the same usage error wherever it stands.
  domain: () => 'i12-no-such-domain',
  // doctor: an empty state directory (no running domain), and the --apply values (unused without --apply).
  'state-dir': () => dir,
  owner: () => '0:0',
  label: () => 'system_u:object_r:virt_image_t:s0',
  // With a FILE (no --apply, no --domain), --expect-digest is the same usage error wherever it stands.
  'expect-digest': () => '0'.repeat(64),
};

/** The commands from the top-level --help, split by whether they take FILE arguments an option could swallow. */
async function commands(): Promise<{ withFiles: string[]; withoutFiles: string[] }> {
  const r = await runCli(['--help'], { timeoutMs: 60_000 });
  expect(r.code, decode(r.stderr)).toBe(0);
  const block = decode(r.stdout).split('\n\n').find((b) => b.startsWith('Commands:'))!;
  const withFiles: string[] = [];
  const withoutFiles: string[] = [];
  for (const m of block.matchAll(/^\s+virt-seclabel (\w+)( \[files\.\.\])?/gm)) {
    if (m[1] === 'completion') continue; // prints a script; its only argument is the shell name
    if (m[1] === 'hook') continue; // libvirt runs it with a fixed argv (NAME OPERATION SUB-OP EXTRA); not yet covered here
    (m[2] ? withFiles : withoutFiles).push(m[1]!);
  }
  return { withFiles, withoutFiles };
}

/** Options that are not about the files: help, version and the flags (a flag takes no value to swallow a file with). */
interface HelpOption {
  readonly name: string;
  readonly takesValue: boolean;
}

async function optionsOf(command: string): Promise<HelpOption[]> {
  const r = await runCli([command, '--help'], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  const text = Buffer.from(r.stdout).toString('utf8');
  const options: HelpOption[] = [];
  // A yargs help row: `  -c, --connect   describe ...   [string] [default: ...]`; the type may sit on a continuation line.
  const rows = text.split('\n\n').find((block) => block.startsWith('Options:'))!.split('\n').slice(1);
  let current: { name: string; text: string } | undefined;
  const flush = () => {
    if (current && current.name !== 'help' && current.name !== 'version') {
      options.push({ name: current.name, takesValue: !/\[boolean\]/.test(current.text) });
    }
  };
  for (const row of rows) {
    // An option row starts in the first columns; a wrapped description (which may begin with `--connect`) is indented further.
    const m = /^ {1,8}(?:-\w, )?--([\w-]+)/.exec(row);
    if (m) {
      flush();
      current = { name: m[1]!, text: row };
    } else if (current) current = { ...current, text: current.text + row };
  }
  flush();
  return options;
}

const decode = (b: Uint8Array | string) => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'));
/** facts records when it ran and where its output went; neither says anything about option parsing. */
/** doctor's boot stamp without utmp is now - /proc/uptime, which moves by a second between runs. */
const stable = (s: string) =>
  s
    .replace(/"collectedAt": "[^"]*"/g, '"collectedAt": ""')
    .replace(/facts-\d\.json/g, 'facts-N.json')
    .replace(/^boot stamp \d+ \(from \/proc\/uptime/m, 'boot stamp N (from /proc/uptime');

describe('the commands this test covers', () => {
  it('are every command of the top-level --help, so a new command is covered or fails here', async () => {
    expect(await commands()).toEqual({ withFiles: ['annotate', 'explain', 'facts', 'grant', 'doctor'], withoutFiles: ['query', 'labels'] });
  });
});

describe.each(['annotate', 'explain', 'facts', 'grant', 'doctor'])('%s: every option before and after the file, in both forms', (command) => {
  it('gives the same result in all four placements', async () => {
    const options = await optionsOf(command);
    expect(options.length).toBeGreaterThan(5);
    for (const opt of options.filter((o) => o.takesValue)) {
      const sample = SAMPLES[opt.name];
      expect(sample, `--${opt.name} has no sample value in this test: add one`).toBeDefined();
      const forms = [
        [`--${opt.name}`, sample!(0), domain],
        [`--${opt.name}=${sample!(1)}`, domain],
        [domain, `--${opt.name}`, sample!(2)],
        [domain, `--${opt.name}=${sample!(3)}`],
      ];
      const runs = await Promise.all(forms.map((args) => runCli([command, ...args], { timeoutMs: 60_000 })));
      const seen = runs.map((r) => ({ code: r.code, stdout: stable(decode(r.stdout)), stderr: stable(decode(r.stderr)) }));
      for (const s of seen.slice(1)) expect(s, `${command} --${opt.name}`).toEqual(seen[0]);
      // Not merely the same failure four times: the file was read as a file.
      expect(seen[0]!.stderr, `${command} --${opt.name}`).not.toMatch(/expected NAME=on\|off|<stdin>/);
    }
  });
});

describe('single-value options given twice', () => {
  it.each(['annotate', 'explain', 'facts', 'grant', 'doctor', 'query', 'labels'])('%s refuses each of them, naming it', async (command) => {
    for (const opt of (await optionsOf(command)).filter((o) => o.takesValue && o.name !== 'boolean' && o.name !== 'path' && o.name !== 'domain')) {
      const v = SAMPLES[opt.name]!(0);
      const files = command === 'query' || command === 'labels' ? [] : [domain];
      const r = await runCli([command, `--${opt.name}`, v, `--${opt.name}=${v}`, ...files], { timeoutMs: 60_000 });
      expect({ code: r.code, err: decode(r.stderr) }, command).toEqual({ code: 2, err: `virt-seclabel: --${opt.name} given more than once\n` });
      expect(decode(r.stdout)).toBe('');
    }
  });
});

describe('repeatable options', () => {
  it('collect every occurrence, in both forms, around the files', async () => {
    const r = await runCli(
      ['query', '--policy', SAMPLES.policy!(0), '--boolean', 'virt_use_nfs=on', '--boolean=virt_use_usb=on', '-s', SAMPLES.scontext!(0), '-t', 'system_u:object_r:nfs_t:s0', '-c', 'file', '-p', 'read,open'],
      { timeoutMs: 60_000 },
    );
    expect(decode(r.stdout)).toMatch(/^allowed/);
    const off = await runCli(
      ['query', '--policy', SAMPLES.policy!(0), '--boolean', 'virt_use_usb=on', '-s', SAMPLES.scontext!(0), '-t', 'system_u:object_r:nfs_t:s0', '-c', 'file', '-p', 'read,open'],
      { timeoutMs: 60_000 },
    );
    expect(decode(off.stdout)).toMatch(/^denied/);
  });

  // Commands without FILE arguments have nothing to swallow; both value forms must still mean the same.
  it.each([
    ['query', /^allowed/],
    ['labels', /^system_u:object_r:public_content_t:s0 for system_u:system_r:svirt_t:s0:c1,c2/],
  ] as const)('%s: both value forms of every option give the same answer', async (command, expected) => {
    const options = (await optionsOf(command)).filter((o) => o.takesValue);
    for (const o of options) expect(SAMPLES[o.name], `${command} --${o.name} has no sample value in this test: add one`).toBeDefined();
    const args = (joined: string) => options.flatMap((o) => (o.name === joined ? [`--${o.name}=${SAMPLES[o.name]!(0)}`] : [`--${o.name}`, SAMPLES[o.name]!(0)]));
    const reference = await runCli([command, ...args('')], { timeoutMs: 60_000 });
    expect(decode(reference.stdout), decode(reference.stderr)).toMatch(expected);
    for (const o of options) {
      const r = await runCli([command, ...args(o.name)], { timeoutMs: 60_000 });
      expect({ code: r.code, out: decode(r.stdout), err: decode(r.stderr) }, `${command} --${o.name}=`).toEqual({ code: reference.code, out: decode(reference.stdout), err: decode(reference.stderr) });
    }
  });
});
