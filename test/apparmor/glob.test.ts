/**
 * AppArmor globs against apparmor_parser's own conversion: `apparmor_parser -Q -D rule-exprs` prints,
 * per rule, the glob after variable expansion and the regular expression it compiles into the DFA. Each
 * tricky glob is matched against a set of probe paths both by our compileGlob and by the parser's
 * regular expression (run as a JS RegExp, which reads its syntax the same), and both must agree; the
 * expansions must be the parser's too. The literal expectations below hold without the parser.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileGlob, filterSlashes } from '../../src/apparmor/glob.js';
import { parseProfileFile } from '../../src/apparmor/parse.js';
import { viewSources } from '../../src/apparmor/libvirt-profile.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';

const m = (glob: string, path: string) => {
  const c = compileGlob(glob);
  if (!c.ok) throw new Error(c.error);
  return c.regex.test(path);
};

describe('AppArmor globs (apparmor.d(5) "Globbing")', () => {
  it.each([
    ['/tmp/*', '/tmp/a', true],
    ['/tmp/*', '/tmp/', false], // a whole-component * needs one character
    ['/tmp/*', '/tmp/a/b', false], // * never crosses '/'
    ['/tmp/**', '/tmp/a/b', true], // ** does
    ['/tmp/**', '/tmp/', false],
    ['/tmp/**/', '/tmp/a/b/', true],
    ['/tmp/**/', '/tmp/a/b', false], // trailing '/' only matches directories
    ['/tmp/*bar', '/tmp/bar', true], // not a whole component: may be empty
    ['/tmp/*/x', '/tmp//x', false],
    ['/{,var/}tmp/', '/tmp/', true],
    ['/{,var/}tmp/', '/var/tmp/', true],
    ['/{,var/}tmp/', '/usr/tmp/', false],
    ['/a/{b,c{d,e}}/f', '/a/ce/f', true],
    ['/a/{b,c{d,e}}/f', '/a/c/f', false],
    ['/run/udev/data/c16[6,7]*', '/run/udev/data/c167:0', true],
    ['/run/udev/data/c16[6,7]*', '/run/udev/data/c16,x', true], // ',' inside a class is a character
    ['/run/udev/data/c16[6,7]*', '/run/udev/data/c168', false],
    ['/dev/vfio/[0-9]*', '/dev/vfio/12', true],
    ['/dev/vfio/[0-9]*', '/dev/vfio/vfio', false],
    ['/x/[^a]', '/x/b', true],
    ['/x/[^a]', '/x/a', false],
    ['/x/?', '/x/a', true],
    ['/x/?', '/x/ab', false],
    ['/x/?', '/x//', false],
    ['/a.b', '/axb', false], // '.' is literal
    ['/a\\*', '/a*', true],
    ['/a\\*', '/ab', false],
    ['/a//b', '/a/b', true], // runs of '/' are one
    ['/var/lib/libvirt/images/a.qcow2', '/var/lib/libvirt/images/a.qcow2', true],
    ['/usr/share/OVMF/**', '/usr/share/OVMF/OVMF_CODE.fd', true],
    ['/sys/bus/nd/devices/{,**/}', '/sys/bus/nd/devices/', true],
    ['/sys/bus/nd/devices/{,**/}', '/sys/bus/nd/devices/x/y/', true],
    ['/sys/bus/nd/devices/{,**/}', '/sys/bus/nd/devices/x', false],
    ['/a+b(c)|d$', '/a+b(c)|d$', true],
  ])('%s against %s: %s', (glob, path, want) => {
    expect(m(glob, path)).toBe(want);
  });

  it('refuses what the parser refuses', () => {
    for (const bad of ['/a/{b', '/a/b}', '/a/{b}', '/a/[bc', '/a\\']) expect(compileGlob(bad).ok, bad).toBe(false);
  });

  it('filters slashes like the parser, keeping a leading //', () => {
    expect(filterSlashes('/a///b//')).toBe('/a/b/');
    expect(filterSlashes('//ns/a')).toBe('//ns/a');
  });
});

