/**
 * The boot stamp libvirt writes into `timestamp_<model>` and compares records against
 * (virHostGetBootTime, src/util/virhostuptime.c; docs/libvirt-remembered-labels.md §2): the utmp
 * BOOT_TIME record's seconds when there is one, else llround(floor(now_ms / 1000) − uptime) with uptime
 * the first field of /proc/uptime, formatted as %llu. Pure: the bytes and the clock come from the caller.
 */
import { failure, success, type Result } from '../result.js';

/** x86_64 glibc `struct utmp`: 384 bytes, ut_type int16 at 0, ut_tv.tv_sec int32 at 340. */
export const UTMP_RECORD = 384;
const UT_TYPE = 0;
const UT_TV_SEC = 340;
export const BOOT_TIME = 2;

/** getutxid(BOOT_TIME): the first record of that type, its tv_sec; undefined when there is none. */
export function utmpBootTime(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off + UTMP_RECORD <= bytes.length; off += UTMP_RECORD) {
    if (view.getInt16(off + UT_TYPE, true) === BOOT_TIME) return view.getInt32(off + UT_TV_SEC, true);
  }
  return undefined;
}

/** C's llround: halves away from zero. */
export const llround = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

export interface BootStampInputs {
  /** /var/run/utmp's bytes; undefined when it does not exist or cannot be read (libvirt then falls back). */
  readonly utmp: Uint8Array | undefined;
  /** Wall clock in milliseconds. */
  readonly nowMs: number;
  /** /proc/uptime's text; undefined when unreadable. */
  readonly uptime: string | undefined;
}

export interface BootStamp {
  readonly value: string;
  readonly source: 'utmp' | 'uptime';
}

/** The stamp a libvirt daemon started now on this host would use. */
export function computeBootStamp(inp: BootStampInputs): Result<BootStamp, string> {
  const fromUtmp = inp.utmp ? utmpBootTime(inp.utmp) : undefined;
  // libvirt treats a BOOT_TIME of 0 like no entry.
  if (fromUtmp !== undefined && fromUtmp !== 0) return success({ value: BigInt.asUintN(64, BigInt(fromUtmp)).toString(), source: 'utmp' });
  if (inp.uptime === undefined) return failure('Unable to get host boot time: /proc/uptime is unreadable');
  const first = /^\s*([0-9]+(?:\.[0-9]*)?)/.exec(inp.uptime)?.[1];
  if (first === undefined) return failure(`Unable to get host boot time: /proc/uptime says ${JSON.stringify(inp.uptime.slice(0, 40))}`);
  const stamp = llround(Math.floor(inp.nowMs / 1000) - Number(first));
  return success({ value: BigInt.asUintN(64, BigInt(stamp)).toString(), source: 'uptime' });
}
