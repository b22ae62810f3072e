/**
 * The verdicts of docs/libvirt-remembered-labels.md §9, one test per row of its staleness table, for DAC
 * and SELinux, plus hostile values and the files libvirt chowns without remembering.
 */
import { describe, expect, it } from 'vitest';
import type { BootStamp } from '../../src/doctor/boot-stamp.js';
import type { RawAttr, RawRecord } from '../../src/doctor/records.js';
import type { Holder } from '../../src/doctor/status.js';
import { diagnoseFile, type DoctorHost, type FileFacts, type Finding } from '../../src/doctor/verdict.js';
import { renderFindingText } from '../../src/report/doctor.js';
import type { Model } from '../../src/decide/types.js';
import { success } from '../../src/result.js';

const STAMP = '1796476167';
const QEMU = { uid: 64055, gid: 64055 };
const host = (over: Partial<DoctorHost> = {}): DoctorHost => ({
  bootStamp: success<BootStamp>({ value: STAMP, source: 'uptime' }),
  qemu: QEMU,
  qemuNames: 'libvirt-qemu:libvirt-qemu',
  userId: (n) => (n === 'alice' ? 1000 : undefined),
  groupId: () => undefined,
  daemonXattrs: { ok: true },
  ...over,
});
const v = (s: string | Uint8Array): RawAttr => ({ kind: 'value', bytes: typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'latin1')) : s });
const A: RawAttr = { kind: 'absent' };
const none: RawRecord = { label: A, ref: A, stamp: A };
const rec = (label: string | undefined, ref: string | undefined, stamp: string | undefined): RawRecord => ({
  label: label === undefined ? A : v(label),
  ref: ref === undefined ? A : v(ref),
  stamp: stamp === undefined ? A : v(stamp),
});
const PATH = '/var/lib/libvirt/images/vm.raw';
const facts = (over: Partial<FileFacts> & { dac?: RawRecord; selinux?: RawRecord } = {}): FileFacts => {
  const { dac, selinux, ...rest } = over;
  return {
    path: PATH,
    realPath: PATH,
    inode: { ...QEMU, type: 'file', dev: 1, ino: 2 },
    selinuxLabel: null,
    records: { kind: 'read', raw: { dac: dac ?? none, selinux: selinux ?? none } },
    holders: [],
    roles: ['top'],
    ...rest,
  };
};
const holder = (domain: string, counts: Partial<Record<Model, boolean>> = { dac: true }, role: Holder['role'] = 'top'): Holder => ({
  domain,
  role,
  disk: 'vda',
  counts: { dac: counts.dac ?? false, selinux: counts.selinux ?? false },
  dacLabel: '+64055:+64055',
  imageLabel: undefined,
});
/** The one finding of a model ('file': about the file, no model). */
const one = (f: Finding[], model: Model | 'file' = 'dac'): Finding => {
  const m = f.filter((x) => (x.model ?? 'file') === model);
  expect(m, JSON.stringify(f, null, 1)).toHaveLength(1);
  return m[0]!;
};

