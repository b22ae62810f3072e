/**
 * The profile reader and the rule evaluation on profiles written for the test, in memory: includes
 * (magic, absolute, `if exists`, directories with their skipped names), variables (`=`, `+=`, nested,
 * several values), profile/hat/qualifier blocks, and the evaluation's rules: the union of matching
 * allow rules, a deny always winning, owner rules only for the owner, audit changing nothing.
 * The parser's own expansion is checked in glob.test.ts and real-profiles.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseProfileFile, type ParsedProfile, type ProfileSources } from '../../src/apparmor/parse.js';
import { evaluate } from '../../src/apparmor/evaluate.js';
import { checkPath } from '../../src/apparmor/engine.js';
import { domainProfile, profileFromTemplate } from '../../src/apparmor/libvirt-profile.js';
import { parseDryRun } from '../../src/apparmor/virt-aa-helper.js';
import { memoryView } from '../support/memory-view.js';

function sources(files: Record<string, string>, dirs: Record<string, string[]> = {}): ProfileSources {
  return {
    kind: (p) => (p in dirs ? 'dir' : p in files ? 'file' : 'missing'),
    readText: (p) => (p in files ? { ok: true, text: files[p]! } : { ok: false, why: 'missing' }),
    listDir: (p) => (p in dirs ? { ok: true, names: dirs[p]! } : { ok: false, why: 'missing' }),
  };
}

function parse(files: Record<string, string>, dirs: Record<string, string[]> = {}, entry = '/p/main'): ParsedProfile[] {
  const r = parseProfileFile(sources(files, dirs), entry, '/base');
  if (!r.ok) throw new Error(`${r.kind}: ${r.error}`);
  return [...r.profiles];
}

const rulesOf = (text: string, extra: Record<string, string> = {}) => parse({ '/p/main': text, ...extra })[0]!.rules;

describe('reading profiles', () => {
  it('follows includes of every form, and directory includes skip dot files, backups and README', () => {
    const profiles = parse(
      {
        '/p/main': '#include <tunables/t>\nprofile one {\n  include <abs/a>\n  #include "/abs/b"\n  include if exists <nope>\n  include <d>\n}\n',
        '/base/tunables/t': '@{V}=/v\n',
        '/base/abs/a': '@{V}/a r,\n',
        '/abs/b': '/b r,\n',
        '/base/d/1': '/d1 r,\n',
        '/base/d/.hidden': '/hidden r,\n',
        '/base/d/x.dpkg-old': '/old r,\n',
        '/base/d/x~': '/tilde r,\n',
        '/base/d/README': 'not a profile at all',
      },
      { '/base/d': ['1', '.hidden', 'x.dpkg-old', 'x~', 'README'] },
    );
    expect(profiles.map((p) => p.name)).toEqual(['one']);
    expect(profiles[0]!.rules.map((r) => [r.expanded, r.file, r.line])).toEqual([
      ['/v/a', '/base/abs/a', 1],
      ['/b', '/abs/b', 1],
      ['/d1', '/base/d/1', 1],
    ]);
  });

  it('a missing include without "if exists" is the parser\'s error; a relative quoted one is not followed', () => {
    expect(parseProfileFile(sources({ '/p/main': 'profile x {\n include <gone>\n}\n' }), '/p/main', '/base')).toMatchObject({ ok: false, kind: 'error' });
    expect(parseProfileFile(sources({ '/p/main': 'profile x {\n include "rel/x"\n}\n' }), '/p/main', '/base')).toMatchObject({ ok: false, kind: 'unsupported' });
  });

  it('variables: several values, += from another file, nested, set after use; undeclared is an error', () => {
    const rules = rulesOf('@{A}=/x/ /y/\n@{B}=@{A}z\n#include <more>\nprofile t {\n  @{A}/f r,\n  @{B} w,\n  @{C}/late r,\n}\n@{C}=/c\n', { '/base/more': '@{A}+=/w/\n' });
    expect(rules.map((r) => r.expanded)).toEqual(['{/x,/y,/w}/f', '{/x/z,/y/z,/w/z}', '/c/late']);
    expect(parseProfileFile(sources({ '/p/main': 'profile t {\n @{NOPE}/x r,\n}\n' }), '/p/main', '/base')).toMatchObject({ ok: false, kind: 'error' });
  });

  it('rule forms: path-first, perms-first, file prefix, bare file, quoted paths, exec targets; other rules skipped', () => {
    const rules = rulesOf(
      [
        'profile t flags=(attach_disconnected) {',
        '  capability dac_override,',
        '  unix (send, receive) type=stream addr=none peer=(label=libvirtd),',
        '  dbus send bus=system path=/org/x member={A,B} peer=(name=org.x),',
        '  signal (receive) peer=@{profile_name},',
        '  /a rw,',
        '  r /b,',
        '  file rk /c,',
        '  "/with space" r, # comment',
        '  /usr/bin/qemu rmix,',
        '  /bin/x px -> other,',
        '  audit deny owner /d w,',
        '  allow /e r,',
        '}',
      ].join('\n'),
    );
    expect(rules.map((r) => [r.expanded, [...r.perms].sort().join(''), r.deny, r.audit, r.owner])).toEqual([
      ['/a', 'rw', false, false, false],
      ['/b', 'r', false, false, false],
      ['/c', 'kr', false, false, false],
      ['/with space', 'r', false, false, false],
      ['/usr/bin/qemu', 'mrx', false, false, false],
      ['/bin/x', 'x', false, false, false],
      ['/d', 'w', true, true, true],
      ['/e', 'r', false, false, false],
    ]);
    expect(rules[3]!.text).toBe('"/with space" r, # comment');
    expect(rulesOf('profile t {\n  file,\n}\n')[0]!.patterns[0]!.test('/any/thing')).toBe(true);
  });

  it('hats, child profiles and qualifier blocks: a child\'s rules never reach the parent', () => {
    const [p] = parse({ '/p/main': 'profile parent {\n  /p r,\n  ^hat {\n    /h rw,\n  }\n  profile child {\n    /c rw,\n  }\n  deny {\n    /q w,\n  }\n  audit owner {\n    /o r,\n  }\n}\n' });
    expect(p!.rules.map((r) => [r.expanded, r.deny, r.audit, r.owner])).toEqual([
      ['/p', false, false, false],
      ['/q', true, false, false],
      ['/o', false, true, true],
    ]);
    expect(p!.children.map((c) => [c.name, c.rules.map((r) => r.expanded)])).toEqual([
      ['^hat', ['/h']],
      ['child', ['/c']],
    ]);
  });

  it('what apparmor_parser refuses is an error, not a guess', () => {
    for (const bad of ['profile t {\n  /a rq,\n}\n', 'profile t {\n  /a r\n}\n', 'profile t {\n  /a r,\n', '/x r,\n', 'profile t {\n  /a/{b r,\n}\n'])
      expect(parseProfileFile(sources({ '/p/main': bad }), '/p/main', '/base').ok, bad).toBe(false);
    expect(parseProfileFile(sources({ '/p/main': 'alias /a -> /b,\nprofile t {\n}\n' }), '/p/main', '/base')).toMatchObject({ ok: false, kind: 'unsupported' });
    // An unknown keyword could be a qualifier on a deny: nothing is decided rather than a rule dropped.
    expect(parseProfileFile(sources({ '/p/main': 'profile t {\n  priority=1 deny /a w,\n}\n' }), '/p/main', '/base')).toMatchObject({ ok: false, kind: 'unsupported' });
  });
});

describe('evaluating rules', () => {
  const rules = rulesOf(
    [
      'profile t {',
      '  /srv/** r,',
      '  /srv/vm/*.qcow2 w,',
      '  /srv/vm/locks/** k,',
      '  deny /srv/vm/secret* w,',
      '  audit /srv/audited rwk,',
      '  owner /home/*/img rwk,',
      '  deny owner /home/*/private r,',
      '  /home/** r,',
      '}',
    ].join('\n'),
  );

  it('permissions union across matching rules', () => {
    expect(evaluate(rules, '/srv/vm/a.qcow2', ['r', 'w'], false)).toMatchObject({ verdict: 'allowed' });
    const e = evaluate(rules, '/srv/vm/a.qcow2', ['r', 'w'], false);
    expect(e.verdict === 'allowed' && e.by.map((r) => r.line)).toEqual([2, 3]);
    expect(evaluate(rules, '/srv/vm/a.qcow2', ['r', 'w', 'k'], false)).toMatchObject({ verdict: 'absent', perms: ['k'] });
  });

  it('a deny wins over any allow, and names the deny rule', () => {
    const e = evaluate(rules, '/srv/vm/secret.qcow2', ['r', 'w'], false);
    expect(e).toMatchObject({ verdict: 'denied', perms: ['w'] });
    expect(e.verdict === 'denied' && e.by.line).toBe(5);
    expect(evaluate(rules, '/srv/vm/secret.qcow2', ['r'], false)).toMatchObject({ verdict: 'allowed' });
  });

  it('audit changes nothing in the verdict', () => {
    expect(evaluate(rules, '/srv/audited', ['r', 'w', 'k'], false)).toMatchObject({ verdict: 'allowed' });
  });

  it('owner rules count only for the owner, allow and deny alike', () => {
    expect(evaluate(rules, '/home/u/img', ['r', 'w'], true)).toMatchObject({ verdict: 'allowed' });
    expect(evaluate(rules, '/home/u/img', ['r', 'w'], false)).toMatchObject({ verdict: 'absent', perms: ['w'] });
    expect(evaluate(rules, '/home/u/private', ['r'], true)).toMatchObject({ verdict: 'denied' });
    expect(evaluate(rules, '/home/u/private', ['r'], false)).toMatchObject({ verdict: 'allowed' });
  });

  it('a directory is only matched by a rule for directories', () => {
    expect(evaluate(rules, '/srv/', ['r'], false)).toMatchObject({ verdict: 'absent' });
    expect(evaluate(rules, '/srv/d/', ['r'], false)).toMatchObject({ verdict: 'allowed' });
  });
});

