/** libvirt's boot stamp: utmp BOOT_TIME first, else llround(floor(now_ms / 1000) − uptime), as %llu. */
import { describe, expect, it } from 'vitest';
import { computeBootStamp, llround, utmpBootTime, UTMP_RECORD } from '../../src/doctor/boot-stamp.js';

function utmp(records: { type: number; sec: number }[]): Uint8Array {
  const b = Buffer.alloc(UTMP_RECORD * records.length);
  records.forEach((r, i) => {
    b.writeInt16LE(r.type, i * UTMP_RECORD);
    b.writeInt32LE(r.sec, i * UTMP_RECORD + 340);
  });
  return new Uint8Array(b);
}

describe('boot stamp', () => {
  it('takes the first BOOT_TIME record of utmp', () => {
    const u = utmp([{ type: 1, sec: 5 }, { type: 2, sec: 1700000000 }, { type: 2, sec: 1800000000 }]);
    expect(utmpBootTime(u)).toBe(1700000000);
    expect(computeBootStamp({ utmp: u, nowMs: 0, uptime: undefined })).toEqual({ ok: true, value: { value: '1700000000', source: 'utmp' } });
  });
  it('falls back to /proc/uptime without a BOOT_TIME record, or with one of 0', () => {
    for (const u of [undefined, utmp([{ type: 7, sec: 9 }]), utmp([{ type: 2, sec: 0 }]), new Uint8Array(100)])
      expect(computeBootStamp({ utmp: u, nowMs: 1_796_480_000_999, uptime: '3833.40 7000.00\n' })).toEqual({ ok: true, value: { value: '1796476167', source: 'uptime' } });
  });
  it('divides now_ms by 1000 as integers before subtracting, then rounds halves away from zero', () => {
    expect(computeBootStamp({ utmp: undefined, nowMs: 10_999, uptime: '4.5 1' })).toEqual({ ok: true, value: { value: '6', source: 'uptime' } });
    expect(computeBootStamp({ utmp: undefined, nowMs: 10_000, uptime: '4.49 1' })).toEqual({ ok: true, value: { value: '6', source: 'uptime' } });
    expect(llround(-2.5)).toBe(-3);
    expect(llround(2.5)).toBe(3);
  });
  it('fails as libvirt does when the uptime cannot be read', () => {
    expect(computeBootStamp({ utmp: undefined, nowMs: 1, uptime: undefined }).ok).toBe(false);
    expect(computeBootStamp({ utmp: undefined, nowMs: 1, uptime: 'garbage' }).ok).toBe(false);
  });
  it('equals /proc/stat btime on this host, as libvirt\'s records here did', async () => {
    const { readFileSync } = await import('node:fs');
    const btime = /^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    const s = computeBootStamp({ utmp: undefined, nowMs: Date.now(), uptime: readFileSync('/proc/uptime', 'utf8') });
    expect(s.ok).toBe(true);
    if (s.ok) expect(Math.abs(Number(s.value.value) - Number(btime))).toBeLessThanOrEqual(1);
  });
});