describe('the staleness table, DAC', () => {
  it('none: no record, not owned by qemu → nothing to say', () => {
    expect(diagnoseFile(facts({ inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host())).toEqual([]);
  });

  it('fragment: label and timestamp without ref_ → stale, removed without touching the owner', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', undefined, STAMP) }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'fragment' });
    expect(f.action).toMatchObject({ kind: 'restore-record', restore: { owner: { uid: 4242, gid: 4242 } } });
  });

  it('stale by boot stamp, nobody uses the file → give back the remembered owner and remove the records', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', '1700000000') }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'other-boot', libvirtWillSay: `Invalid XATTR timestamp detected on ${PATH} secdriver=dac (a warning in the daemon's log)` });
    expect(f.record).toEqual({ label: '"+4242:+4242"', count: '"1"', countValue: 1, stamp: '"1700000000"', thisBoot: false });
    expect(f.consequence).toContain('the owner +4242:+4242 is lost for good');
    expect(f.action).toEqual({
      kind: 'restore-record',
      model: 'dac',
      realPath: PATH,
      dev: 1,
      ino: 2,
      expect: { 'trusted.libvirt.security.ref_dac': '31', 'trusted.libvirt.security.dac': Buffer.from('+4242:+4242').toString('hex'), 'trusted.libvirt.security.timestamp_dac': Buffer.from('1700000000').toString('hex') },
      restore: { owner: { uid: 4242, gid: 4242 } },
      from: { owner: QEMU },
    });
  });

  it('stale without a timestamp → libvirt takes it for another boot', () => {
    expect(one(diagnoseFile(facts({ dac: rec('+4242:+4242', '5', undefined) }), host()))).toMatchObject({ verdict: 'stale', cause: 'no-stamp' });
  });

  it('stale by boot stamp while a domain uses it (after a boot-stamp change) → reported only', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', '1700000000'), holders: [holder('vm1')] }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'other-boot', counted: 1 });
    expect(f.action).toBeUndefined();
    expect(f.noAction).toBe('running domains use the file: vm1 (vda, top)');
    expect(f.consequence).toContain('the stop of vm1 (vda, top) drops the record and gives the default (root:root)');
  });

  it('the /proc/uptime fallback may land a second away: that is still this boot', () => {
    expect(one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', '1796476168'), holders: [holder('vm1')] }), host()))).toMatchObject({ verdict: 'consistent' });
    const utmp = host({ bootStamp: success<BootStamp>({ value: STAMP, source: 'utmp' }) });
    expect(one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', '1796476168'), holders: [holder('vm1')] }), utmp))).toMatchObject({ cause: 'other-boot' });
  });

  it('malformed count (this boot) → libvirt\'s exact error; records removed, the original given back', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', 'abc', STAMP) }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'malformed-count', libvirtWillSay: `internal error: malformed refcount abc on ${PATH}` });
    expect(f.action).toMatchObject({ restore: { owner: { uid: 4242, gid: 4242 } } });
  });

  it('consistent: count = running holders ≥ 1', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '2', STAMP), holders: [holder('a'), holder('b'), holder('c', { dac: false }, 'readonly')] }), host()));
    expect(f).toMatchObject({ verdict: 'consistent', cause: 'counts-match', counted: 2 });
    expect(f.action).toBeUndefined();
  });

  it('a holder without <rememberOwner/> or in a read-only role does not count', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', STAMP), holders: [holder('a', { dac: false })] }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'over-count', counted: 0 });
    expect(f.action).toBeUndefined();
  });

  it('over-count, nobody uses it, owner is qemu → the start succeeds but never gives back; --apply restores', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', STAMP) }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'over-count' });
    expect(f.libvirtWillSay).toBeUndefined();
    expect(f.consequence).toBe('the next start succeeds and counts 2; its stop counts back to 1, so the owner +4242:+4242 is never given back (and for a disk the stop then wipes the record: the qemu user keeps the file for good)');
    expect(f.action).toMatchObject({ restore: { owner: { uid: 4242, gid: 4242 } }, from: { owner: QEMU } });
  });

  // The enforcing SELinux guest (test/selinux-kernel/files-doctor-enforcing.test.ts): after the crash both
  // records were stale and the disk owned by the qemu user; the restart failed with the SELinux words.
  it('over-count on both records: the SELinux record fails the next start first, and the DAC line says so instead of "succeeds"', () => {
    const both = diagnoseFile(facts({ dac: rec('+4242:+4242', '1', STAMP), selinux: rec('system_u:object_r:virt_image_t:s0', '1', STAMP), selinuxLabel: 'system_u:object_r:svirt_image_t:s0:c1,c2' }), host());
    const sel = one(both, 'selinux');
    expect(sel.libvirtWillSay).toBe(`Requested operation is not valid: Setting different SELinux label on ${PATH} which is already in use`);
    const dac = one(both, 'dac');
    expect(dac.libvirtWillSay).toBeUndefined();
    expect(dac.consequence).toBe(
      `the next start fails on the SELinux record first (libvirt labels with SELinux before DAC: "${sel.libvirtWillSay}"); once that record is gone, the next start succeeds and counts 2; its stop counts back to 1, so the owner +4242:+4242 is never given back (and for a disk the stop then wipes the record: the qemu user keeps the file for good)`,
    );
    // The DAC-only case keeps its own sentence.
    expect(one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', STAMP) }), host())).consequence).toMatch(/^the next start succeeds/);
  });

  it('over-count with an owner other than qemu → "already in use"; the records go, the owner stays', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+1000:+1000', '1', STAMP), inode: { uid: 4242, gid: 4242, type: 'file', dev: 1, ino: 2 } }), host()));
    expect(f.libvirtWillSay).toBe(`Requested operation is not valid: Setting different DAC user or group on ${PATH} which is already in use`);
    expect(f.action).toMatchObject({ kind: 'restore-record', restore: undefined, from: undefined });
    expect(f.summary).toContain('the owner +1000:+1000 is not given back: its owner 4242:4242 is not the qemu user 64055:64055');
    expect(f.action).toMatchObject({ keeps: 'the owner +1000:+1000 is not given back: its owner 4242:4242 is not the qemu user 64055:64055: someone changed it since libvirt did' });
    expect(f.summary).toContain(`if it was libvirt's, \`chown 1000:1000 '${PATH}'\` gives it back`);
  });

  it('over-count with a running holder → reported, never touched', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '3', STAMP), holders: [holder('vm1')] }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'over-count', counted: 1 });
    expect(f.summary).toContain('only 1 running domain holds it');
    expect(f.action).toBeUndefined();
  });

  it('under-count → the first stop would give the owner back under the others', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', STAMP), holders: [holder('a'), holder('b')] }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'under-count' });
    expect(f.action).toBeUndefined();
  });

  it('missing label → libvirt\'s error at the last stop; the leftovers go, the owner stays', () => {
    const f = one(diagnoseFile(facts({ dac: rec(undefined, '1', STAMP) }), host()));
    expect(f).toMatchObject({ verdict: 'stale', cause: 'missing-label', libvirtWillSay: `Unable to get XATTR trusted.libvirt.security.dac on ${PATH}: No data available` });
    expect(f.action).toMatchObject({ restore: undefined });
  });

  it('count 0 (never written by libvirt) → stale', () => {
    expect(one(diagnoseFile(facts({ dac: rec('+4242:+4242', '0', STAMP) }), host()))).toMatchObject({ verdict: 'stale', cause: 'zero-count' });
  });

  it('unsupported filesystem → cannot be recorded, with the setting and its cost', () => {
    const f = diagnoseFile(facts({ records: { kind: 'unsupported', errno: 'EOPNOTSUPP' } }), host());
    const u = one(f, 'file');
    expect(u).toMatchObject({ verdict: 'unrecordable', cause: 'filesystem' });
    expect(u.avoid?.setting).toContain("relabel='no'");
    expect(u.action).toBeUndefined();
  });

  it('a daemon that may not write trusted.* → libvirt\'s EPERM error and remember_owner = 0 with its cost', () => {
    const u = one(diagnoseFile(facts({ inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host({ daemonXattrs: { ok: false, why: 'process 42 runs in a user namespace' } })), 'file');
    expect(u).toMatchObject({ verdict: 'unrecordable', cause: 'namespace', libvirtWillSay: 'Unable to set XATTR trusted.libvirt.security.dac on /var/lib/libvirt/qemu/domain-ID-NAME/master-key.aes: Operation not permitted' });
    // A daemon whose own qemu.conf says remember_owner = 0 writes no records: nothing fails there.
    expect(diagnoseFile(facts({ inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host({ daemonXattrs: { ok: false, why: 'x', pid: 42 }, daemonRemembers: false })).filter((f) => f.cause === 'namespace')).toEqual([]);
    expect(u.avoid?.setting).toMatch(/^qemu\.conf remember_owner = 0; .*namespaces = \[\] as well$/);
    expect(u.avoid?.cost).toContain('root:root');
  });

  it('a read-only file is never remembered: no "cannot be recorded" for it', () => {
    expect(diagnoseFile(facts({ roles: ['readonly'], records: { kind: 'unsupported', errno: 'EOPNOTSUPP' }, inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host())).toEqual([]);
  });

  it('an unreadable attribute → cannot tell (exit 2 in the command)', () => {
    const f = one(diagnoseFile(facts({ dac: { label: v('+1:+1'), ref: { kind: 'error', errno: 'EIO' }, stamp: v(STAMP) } }), host()));
    expect(f).toMatchObject({ verdict: 'unknown', cause: 'unreadable' });
  });
});

describe('hostile values', () => {
  it('a huge count is malformed', () => {
    expect(one(diagnoseFile(facts({ dac: rec('+4242:+4242', '99999999999999999999', STAMP) }), host()))).toMatchObject({ cause: 'malformed-count' });
  });
  it('an escape sequence in the count is escaped in libvirt\'s message', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '\u001b[2J', STAMP) }), host()));
    expect(f.libvirtWillSay).toBe(`internal error: malformed refcount \\u001b[2J on ${PATH}`);
  });
  it('-1 reads as 4294967295: an over-count', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '-1', STAMP) }), host()));
    expect(f).toMatchObject({ cause: 'over-count' });
    expect(f.record?.countValue).toBe(4294967295);
  });
  it('a NUL inside the count: libvirt reads the digits before it; the report shows the stored bytes', () => {
    const f = one(diagnoseFile(facts({ dac: { label: v('+4242:+4242'), ref: v(new Uint8Array([0x31, 0, 0x39])), stamp: v(STAMP) }, holders: [holder('vm')] }), host()));
    expect(f).toMatchObject({ verdict: 'consistent' });
    expect(f.record?.count).toBe('"1" (stored bytes 0x310039; libvirt reads up to the NUL)');
  });
  it('a non-numeric stamp is another boot', () => {
    expect(one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', 'yesterday') }), host()))).toMatchObject({ cause: 'other-boot' });
  });
  it('a label that does not parse: records removed, nothing chowned, the reason said', () => {
    const f = one(diagnoseFile(facts({ dac: rec('4242', '1', '1') }), host()));
    expect(f.original).toEqual({ problem: "Failed to parse uid and gid from '4242'" });
    expect(f.action).toMatchObject({ restore: undefined });
    expect(f.summary).toContain("the remembered value is unusable (Failed to parse uid and gid from '4242')");
  });
  it('an owner of (uid_t)-1 is never applied', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+-1:+5', '1', '1') }), host()));
    expect(f.original?.problem).toContain('4294967295');
    expect(f.action).toMatchObject({ restore: undefined });
  });
  it('a name in the label resolves through the accounts, as virGetUserID does', () => {
    const f = one(diagnoseFile(facts({ dac: rec('alice:+100', '1', '1') }), host()));
    expect(f.original).toEqual({ owner: { uid: 1000, gid: 100 } });
  });
  it('an owner that is a static DAC label of a definition naming the file counts as libvirt\'s: the owner is given back', () => {
    const inode = { uid: 64055, gid: 4343, type: 'file', dev: 1, ino: 2 };
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', '1'), inode, dacLabels: [{ uid: 64055, gid: 4343 }] }), host()));
    expect(f.action).toMatchObject({ restore: { owner: { uid: 4242, gid: 4242 } }, from: { owner: { uid: 64055, gid: 4343 } } });
    const without = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', '1'), inode }), host()));
    expect(without.action).toMatchObject({ restore: undefined });
    expect(without.summary).toContain('its owner 64055:4343 is not the qemu user 64055:64055: someone changed it since libvirt did');
    const left = one(diagnoseFile(facts({ roles: ['readonly'], inode, dacLabels: [{ uid: 64055, gid: 4343 }] }), host()));
    expect(left).toMatchObject({ verdict: 'left-chowned' });
    expect(left.summary).toContain('owned by 64055:4343, the DAC label of a definition naming it');
  });

  it('the owner already given back: the records go, nothing is chowned', () => {
    const f = one(diagnoseFile(facts({ dac: rec('+4242:+4242', '1', '1'), inode: { uid: 4242, gid: 4242, type: 'file', dev: 1, ino: 2 } }), host()));
    expect(f.action).toMatchObject({ restore: undefined });
    expect(f.summary).toContain('the file already has the owner +4242:+4242');
  });
});

