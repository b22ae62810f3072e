/**
 * The record decoder against libvirt 9.0's readers: virStrToLong_ui for the count, virParseOwnershipIds
 * for a DAC label, the C-string view of a value (up to its first NUL), and hostile values.
 */
import { describe, expect, it } from 'vitest';
import { cValue, decodeRecord, noRecord, plausibleContext, recordNames, showValue, type RawAttr } from '../../src/doctor/records.js';
import { parseOwnershipIds as parseDacLabel, resolveOwnerId, strToUint } from '../../src/dac/ownership.js';

const v = (s: string | Uint8Array): RawAttr => ({ kind: 'value', bytes: typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'latin1')) : s });
const absent: RawAttr = { kind: 'absent' };

describe('record names', () => {
  it('are libvirt\'s three per model', () => {
    expect(recordNames('dac')).toEqual({ label: 'trusted.libvirt.security.dac', ref: 'trusted.libvirt.security.ref_dac', stamp: 'trusted.libvirt.security.timestamp_dac' });
    expect(recordNames('selinux').stamp).toBe('trusted.libvirt.security.timestamp_selinux');
  });
});

describe('strToUint (virStrToLong_ui, base 10, whole string)', () => {
  it.each([
    ['1', 1],
    ['0', 0],
    ['  7', 7],
    ['\t\n 12', 12],
    ['+3', 3],
    ['4294967295', 4294967295],
    ['-1', 4294967295],
    ['-4294967295', 1],
    ['-0', 0],
    ['007', 7],
  ])('%j reads as %d', (s, n) => expect(strToUint(s)).toEqual({ ok: true, value: n }));

  it.each([
    ['', 'no digits'],
    ['abc', 'no digits'],
    ['-', 'no digits'],
    ['1 ', 'trailing characters'],
    ['1x', 'trailing characters'],
    ['0x10', 'trailing characters'],
    ['1.5', 'trailing characters'],
    ['4294967296', 'out of range'],
    ['-4294967296', 'out of range'],
    ['18446744073709551616', 'out of range'],
    ['99999999999999999999999999999999', 'out of range'],
    ['+-1', 'no digits'],
  ])('%j is malformed (%s)', (s, why) => expect(strToUint(s)).toEqual({ ok: false, error: why }));
});

describe('values as C strings', () => {
  it('stop at the first NUL and say so', () => {
    const c = cValue(new Uint8Array([0x31, 0x00, 0x39, 0x39]));
    expect(c).toEqual({ text: '1', hadNul: true, hex: '31003939' });
    expect(showValue(c)).toBe('"1" (stored bytes 0x31003939; libvirt reads up to the NUL)');
  });
  it('are shown safely: control characters escaped (C0 and C1), a huge value cut with its length said', () => {
    expect(showValue(cValue(new Uint8Array([0x1b, 0x5b, 0x32, 0x4a, 0x9b, 0x41])))).toBe('"\\u001b[2J\\u009bA"');
    const huge = showValue(cValue(new Uint8Array(65536).fill(0x31)));
    expect(huge.length).toBeLessThan(600);
    expect(huge).toContain('(… 65536 bytes in all)');
  });
  it('keep every byte of a non-UTF-8 value', () => {
    expect(cValue(new Uint8Array([0xff, 0x41])).text).toBe('\u00ffA');
  });
  it('a count with a NUL after the digits reads as the digits, as libvirt does', () => {
    const r = decodeRecord('dac', { label: v('+1:+1'), ref: v(new Uint8Array([0x32, 0, 0x78])), stamp: v('5') });
    expect(r.count).toEqual({ ok: true, value: 2 });
  });
  it('an empty count is malformed', () => {
    expect(decodeRecord('dac', { label: absent, ref: v(''), stamp: absent }).count).toEqual({ ok: false, error: 'no digits' });
  });
  it('no attribute at all is no record; any one attribute is a record', () => {
    expect(noRecord(decodeRecord('dac', { label: absent, ref: absent, stamp: absent }))).toBe(true);
    expect(noRecord(decodeRecord('dac', { label: absent, ref: absent, stamp: v('1') }))).toBe(false);
  });
});

describe('DAC labels (virParseOwnershipIds)', () => {
  it('+uid:+gid', () => {
    expect(parseDacLabel('+4242:+4242')).toEqual({ ok: true, value: { user: { kind: 'id', id: 4242 }, group: { kind: 'id', id: 4242 } } });
  });
  it('splits at the first colon: the group part keeps the rest and fails as a number', () => {
    expect(parseDacLabel('+1:+2:+3')).toEqual({ ok: false, error: "Failed to parse group '+2:+3'" });
  });
  it('no colon is libvirt\'s own error', () => {
    expect(parseDacLabel('+4242')).toEqual({ ok: false, error: "Failed to parse uid and gid from '+4242'" });
  });
  it('names are looked up first, then read as numbers', () => {
    const p = parseDacLabel('alice:7');
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(resolveOwnerId(p.value.user, (n) => (n === 'alice' ? 1000 : undefined))).toEqual({ ok: true, value: 1000 });
    expect(resolveOwnerId(p.value.group, () => undefined)).toEqual({ ok: true, value: 7 });
    expect(resolveOwnerId({ kind: 'name', name: 'nobody-here' }, () => undefined).ok).toBe(false);
  });
  it.each(['+:+1', '+1:', ':', '+abc:+1', '+1:+99999999999', '+ 1x:+1'])('%j fails', (s) => expect(parseDacLabel(s).ok).toBe(false));
  it('+-1 is (uid_t)-1, which chown reads as "leave unchanged"', () => {
    expect(parseDacLabel('+-1:+0')).toEqual({ ok: true, value: { user: { kind: 'id', id: 4294967295 }, group: { kind: 'id', id: 0 } } });
  });
});

describe('plausible contexts (only before writing one)', () => {
  it.each(['system_u:object_r:virt_image_t:s0', 'system_u:object_r:svirt_image_t:s0:c1,c2', 'u:r:t', 'system_u:object_r:x_t:s0-s15:c0.c1023'])('%s is one', (c) => expect(plausibleContext(c)).toBe(true));
  it.each(['', 'virt_image_t', 'a:b', 'a b:c:d', 'a:b:c\n', 'a:b:c:s0;rm'])('%j is not', (c) => expect(plausibleContext(c)).toBe(false));
});
