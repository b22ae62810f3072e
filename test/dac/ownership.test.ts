/** One owner reader for the qemu identity and the doctor: libvirt's virParseOwnershipIds, and identity.ts's stricter rule on top. */
import { describe, expect, it } from 'vitest';
import { parseDacLabel, parseUserSpec } from '../../src/dac/identity.js';
import { parseOwnershipIds, resolveOwnership } from '../../src/dac/ownership.js';

const users = (n: string) => ({ qemu: 64055 })[n];
const groups = (n: string) => ({ kvm: 107 })[n];

describe('libvirt owner reading', () => {
  it('resolves names first, numbers second, +N without a lookup; errors name the part', () => {
    expect(resolveOwnership('qemu:kvm', users, groups)).toEqual({ ok: true, value: { uid: 64055, gid: 107 } });
    expect(resolveOwnership('+4242:+4343', users, groups)).toEqual({ ok: true, value: { uid: 4242, gid: 4343 } });
    expect(resolveOwnership('1000:kvm', users, groups)).toEqual({ ok: true, value: { uid: 1000, gid: 107 } });
    expect(resolveOwnership('nobody-here:kvm', users, groups)).toEqual({ ok: false, error: "user: no account named 'nobody-here'" });
    expect(resolveOwnership('qemu', users, groups)).toEqual({ ok: false, error: "Failed to parse uid and gid from 'qemu'" });
  });
  it('the identity takes what libvirt takes, except odd +numbers, with its own messages (the hook logs them)', () => {
    // libvirt reads "+-1" as 4294967295 and "+ 5" as 5 (virStrToLong_ui); the identity leaves them unknown.
    expect(parseOwnershipIds('+-1:+ 5')).toEqual({ ok: true, value: { user: { kind: 'id', id: 4294967295 }, group: { kind: 'id', id: 5 } } });
    expect(parseUserSpec('+-1')).toEqual({ ok: false, error: "'+-1' is not a valid +number id" });
    expect(parseUserSpec('+ 5')).toEqual({ ok: false, error: "'+ 5' is not a valid +number id" });
    expect(parseUserSpec('+')).toEqual({ ok: false, error: "'+' is not a valid +number id" });
    expect(parseUserSpec('+64055')).toEqual({ ok: true, value: { kind: 'number', id: 64055 } });
    expect(parseUserSpec('')).toEqual({ ok: false, error: 'empty user or group' });
    expect(parseUserSpec('a\nb')).toEqual({ ok: false, error: "'a\nb' cannot be a user or group name" });
    expect(parseDacLabel(':kvm')).toEqual({ ok: false, error: "DAC label ':kvm' is not USER:GROUP" });
    expect(parseDacLabel('qemu:')).toEqual({ ok: false, error: "DAC label 'qemu:' is not USER:GROUP" });
    expect(parseDacLabel('qemu:kvm:x')).toEqual({ ok: true, value: { user: 'qemu', group: 'kvm:x' } });
  });
});
