/**
 * libvirt's remembered-label records (`trusted.libvirt.security.*`, docs/libvirt-remembered-labels.md §1),
 * decoded exactly as libvirt 9.0 reads them: every value is the C string before its first NUL
 * (virFileGetXAttrQuiet NUL-terminates what getxattr returned), the count goes through
 * virStrToLong_ui (strtoul, base 10, whole string, "-N" wraps to UINT_MAX+1-N), a DAC label through
 * virParseOwnershipIds (split at the first ':', a leading '+' forces a number), and the boot stamp is
 * compared as an exact string (STREQ_NULLABLE). Pure: the bytes come from an adapter.
 */
import type { Model } from '../decide/types.js';
import { strToUint } from '../dac/ownership.js';
import type { Result } from '../result.js';


export const RECORD_PREFIX = 'trusted.libvirt.security.';

export interface RecordNames {
  readonly label: string;
  readonly ref: string;
  readonly stamp: string;
}

/** virSecurityGetAttrName, …GetRefCountAttrName, …GetTimestampAttrName. */
export function recordNames(model: Model): RecordNames {
  return { label: `${RECORD_PREFIX}${model}`, ref: `${RECORD_PREFIX}ref_${model}`, stamp: `${RECORD_PREFIX}timestamp_${model}` };
}

/** One xattr as read: its bytes, proven absent (ENODATA), or an errno the reader could not get past. */
export type RawAttr =
  | { readonly kind: 'value'; readonly bytes: Uint8Array }
  | { readonly kind: 'absent' }
  | { readonly kind: 'error'; readonly errno: string };

export interface RawRecord {
  readonly label: RawAttr;
  readonly ref: RawAttr;
  readonly stamp: RawAttr;
}

/** How reading one file's records went: the three attributes, or why there are none to read. */
export type RecordRead =
  | { readonly kind: 'read'; readonly raw: Readonly<Record<Model, RawRecord>> }
  /** The filesystem has no (trusted) xattrs: getxattr says ENOTSUP/ENOSYS, libvirt skips remembering. */
  | { readonly kind: 'unsupported'; readonly errno: string }
  | { readonly kind: 'error'; readonly why: string };

/** A value as libvirt sees it: the bytes before the first NUL. `hadNul` says the stored value went on. */
export interface CValue {
  readonly text: string;
  readonly hadNul: boolean;
  /** The stored bytes as hex, for reports of hostile values. */
  readonly hex: string;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

export function cValue(bytes: Uint8Array): CValue {
  const nul = bytes.indexOf(0);
  const kept = nul < 0 ? bytes : bytes.subarray(0, nul);
  // latin1 keeps every byte as one code unit: nothing libvirt compares byte-wise is merged or lost.
  return { text: Buffer.from(kept.buffer, kept.byteOffset, kept.length).toString('latin1'), hadNul: nul >= 0, hex: hex(bytes) };
}

/** (uid_t)-1 / (gid_t)-1: chown(2) reads it as "leave unchanged"; a record holding it restores nothing. */
export const NO_CHANGE_ID = 0xffffffff;

/**
 * A context setfilecon would take as a label: user:role:type[:level], printable ASCII, no spaces. Used
 * before writing one, never to decide staleness (libvirt compares contexts as plain strings).
 */
export function plausibleContext(label: string): boolean {
  return /^[A-Za-z0-9_.]+:[A-Za-z0-9_.]+:[A-Za-z0-9_.]+(:[A-Za-z0-9_.,:-]+)?$/.test(label) && label.length <= 4096;
}

/** One attribute decoded: absent, a C string, or an errno. */
export type Decoded = { readonly kind: 'absent' } | { readonly kind: 'value'; readonly value: CValue } | { readonly kind: 'error'; readonly errno: string };

const decode = (a: RawAttr): Decoded => (a.kind === 'value' ? { kind: 'value', value: cValue(a.bytes) } : a.kind === 'absent' ? { kind: 'absent' } : a);

export interface DecodedRecord {
  readonly model: Model;
  readonly label: Decoded;
  readonly ref: Decoded;
  readonly stamp: Decoded;
  /** The count as virStrToLong_ui reads it; undefined when ref_ is absent, an error otherwise. */
  readonly count: Result<number, string> | undefined;
}

export function decodeRecord(model: Model, raw: RawRecord): DecodedRecord {
  const ref = decode(raw.ref);
  return {
    model,
    label: decode(raw.label),
    ref,
    stamp: decode(raw.stamp),
    count: ref.kind === 'value' ? strToUint(ref.value.text) : undefined,
  };
}

/** Every attribute absent: libvirt has no record for this model. */
export const noRecord = (r: DecodedRecord) => r.label.kind === 'absent' && r.ref.kind === 'absent' && r.stamp.kind === 'absent';

/** How a value is shown: the text (quoted as JSON would) and, when it had a NUL, the full stored bytes. */
export function showValue(v: CValue): string {
  // JSON escapes C0 controls; C1 controls (a terminal may take 0x9b for CSI) are escaped too, and a
  // value longer than anything libvirt writes is cut (the length is said).
  const cut = v.text.length > SHOW_MAX ? v.text.slice(0, SHOW_MAX) : v.text;
  const text = JSON.stringify(cut).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const more = cut.length < v.text.length ? ` (… ${v.text.length} bytes in all)` : '';
  const hexShown = v.hex.length > SHOW_MAX * 2 ? `${v.hex.slice(0, SHOW_MAX * 2)}…` : v.hex;
  return v.hadNul ? `${text}${more} (stored bytes 0x${hexShown}; libvirt reads up to the NUL)` : `${text}${more}`;
}

/** A value inside one of libvirt's messages: as libvirt prints it, but escaped for a terminal and cut. */
export function safeText(t: string): string {
  const cut = t.length > SHOW_MAX ? `${t.slice(0, SHOW_MAX)}…` : t;
  return JSON.stringify(cut).slice(1, -1).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Longest value shown whole: a DAC label is at most 23 characters, an SELinux context a few hundred. */
const SHOW_MAX = 512;
