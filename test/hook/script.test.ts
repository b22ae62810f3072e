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

describe('the shell\'s own test is one pass over the text, whatever its size', () => {
  // 3.5 MB of disks with libvirt's relabel='yes' seclabels last, as its live XML has them. Removing each
  // relabel='yes' with ${var#*…} was quadratic (2 s of CPU at 37 KB); this would not finish in the test's time.
  const many = (last: string) =>
    disk('').replace('<devices>', `<devices>\n${"    <disk type='file' device='disk'><source file='/var/lib/libvirt/images/d.qcow2'/><target dev='vdb' bus='virtio'/></disk>\n".repeat(30000)}`).replace('</domain>', `${last}\n</domain>`);
  it('nothing to check in a 3.5 MB domain: no virt-seclabel, silently', () => {
    const s = setUp(HOOK_REFUSE_EXIT);
    const xml = many("<seclabel type='dynamic' model='dac' relabel='yes'><label>+64055:+64055</label></seclabel>");
    expect(xml.length).toBeGreaterThan(3_500_000);
    expect(s.run(['vm1', 'prepare', 'begin', '-'], xml)).toMatchObject({ code: 0, stderr: '', called: false });
  });
  it('a relabel=\'no\' after 3.5 MB still runs the check, with every byte', () => {
    const s = setUp(0);
    const xml = many("<seclabel type='dynamic' model='dac' relabel='yes'/><seclabel model='dac' relabel='no'/>");
    const r = s.run(['vm1', 'prepare', 'begin', '-'], xml);
    expect(r.called).toBe(true);
    expect(r.stdin!.equals(Buffer.from(xml))).toBe(true);
  });
});

/** A domain whose only seclabels are on an nvram or a chardev <source> (issue 22), no disk annotated. */
const otherFile = (where: 'nvram' | 'serial', seclabel: string, domainSelinux = true) => `<domain type='kvm'>
  <name>vm1</name>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
${where === 'nvram' ? `    <nvram type='file'>\n      <source file='/srv/vm/vars.fd'>\n        ${seclabel}\n      </source>\n    </nvram>\n` : ''}  </os>
  <devices>
${where === 'serial' ? `    <serial type='file'>\n      <source path='/srv/vm/console.log'>\n        ${seclabel}\n      </source>\n    </serial>\n` : ''}  </devices>
${domainSelinux ? "  <seclabel type='dynamic' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:s0:c1,c2</label></seclabel>\n" : ''}</domain>
`;

describe('an annotated nvram or chardev source, the only annotation, still reaches the check the hook re-proves it with', () => {
  const cases: Record<string, [string, 'prepare' | 'start']> = {
    "nvram, DAC relabel='no', at prepare begin": [otherFile('nvram', "<seclabel model='dac' relabel='no'/>", false), 'prepare'],
    "chardev, DAC relabel='no', at prepare begin": [otherFile('serial', "<seclabel model='dac' relabel='no'/>", false), 'prepare'],
    "nvram, SELinux relabel='no', at start begin": [otherFile('nvram', "<seclabel model='selinux' relabel='no'/>"), 'start'],
    "chardev, SELinux relabel='no', at start begin": [otherFile('serial', "<seclabel model='selinux' relabel='no'/>"), 'start'],
  };
  for (const [what, [xml, op]] of Object.entries(cases)) {
    it(what, () => {
      const s = setUp(0);
      const r = s.run(['vm1', op, 'begin', '-'], xml);
      expect(r).toMatchObject({ code: 0, stderr: '', called: true, leftInTmp: [] });
      expect(r.stdin!.equals(Buffer.from(xml))).toBe(true);
      // And the judge does have something to check there: it asks for the host.
      let opened = 0;
      const j = judgeDomainXml(Buffer.from(xml), `${op}-begin`, () => {
        opened++;
        return { ok: false, error: 'no host here' };
      });
      expect(opened).toBe(1);
      expect(j.ok).toBe(false);
    });
  }

  it("relabel='yes' on them is libvirt's own form: skipped in the shell, and the judge agrees", () => {
    for (const where of ['nvram', 'serial'] as const) {
      const xml = otherFile(where, "<seclabel model='dac' relabel='yes'/>");
      const s = setUp(HOOK_REFUSE_EXIT);
      for (const op of ['prepare', 'start'] as const) {
        expect(s.run(['vm1', op, 'begin', '-'], xml)).toMatchObject({ code: 0, stderr: '', called: false, leftInTmp: [] });
        const j = judgeDomainXml(Buffer.from(xml), `${op}-begin`, () => {
          throw new Error('no context expected');
        });
        expect(j.ok && j.value.checked).toBe(0);
      }
    }
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
    for (const op of [['stopped', 'end'], ['release', 'end'], ['started', 'begin'], ['prepare', 'end'], ['migrate', 'end'], ['restore', 'end']])
      expect(s.run(['vm1', ...op, '-'], xml)).toMatchObject({ code: 0, stderr: '', called: false, leftInTmp: [] });
  });
});

describe('migrate begin and restore begin: a filter libvirt takes the output of', () => {
  /** A fake virt-seclabel that prints `out` and exits with `exit`. */
  function filterSetUp(out: string, exit: number) {
    const d = join(dir, `filter-${++n}`);
    mkdirSync(d, { recursive: true });
    const bin = join(d, 'fake-virt-seclabel');
    writeFileSync(bin, `#!/bin/sh
cat > '${d}/stdin'
printf '%s' '${out}'
exit ${exit}
`);
    chmodSync(bin, 0o755);
    const script = join(d, 'hook');
    writeFileSync(script, renderHookScript(bin));
    return (args: string[], input: string) => {
      const r = spawnSync('sh', [script, ...args], { input, env: { LC_ALL: 'C', PATH: '/bin:/usr/bin' } });
      return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString(), stdin: existsSync(join(d, 'stdin')) ? readFileSync(join(d, 'stdin'), 'utf8') : undefined };
    };
  }
  const xml = disk('');

  it('always runs the check, hands it the XML, and prints its output byte for byte, trailing newlines kept', () => {
    for (const op of ['migrate', 'restore']) {
      const run = filterSetUp('<domain>new</domain>\n\n', 0);
      expect(run(['vm1', op, 'begin', '-'], xml)).toEqual({ code: 0, stdout: '<domain>new</domain>\n\n', stderr: '', stdin: xml });
    }
  });

  it('prints nothing when the check fails, whatever it printed first, and still exits 0 (libvirt keeps its XML)', () => {
    const run = filterSetUp('<domain>half', 3);
    const r = run(['vm1', 'restore', 'begin', '-'], xml);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toContain('vm1: restore begin: the check failed; XML left as libvirt has it');
  });

  it('prints nothing and exits 0 when virt-seclabel is missing', () => {
    const d = join(dir, `filter-missing-${++n}`);
    mkdirSync(d, { recursive: true });
    const script = join(d, 'hook');
    writeFileSync(script, renderHookScript(join(d, 'no-such-binary')));
    const r = spawnSync('sh', [script, 'vm1', 'migrate', 'begin', '-'], { input: xml, env: { LC_ALL: 'C', PATH: '/bin:/usr/bin' } });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr.toString()).toContain('not found');
  });
});
