/**
 * The qemu.d script itself, run by sh as libvirt runs it (LC_ALL=C and a bare PATH), with a fake
 * virt-seclabel (--binary) that records whether it was called, its arguments and the exact bytes it got
 * on stdin, and exits as told. What is checked is what libvirt sees: the exit code, stderr, and that a
 * domain with nothing to check never starts the binary, while anything that may carry relabel='no'
 * (whatever its quoting or spelling) does, with libvirt's bytes intact; nor for a phase whose model's name
 * is nowhere in the text. For every form the script skips, the real judge agrees that there is nothing
 * to check.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeDomainXml } from '../../src/hook/judge.js';
import { HOOK_REFUSE_EXIT, renderHookScript } from '../../src/hook/script.js';

const dir = mkdtempSync(join(tmpdir(), 'vsl-hook-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A fake virt-seclabel at an absolute path; the script installed with --binary pointing at it. */
function setUp(exit = 0, say = '') {
  const d = join(dir, `case-${++n}`);
  const tmp = join(d, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const bin = join(d, 'fake-virt-seclabel');
  writeFileSync(bin, `#!/bin/sh\nprintf '%s\\n' "$@" > '${d}/args'\ncat > '${d}/stdin'\n${say ? `echo '${say}' >&2\n` : ''}exit ${exit}\n`);
  chmodSync(bin, 0o755);
  const script = join(d, 'hook');
  writeFileSync(script, renderHookScript(bin));
  const run = (args: string[], input: string | Buffer, env: Record<string, string> = { TMPDIR: tmp }) => {
    const r = spawnSync('sh', [script, ...args], { input, env: { LC_ALL: 'C', PATH: '/bin:/usr/bin', ...env } });
    return {
      code: r.status,
      stderr: r.stderr.toString(),
      called: existsSync(join(d, 'args')),
      args: existsSync(join(d, 'args')) ? readFileSync(join(d, 'args'), 'utf8') : undefined,
      stdin: existsSync(join(d, 'stdin')) ? readFileSync(join(d, 'stdin')) : undefined,
      leftInTmp: readdirSync(tmp),
    };
  };
  return { run, bin, script };
}

const disk = (seclabel: string) => `<domain type='kvm'>
  <name>vm1</name>
  <devices>
    <disk type='file' device='cdrom'>
      <source file='/srv/iso/a.iso'>
        ${seclabel}
      </source>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
  </devices>
  <seclabel type='dynamic' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:s0:c1,c2</label></seclabel>
</domain>
`;

/** Forms with nothing the hook would judge: the script lets the start go on without the binary. */
const NOTHING = {
  'no seclabel at all': disk(''),
  "relabel='yes' (libvirt's own form)": disk("<seclabel model='dac' relabel='yes'/>"),
  'relabel="yes"': disk('<seclabel model="dac" relabel="yes"/>'),
};

/** Forms that carry, or may carry, relabel='no': the binary must run. */
const SOMETHING = {
  "relabel='no'": disk("<seclabel model='dac' relabel='no'/>"),
  'relabel="no"': disk('<seclabel model="dac" relabel="no"/>'),
  "relabel = 'no'": disk("<seclabel model='dac' relabel = 'no'/>"),
  "relabel split over lines": disk("<seclabel model='dac' relabel\n          =\n          'no'/>"),
  "relabel='&#110;o' (a character reference)": disk("<seclabel model='dac' relabel='&#110;o'/>"),
  "relabel='no' next to relabel='yes' on the same line": disk("<seclabel model='selinux' relabel='yes'/><seclabel model='dac' relabel='no'/>"),
  "the words relabel and dac in a description": disk('').replace('<devices>', '<description>relabel dac</description>\n  <devices>'),
  "relabel='yes\" (mismatched quotes)": disk(`<seclabel model='dac' relabel='yes"/>`),
  // libvirt formats its XML without spaces around '=': a spaced relabel='yes' is not its own, so the check runs.
  "relabel = 'yes' with spaces and a tab": disk("<seclabel model='dac' relabel =\t'yes'/>"),
};

describe('the script lets a start with nothing to check go on without starting virt-seclabel, silently', () => {
  for (const [what, xml] of Object.entries(NOTHING)) {
    it(what, () => {
      const s = setUp(HOOK_REFUSE_EXIT);
      for (const op of [['prepare', 'begin'], ['start', 'begin']]) {
        const r = s.run(['vm1', ...op, '-'], xml);
        expect(r).toMatchObject({ code: 0, stderr: '', called: false, leftInTmp: [] });
      }
      // The judge agrees: no disk for either phase, so no host is even looked at.
      for (const phase of ['prepare-begin', 'start-begin'] as const) {
        let opened = 0;
        const j = judgeDomainXml(Buffer.from(xml), phase, () => {
          opened++;
          throw new Error('no context expected');
        });
        expect(j.ok && j.value.checked).toBe(0);
        expect(opened).toBe(0);
      }
    });
  }
});

/** Without the domain-level SELinux seclabel: the XML of a host where SELinux is not active. */
const noSelinux = (xml: string) => xml.replace(/\n {2}<seclabel type='dynamic' model='selinux'.*<\/seclabel>/, '');

/** relabel='no' for a model the phase does not judge, whose name is nowhere else in the text. */
const OTHER_MODEL: Record<string, [string, 'prepare' | 'start']> = {
  "a DAC annotation at start begin, no 'selinux' anywhere": [noSelinux(disk("<seclabel model='dac' relabel='no'/>")), 'start'],
  "an SELinux annotation at prepare begin, no 'dac' anywhere": [disk("<seclabel model='selinux' relabel='no'/>"), 'prepare'],
};

/** The same, but the phase's model could be there: its name, or a character reference. */
const MAYBE_MODEL: Record<string, [string, 'prepare' | 'start']> = {
  "model='s&#101;linux' at start begin": [noSelinux(disk("<seclabel model='s&#101;linux' relabel='no'/>")), 'start'],
  "a DAC annotation at start begin where SELinux is active (its seclabel names selinux)": [disk("<seclabel model='dac' relabel='no'/>"), 'start'],
  "model='d&#97;c' at prepare begin": [disk("<seclabel model='d&#97;c' relabel='no'/>"), 'prepare'],
};

describe('nor when the phase\'s model is nowhere in the text', () => {
  for (const [what, [xml, op]] of Object.entries(OTHER_MODEL)) {
    it(what, () => {
      const s = setUp(HOOK_REFUSE_EXIT);
      expect(s.run(['vm1', op, 'begin', '-'], xml)).toMatchObject({ code: 0, stderr: '', called: false, leftInTmp: [] });
      const j = judgeDomainXml(Buffer.from(xml), `${op}-begin`, () => {
        throw new Error('no context expected');
      });
      expect(j.ok && j.value.checked).toBe(0);
    });
  }
  for (const [what, [xml, op]] of Object.entries(MAYBE_MODEL)) {
    it(`but runs the check for ${what}`, () => {
      const s = setUp(0);
      const r = s.run(['vm1', op, 'begin', '-'], xml);
      expect(r).toMatchObject({ code: 0, called: true, leftInTmp: [] });
      expect(r.stdin!.equals(Buffer.from(xml))).toBe(true);
    });
  }
});

describe('the script starts virt-seclabel for anything that may carry relabel=\'no\', with libvirt\'s bytes intact', () => {
  for (const [what, xml] of Object.entries(SOMETHING)) {
    it(what, () => {
      const s = setUp(0);
      const r = s.run(['vm1', 'prepare', 'begin', '-'], xml);
      expect(r).toMatchObject({ code: 0, stderr: '', called: true, leftInTmp: [] });
      expect(r.args).toBe('hook\n--\nvm1\nprepare\nbegin\n-\n');
      expect(r.stdin!.equals(Buffer.from(xml))).toBe(true);
    });
  }

  it('CRLF, no final newline, several final newlines and bytes that are not UTF-8 reach the binary byte for byte', () => {
    const s = setUp(0);
    const base = SOMETHING["relabel='no'"].replace(/\n/g, '\r\n').trimEnd();
    for (const tail of [[], [0xff, 0xfe], [10, 10, 10], [13, 10, 10]]) {
      const bytes = Buffer.concat([Buffer.from(base), Buffer.from(tail)]);
      const r = s.run(['vm1', 'start', 'begin', '-'], bytes);
      expect(r.called).toBe(true);
      expect(r.stdin!.equals(bytes)).toBe(true);
    }
  });

  it('a NUL byte, which libvirt never sends (its XML is a C string), is all a shell variable drops', () => {
    const s = setUp(0);
    const xml = SOMETHING["relabel='no'"];
    const r = s.run(['vm1', 'prepare', 'begin', '-'], Buffer.concat([Buffer.from(xml), Buffer.from([0])]));
    expect(r.called).toBe(true);
    expect(r.stdin!.equals(Buffer.from(xml))).toBe(true);
  });

  it('needs no temporary file: an unwritable TMPDIR changes nothing', () => {
    const s = setUp(0);
    const env = { TMPDIR: join(dir, 'no-such-dir') };
    expect(s.run(['vm1', 'prepare', 'begin', '-'], NOTHING['no seclabel at all'], env)).toMatchObject({ code: 0, called: false, stderr: '' });
    const xml = SOMETHING["relabel='no'"];
    const r = s.run(['vm1', 'prepare', 'begin', '-'], xml, env);
    expect(r).toMatchObject({ code: 0, called: true });
    expect(r.stdin!.toString()).toBe(xml);
  });
});

describe('exit codes: only the refusal code fails the start', () => {
  const xml = SOMETHING["relabel='no'"];

  it('10 from virt-seclabel refuses (exit 10), its lines on stderr for virsh to show', () => {
    const s = setUp(HOOK_REFUSE_EXIT, 'virt-seclabel: vm1: disk hdc (/srv/iso/a.iso): stale');
    const r = s.run(['vm1', 'prepare', 'begin', '-'], xml);
    expect(r).toMatchObject({ code: HOOK_REFUSE_EXIT, stderr: 'virt-seclabel: vm1: disk hdc (/srv/iso/a.iso): stale\n', leftInTmp: [] });
  });

  it('a crash (exit 1) lets the start go on and says so', () => {
    const s = setUp(1);
    const r = s.run(['vm1', 'start', 'begin', '-'], xml);
    expect(r).toMatchObject({ code: 0, stderr: 'virt-seclabel: vm1: start begin: the check failed (exit 1); start allowed unchecked\n', leftInTmp: [] });
  });

  it('a virt-seclabel that is not there lets the start go on and says so', () => {
    const s = setUp(0);
    rmSync(s.bin);
    const r = s.run(['vm1', 'prepare', 'begin', '-'], xml);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`virt-seclabel: vm1: prepare begin: ${s.bin} not found in /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; start allowed unchecked\n`);
    expect(r.leftInTmp).toEqual([]);
  });

  it('other operations never start it, whatever the XML', () => {
    const s = setUp(HOOK_REFUSE_EXIT);
    for (const op of [['stopped', 'end'], ['release', 'end'], ['started', 'begin'], ['prepare', 'end'], ['migrate', 'begin']])
      expect(s.run(['vm1', ...op, '-'], xml)).toMatchObject({ code: 0, stderr: '', called: false, leftInTmp: [] });
  });
});
