/**
 * A facts file is hostile input: whatever its bytes, parseFacts answers a value or a clear error that
 * says where, never throws, and never accepts what replay could misread.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFacts } from '../../src/adapters/snapshot/parse.js';
import { serializeFacts } from '../../src/adapters/snapshot/serialize.js';
import { FACTS_FORMAT_VERSION, type FactsFile } from '../../src/adapters/snapshot/format.js';
import { createSnapshotView } from '../../src/adapters/snapshot/snapshot-view.js';
import { createRecordingView } from '../../src/adapters/snapshot/recording-view.js';
import { memoryView } from '../support/memory-view.js';

const sample: FactsFile = {
  formatVersion: FACTS_FORMAT_VERSION,
  host: 'hv1',
  collectedAt: '2026-11-28T12:00:00.000Z',
  generator: 'test',
  hostOptions: { connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: { virt_use_nfs: true } },
  invoker: { uid: 0, gid: 0 },
  covers: { domains: ['a.xml'], paths: [] },
  view: [
    { op: 'lstat', path: '/srv', answer: { kind: 'ok', value: { type: 'dir', mode: 0o755, uid: 0, gid: 0 } } },
    { op: 'aclAccess', path: '/srv', answer: { kind: 'ok', value: 'AgAAAAEABgD/////' } },
    { op: 'readBytes', path: '/srv/a.qcow2', offset: 0, length: 8, answer: { kind: 'ok', value: { head: 'UUZJ+w==', zeros: 4 } } },
    { op: 'readText', path: '/etc/passwd', answer: { kind: 'missing', errno: 'ENOENT' } },
    { op: 'selinuxLabel', path: '/mnt/nfs', answer: { kind: 'unknown', why: 'EACCES' } },
  ],
  selinux: { policy: { kind: 'loaded', source: '/etc/selinux/default/policy/policy.33', mls: true }, booleans: [['virt_use_nfs', true]], typeExists: [{ name: 'svirt_tcg_t', exists: false }], compute: [] },
};

const text = serializeFacts(sample);

describe('parseFacts', () => {
  it('reads back what serializeFacts wrote', () => {
    const r = parseFacts(text);
    expect(r).toEqual({ ok: true, value: sample });
  });

  const broken: [string, (o: Record<string, unknown>) => void, RegExp][] = [
    ['another format version', (o) => (o.formatVersion = 2), /formatVersion 2 is not supported/],
    ['a missing section', (o) => delete o.view, /missing "view"/],
    ['an unknown key', (o) => (o.extra = 1), /unexpected "extra"/],
    ['a relative path', (o) => ((o.view as { path: string }[])[0]!.path = 'srv'), /view\[0\]\.path: expected an absolute path/],
    ['a mode beyond 07777', (o) => (((o.view as { answer: { value: { mode: number } } }[])[0]!.answer.value.mode = 0o10000)), /view\[0\]\.answer\.value\.mode/],
    ['bytes that are not base64', (o) => (((o.view as { answer: { value: { head: string } } }[])[2]!.answer.value.head = 'not base64!')), /view\[2\]\.answer\.value\.head: expected canonical base64/],
    ['more bytes than were asked', (o) => (((o.view as { answer: { value: { zeros: number } } }[])[2]!.answer.value.zeros = 5)), /view\[2\]\.answer\.value: more bytes than the 8 asked/],
    ['an unknown operation', (o) => (((o.view as { op: string }[])[0]!.op = 'readBinary')), /view\[0\]\.op/],
    ['an errno replay cannot mean', (o) => (((o.view as { answer: { errno: string } }[])[3]!.answer.errno = 'EACCES')), /errno/],
    ['a bad date', (o) => (o.collectedAt = 'yesterday'), /collectedAt/],
    ['a negative uid', (o) => ((o.invoker as { uid: number }).uid = -1), /invoker\.uid/],
  ];
  for (const [what, mutate, error] of broken)
    it(`refuses ${what}, saying where`, () => {
      const o = JSON.parse(text) as Record<string, unknown>;
      mutate(o);
      const r = parseFacts(JSON.stringify(o));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(error);
    });

  it('never throws on arbitrary text or JSON, truncations and deep nesting', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.nat(text.length).map((n) => text.slice(0, n))), (s) => {
        const r = parseFacts(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    expect(parseFacts('['.repeat(100_000) + ']'.repeat(100_000)).ok).toBe(false);
  });
});

describe('record and replay of one view', () => {
  const view = memoryView({
    '/srv/a': { type: 'file', mode: 0o644, content: 'abcdefghij' },
    '/srv/l': { type: 'symlink', target: 'a' },
  });

  it('answers what was recorded, including byte ranges inside or past a recorded read', () => {
    const rec = createRecordingView(view);
    rec.view.lstat('/srv/l');
    rec.view.readlink('/srv/l');
    rec.view.readBytes('/srv/a', 0, 64);
    rec.view.lstat('/srv/none');
    rec.view.listDir('/srv');
    const snap = createSnapshotView(rec.calls());
    expect(snap.view.lstat('/srv/l')).toEqual(view.lstat('/srv/l'));
    expect(snap.view.readlink('/srv/l')).toEqual(view.readlink('/srv/l'));
    expect(snap.view.readBytes('/srv/a', 2, 3)).toEqual(view.readBytes('/srv/a', 2, 3));
    expect(snap.view.readBytes('/srv/a', 8, 100)).toEqual(view.readBytes('/srv/a', 8, 100));
    expect(snap.view.lstat('/srv/none')).toEqual(view.lstat('/srv/none'));
    expect(snap.takeMisses()).toEqual([]);
  });

  it('answers unknown, and names the call, for anything else; a listed directory proves absence', () => {
    const rec = createRecordingView(view);
    rec.view.readBytes('/srv/a', 0, 4);
    rec.view.listDir('/srv');
    const snap = createSnapshotView(rec.calls());
    expect(snap.view.readBytes('/srv/a', 2, 4).kind).toBe('unknown');
    expect(snap.view.lstat('/srv/a').kind).toBe('unknown');
    expect(snap.view.lstat('/srv/zzz')).toEqual({ kind: 'missing', errno: 'ENOENT' });
    expect(snap.view.readBinary('/etc/selinux/default/policy/policy.33').kind).toBe('unknown');
    expect(snap.takeMisses().map((m) => `${m.op} ${m.path}`)).toEqual(['readBytes /srv/a (bytes 2..6)', 'lstat /srv/a', 'readBinary /etc/selinux/default/policy/policy.33']);
    expect(snap.takeMisses()).toEqual([]);
  });

  it('never records the policy bytes', () => {
    const rec = createRecordingView(view);
    rec.view.readBinary('/srv/a');
    expect(rec.calls()).toEqual([]);
  });
});

describe('the kernel asked as QEMU, recorded and replayed', () => {
  const ask = { uid: 64055, gid: 107, groups: [64055, 107], path: '/nfs/a.iso', op: 'read' as const };
  const allowed = { kind: 'allowed' as const, how: 'open O_RDONLY' };
  const inner = {
    ...memoryView({ '/nfs/a.iso': { type: 'file', mode: 0o600 } }),
    kernelAccess: () => ({ kind: 'ok' as const, value: allowed }),
    readBytesAs: () => ({ kind: 'ok' as const, value: new Uint8Array([81, 70, 73, 0, 0]) }),
  };

  it('replays the same answers for the same identity (groups as a set), and misses for another', () => {
    const rec = createRecordingView(inner);
    rec.view.kernelAccess!(ask);
    rec.view.readBytesAs!(ask, '/nfs/a.iso', 0, 5);
    const facts = parseFacts(serializeFacts({ ...sample, view: rec.calls() }));
    expect(facts.ok).toBe(true);
    if (!facts.ok) return;
    const replay = createSnapshotView(facts.value.view);
    expect(replay.view.kernelAccess!({ ...ask, groups: [107, 64055] })).toEqual({ kind: 'ok', value: allowed });
    expect(replay.view.readBytesAs!(ask, '/nfs/a.iso', 0, 5)).toEqual({ kind: 'ok', value: new Uint8Array([81, 70, 73, 0, 0]) });
    expect(replay.view.kernelAccess!({ ...ask, uid: 1000 })).toMatchObject({ kind: 'unknown', why: expect.stringContaining('not in the snapshot: kernelAccess /nfs/a.iso (read as uid 1000)') });
  });

  it('replays lookups asked as QEMU where root was refused (lstatAs, readlinkAs), per identity', () => {
    const rec = createRecordingView({
      ...inner,
      lstatAs: () => ({ kind: 'ok' as const, value: { type: 'symlink' as const, mode: 0o777, uid: 64055, gid: 107 } }),
      readlinkAs: () => ({ kind: 'ok' as const, value: 'a.iso' }),
    });
    rec.view.lstatAs!(ask, '/nfs/grp/l');
    rec.view.readlinkAs!(ask, '/nfs/grp/l');
    const facts = parseFacts(serializeFacts({ ...sample, view: rec.calls() }));
    expect(facts.ok).toBe(true);
    if (!facts.ok) return;
    const replay = createSnapshotView(facts.value.view);
    expect(replay.view.lstatAs!({ ...ask, groups: [107, 64055] }, '/nfs/grp/l')).toEqual({ kind: 'ok', value: { type: 'symlink', mode: 0o777, uid: 64055, gid: 107 } });
    expect(replay.view.readlinkAs!(ask, '/nfs/grp/l')).toEqual({ kind: 'ok', value: 'a.iso' });
    expect(replay.view.lstatAs!({ ...ask, uid: 0 }, '/nfs/grp/l')).toMatchObject({ kind: 'unknown', why: expect.stringContaining('not in the snapshot: lstatAs /nfs/grp/l (as uid 0)') });
  });

  it('refuses a recorded answer that is not one', () => {
    const rec = createRecordingView(inner);
    rec.view.kernelAccess!(ask);
    const good = JSON.parse(serializeFacts({ ...sample, view: rec.calls() })) as { view: Record<string, unknown>[] };
    const bad = [
      (c: Record<string, unknown>) => (c.ask = 'write'),
      (c: Record<string, unknown>) => (c.answer = { kind: 'ok', value: { kind: 'denied', errno: 'EACCES', at: '/nfs', step: 'guess' } }),
      (c: Record<string, unknown>) => (c.groups = [-1]),
      (c: Record<string, unknown>) => delete c.uid,
    ];
    for (const mutate of bad) {
      const o = structuredClone(good);
      mutate(o.view[0]!);
      expect(parseFacts(JSON.stringify(o)).ok).toBe(false);
    }
  });
});