describe('SELinux records', () => {
  const SVIRT = 'system_u:object_r:svirt_image_t:s0:c10,c20';
  const ORIG = 'system_u:object_r:virt_image_t:s0';
  it('same-boot over-count → libvirt\'s "different SELinux label" error; --apply gives the label back', () => {
    const f = one(diagnoseFile(facts({ selinux: rec(ORIG, '1', STAMP), selinuxLabel: SVIRT, inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host()), 'selinux');
    expect(f.libvirtWillSay).toBe(`Requested operation is not valid: Setting different SELinux label on ${PATH} which is already in use`);
    expect(f.action).toMatchObject({ kind: 'restore-record', model: 'selinux', restore: { label: ORIG }, from: { label: SVIRT } });
  });
  it('a label someone else set since is kept (records removed)', () => {
    const f = one(diagnoseFile(facts({ selinux: rec(ORIG, '1', '5'), selinuxLabel: 'system_u:object_r:public_content_t:s0', inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host()), 'selinux');
    expect(f.action).toMatchObject({ restore: undefined });
  });
  it('a remembered value that is no context is never written', () => {
    const f = one(diagnoseFile(facts({ selinux: rec('not a context', '1', '5'), selinuxLabel: SVIRT, inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host()), 'selinux');
    expect(f.action).toMatchObject({ restore: undefined });
  });
  it('consistent with a counted SELinux holder', () => {
    const f = one(diagnoseFile(facts({ selinux: rec(ORIG, '1', STAMP), selinuxLabel: SVIRT, holders: [holder('vm', { dac: true, selinux: true })], dac: rec('+0:+0', '1', STAMP) }), host()), 'selinux');
    expect(f.verdict).toBe('consistent');
  });
  it('DAC and SELinux records are judged apart', () => {
    const fs = diagnoseFile(facts({ dac: rec('+4242:+4242', '1', STAMP), selinux: rec(ORIG, '1', '5'), selinuxLabel: SVIRT, holders: [holder('vm', { dac: true, selinux: false })] }), host());
    expect(one(fs, 'dac').verdict).toBe('consistent');
    expect(one(fs, 'selinux')).toMatchObject({ verdict: 'stale', cause: 'other-boot' });
  });
});

describe('left chowned', () => {
  const ro = (over: Partial<FileFacts> = {}) => facts({ roles: ['readonly'], ...over });
  it('a read-only ISO owned by qemu with nothing remembered: reported with the likely owner, not changed', () => {
    const f = one(diagnoseFile(ro({ neighbours: { dir: { uid: 1000, gid: 1000, label: null }, siblings: [{ uid: 1000, gid: 1000, label: null }] } }), host()));
    expect(f).toMatchObject({ verdict: 'left-chowned', cause: 'nothing-remembered', likely: { owner: { uid: 1000, gid: 1000 }, confidence: 'medium' } });
    expect(f.summary).toContain('libvirt chowns and relabels read-only and shareable disks and backing files but never remembers or restores them');
    expect(f.action).toBeUndefined();
    expect(f.noAction).toContain('--owner UID:GID');
  });
  it('with --owner a person named: the plan chowns it', () => {
    const f = one(diagnoseFile(ro(), host(), { owner: { uid: 1000, gid: 100 } }));
    expect(f.action).toEqual({ kind: 'set-owner', realPath: PATH, dev: 1, ino: 2, from: QEMU, to: { uid: 1000, gid: 100 } });
  });
  it('no guess when everything around belongs to qemu', () => {
    const f = one(diagnoseFile(ro({ neighbours: { dir: { ...QEMU, label: null }, siblings: [] } }), host()));
    expect(f.likely).toMatchObject({ confidence: 'none' });
  });
  it('a unix socket chardev reset to root:root: reported with the likely owner; --owner names the chown (a socket cannot be opened)', () => {
    const sock = (over: Partial<FileFacts> = {}) =>
      facts({ roles: ['unremembered-file'], elements: ['devices/serial[1]'], inode: { uid: 0, gid: 0, type: 'socket', dev: 1, ino: 2 }, neighbours: { dir: { uid: 4242, gid: 4242, label: null }, siblings: [{ uid: 4242, gid: 4242, label: null }] }, ...over });
    const f = one(diagnoseFile(sock(), host()));
    expect(f).toMatchObject({ verdict: 'left-chowned', cause: 'nothing-remembered', likely: { owner: { uid: 4242, gid: 4242 }, confidence: 'medium' } });
    expect(f.summary).toContain('(devices/serial[1]) owned by root:root with no record and no running domain using it: the stop after libvirt chowned it reset it to root:root');
    expect(f.action).toBeUndefined();
    expect(one(diagnoseFile(sock(), host(), { owner: { uid: 4242, gid: 4242 } })).noAction).toBe(`a socket cannot be opened to be changed through a descriptor: \`chown 4242:4242 '${PATH}'\` gives it the owner you named`);
    // root:root all around, or a remembered file (given back by libvirt, not reset): nothing to say.
    expect(diagnoseFile(sock({ neighbours: { dir: { uid: 0, gid: 0, label: null }, siblings: [] } }), host())).toEqual([]);
    expect(diagnoseFile(sock({ roles: ['remembered-file'], inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 } }), host())).toEqual([]);
  });
  it('a running domain uses it: not left chowned', () => {
    expect(diagnoseFile(ro({ holders: [holder('vm', {}, 'readonly')] }), host())).toEqual([]);
  });
  it('SELinux: labelled virt_content_t with nothing remembered; --label relabels', () => {
    const f = one(
      diagnoseFile(ro({ inode: { uid: 0, gid: 0, type: 'file', dev: 1, ino: 2 }, selinuxLabel: 'system_u:object_r:virt_content_t:s0', neighbours: { dir: { uid: 0, gid: 0, label: 'system_u:object_r:public_content_t:s0' }, siblings: [] } }), host(), { label: 'system_u:object_r:public_content_t:s0' }),
      'selinux',
    );
    expect(f).toMatchObject({ verdict: 'left-chowned', likely: { label: 'system_u:object_r:public_content_t:s0', confidence: 'low' } });
    expect(f.action).toEqual({ kind: 'set-label', realPath: PATH, dev: 1, ino: 2, from: 'system_u:object_r:virt_content_t:s0', to: 'system_u:object_r:public_content_t:s0' });
    // The text names what libvirt left: a label, not an owner (the JSON verdict is left-chowned for both).
    expect(renderFindingText(f)).toMatch(new RegExp(`^${PATH}: selinux: left labelled \\(nothing-remembered\\): `));
    expect(renderFindingText(one(diagnoseFile(ro(), host())))).toMatch(new RegExp(`^${PATH}: dac: left chowned \\(nothing-remembered\\): `));
  });
});