const PARSER = '/usr/sbin/apparmor_parser';
const haveParser = existsSync(PARSER) && existsSync('/etc/apparmor.d/tunables/global');
const dir = mkdtempSync(join(tmpdir(), 'aa-glob-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Probe paths: each glob's own shapes and their near misses. */
const PROBES = [
  '/', '/tmp', '/tmp/', '/tmp/a', '/tmp/a/', '/tmp/a/b', '/tmp/a/b/', '/tmp//x', '/var/tmp/', '/var/tmp/x/',
  '/home/u/.pulse-cookie', '/home//.pulse-cookie', '/root/.pulse-cookie', '/root/x/.pulse-cookie',
  '/run/udev/data/c166', '/run/udev/data/c16,', '/run/udev/data/c168', '/run/udev/data/+usb:1-1',
  '/proc/1/cmdline', '/proc/0/cmdline', '/proc/12345/cmdline', '/proc/99999999/cmdline', '/proc/self/cmdline',
  '/proc/1/task/2/comm', '/usr/lib/x86_64-linux-gnu/qemu/block-rbd.so', '/usr/lib/qemu/a.so', '/usr/lib/x86_64-linux-gnu/qemu/sub/a.so',
  '/sys/devices/pci0000:00/usb1/1-1/x', '/sys/devices/usb1/x', '/sys/bus/nd/devices/', '/sys/bus/nd/devices/x/',
  '/dev/shm/spice.1', '/run/shm/spice.x', '/dev/shm/lttng-ust-wait-5', '/a/ce/f', '/a/b/f', '/a/c/f', '/x/a', '/x/ab',
  '/etc/libnl/classid', '/etc/libnl-3/classid', '/etc/libnl-2/classid', '/var/lib/libvirt/qemu/nvram/x_VARS.fd', '/var/lib/libvirt/qemu/nvram/_VARS.fd',
  '/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/OVMF/', '/tmp/pulse-x/', '/tmp/pulse-/', '/tmp/pulse-x/y',
];

const RULES = [
  '/tmp/* r,', '/tmp/** r,', '/tmp/**/ r,', '/tmp/*bar r,', '/{,var/}tmp/ r,', 'owner /{,var/}tmp/**/ r,',
  'owner @{HOME}/.pulse-cookie rwk,', '/run/udev/data/c16[6,7]* r,', '/run/udev/data/+usb* r,',
  '@{PROC}/@{pid}/cmdline r,', 'owner @{PROC}/@{pid}/task/@{tid}/comm rw,', '/usr/{lib,lib64}/qemu/*.so mr,', '/usr/lib/@{multiarch}/qemu/*.so mr,',
  '/sys/devices/**/usb[0-9]*/** r,', '/sys/bus/nd/devices/{,**/} r,', 'owner /{dev,run}/shm/spice.* rw,', 'deny /dev/shm/lttng-ust-wait-* r,',
  '/a/{b,c{d,e}}/f r,', '/x/? r,', '/x/[^a] r,', '/etc/libnl{,-3}/classid r,', 'owner /var/lib/libvirt/qemu/nvram/*_VARS.fd rwk,',
  '/usr/share/OVMF/** rk,', 'owner /tmp/pulse-*/ rw,', 'owner /tmp/pulse-*/* rw,', '"/var/lib/libvirt/images/a b.qcow2" rwk,',
];

describe.runIf(haveParser || process.env.CI === 'true')("the same rules through apparmor_parser (-Q -D rule-exprs)", () => {
  it('expands variables as the parser does, and every probe path matches alike', () => {
    const prof = join(dir, 'p');
    writeFileSync(prof, `#include <tunables/global>\nprofile glob-check {\n${RULES.map((r) => `  ${r}\n`).join('')}}\n`);
    // The dump goes to stderr.
    const run = spawnSync(PARSER, ['-Q', '-D', 'rule-exprs', prof], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const out = run.stderr;
    // "aare: GLOB   ->   PCRE" per rule, after variables.
    const parser = new Map<string, string>();
    for (const l of out.split('\n')) {
      const x = /^aare: (.*) {3}-> {3}(.*)$/.exec(l);
      if (x && x[1] !== 'glob-check') parser.set(x[1]!, x[2]!);
    }
    const parsed = parseProfileFile(viewSources(createLiveView()), prof);
    if (!parsed.ok) throw new Error(parsed.error);
    const rules = parsed.profiles[0]!.rules;
    expect(rules).toHaveLength(RULES.length);
    let compared = 0;
    for (const r of rules) {
      // The parser prints a quoted glob without its quotes; ours is the same text.
      const theirs = parser.get(r.expanded);
      expect(theirs, `parser has no aare ${r.expanded} (has: ${[...parser.keys()].join(' | ')})`).toBeDefined();
      const re = new RegExp(`^${theirs!}$`, 's');
      for (const p of PROBES) {
        expect(r.patterns[0]!.test(p), `${r.expanded} vs ${p} (parser: ${theirs})`).toBe(re.test(p));
        compared++;
      }
    }
    expect(compared).toBe(RULES.length * PROBES.length);
  });
});