describe("the engine on a host view: the object's real path, its owner, and the reasons", () => {
  const profile = { name: 'libvirt-x', rules: rulesOf('profile t {\n  /data/** rk,\n  owner /own/* rwk,\n  deny /data/no w,\n}\n'), localFile: '/etc/apparmor.d/local/abstractions/libvirt-qemu', templateFile: '/etc/apparmor.d/libvirt/TEMPLATE.qemu' };
  const view = memoryView({
    '/data/a.img': { type: 'file', mode: 0o644 },
    '/data/no': { type: 'file', mode: 0o666 },
    '/link.img': { type: 'symlink', target: '/data/a.img' },
    '/other/b.img': { type: 'file', mode: 0o644 },
    '/own/mine': { type: 'file', mode: 0o600, uid: 64055 },
    '/own/root': { type: 'file', mode: 0o600, uid: 0 },
  });

  it('a symlink is judged by the file it names', () => {
    const v = checkPath(view, profile, '/link.img', ['r', 'k'], 64055);
    expect(v).toMatchObject({ accessible: true });
    expect(v.reason).toContain('/link.img (which is /data/a.img)');
  });

  it('no rule: false, with the rule to add and the two places it can go', () => {
    const v = checkPath(view, profile, '/other/b.img', ['r', 'k'], 64055);
    expect(v.accessible).toBe(false);
    expect(v.reason).toContain('add "/other/b.img" rk, to /etc/apparmor.d/local/abstractions/libvirt-qemu');
    expect(v.reason).toContain('/etc/apparmor.d/libvirt/TEMPLATE.qemu');
  });

  it('a deny: false with the deny rule as file:line: text', () => {
    const v = checkPath(view, profile, '/data/no', ['r', 'w'], 64055);
    expect(v).toMatchObject({ accessible: false, rule: '/p/main:4: deny /data/no w,' });
  });

  it('owner rules: yes for the owner; not for another owner, whom libvirt may chown it from', () => {
    expect(checkPath(view, profile, '/own/mine', ['r', 'w', 'k'], 64055)).toMatchObject({ accessible: true });
    const v = checkPath(view, profile, '/own/root', ['r', 'w', 'k'], 64055);
    expect(v.accessible).toBeNull();
    expect(v.reason).toMatch(/owned by uid 0, not QEMU's uid 64055/);
    expect(checkPath(view, profile, '/own/mine', ['r'], undefined).accessible).toBeNull();
  });
});

describe("libvirt's profile for a domain", () => {
  const TEMPLATE = '#\n#include <tunables/global>\n\nprofile LIBVIRT_TEMPLATE flags=(attach_disconnected) {\n  #include <abstractions/libvirt-qemu>\n}\n';
  const UUID = '11111111-2222-3333-4444-555555555555';

  it('the template made into the profile as create_profile does it', () => {
    const made = profileFromTemplate(TEMPLATE, UUID);
    expect(made).toEqual({ ok: true, text: `#\n#include <tunables/global>\n\nprofile libvirt-${UUID} flags=(attach_disconnected) {\n  #include <abstractions/libvirt-qemu>\n  #include <libvirt/libvirt-${UUID}.files>\n\n}\n` });
    expect(profileFromTemplate('profile X {\n}\n', UUID).ok).toBe(false);
  });

  it('rules from the template, the abstraction, local/ and the generated .files, each with its own file and line', () => {
    const f = (content: string) => ({ type: 'file' as const, mode: 0o644, content });
    const view = memoryView({
      '/etc/apparmor.d/libvirt/TEMPLATE.qemu': f(TEMPLATE),
      '/etc/apparmor.d/tunables/global': f('@{HOME}=/root/\n'),
      '/etc/apparmor.d/abstractions/libvirt-qemu': f('  /usr/share/OVMF/** rk,\n  #include <local/abstractions/libvirt-qemu>\n'),
      '/etc/apparmor.d/local/abstractions/libvirt-qemu': f('/srv/site/** rk,\n'),
    });
    const files = `  "/var/lib/libvirt/images/a.qcow2" rwk,\n  "/srv/iso/x.iso" rk,\n  # don't audit writes to readonly files\n  deny "/srv/iso/x.iso" w,\n`;
    const p = domainProfile(view, UUID, files);
    if (!p.ok) throw new Error(p.reason);
    expect(p.existing).toBe(false);
    expect(p.rules.map((r) => `${r.file}:${r.line}: ${r.text}`)).toEqual([
      '/etc/apparmor.d/abstractions/libvirt-qemu:1: /usr/share/OVMF/** rk,',
      '/etc/apparmor.d/local/abstractions/libvirt-qemu:1: /srv/site/** rk,',
      `/etc/apparmor.d/libvirt/libvirt-${UUID}.files:1: "/var/lib/libvirt/images/a.qcow2" rwk,`,
      `/etc/apparmor.d/libvirt/libvirt-${UUID}.files:2: "/srv/iso/x.iso" rk,`,
      `/etc/apparmor.d/libvirt/libvirt-${UUID}.files:4: deny "/srv/iso/x.iso" w,`,
    ]);
  });

  it("virt-aa-helper's dry run: the .files text, or its refusal with the path it named", () => {
    const ok = parseDryRun(UUID, {
      kind: 'ran',
      status: 0,
      stderr: `virt-aa-helper: warning: path does not exist, skipping file type checks\nvirt-aa-helper:\n/etc/apparmor.d/libvirt/libvirt-${UUID}.files\nvirt-aa-helper:\n  "/a" rwk,\n\nvirt-aa-helper:\n/etc/apparmor.d/libvirt/libvirt-${UUID}\nvirt-aa-helper:\nlibvirt-${UUID}\n`,
    });
    expect(ok).toEqual({ ok: true, rules: '  "/a" rwk,\n', warnings: ['path does not exist, skipping file type checks'] });
    const refused = parseDryRun(UUID, { kind: 'ran', status: 1, stderr: 'virt-aa-helper: error: /etc/x.iso\nvirt-aa-helper: error: skipped restricted file\nvirt-aa-helper: error: invalid VM definition\n' });
    expect(refused).toMatchObject({ ok: false, path: '/etc/x.iso' });
    expect(refused.ok === false && refused.why).toContain('"skipped restricted file"');
    expect(parseDryRun(UUID, { kind: 'missing', why: 'no such file' })).toMatchObject({ ok: false });
  });
});
