/**
 * --apply: carries out the plan's actions through an effects interface (live: adapters/live/doctor-effects.ts),
 * the way libvirt's own stop would have: open the file without following links, check it is the inode the
 * plan saw, take libvirt's metadata lock (fcntl write lock on byte 1), re-read the records under it and go on
 * only if they are byte for byte what was planned, remove ref_, the label and timestamp_ (libvirt's order,
 * virSecurityGetRememberedLabel), then give back the owner or label if the file still has the one libvirt set.
 * Each action reports exactly what it changed; a failure leaves the other actions to run.
 */
import type { Model } from '../decide/types.js';
import { recordNames, type RawRecord } from './records.js';
import type { Action, Owner } from './verdict.js';

export type Held<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

export interface HeldFile {
  readonly uid: number;
  readonly gid: number;
  readonly dev: number;
  readonly ino: number;
}

export interface DoctorEffects<H, L = unknown> {
  /** The realpath, walked component by component without following any link. */
  open(realPath: string): Held<H>;
  stat(h: H): Held<HeldFile>;
  /** libvirt's metadata lock: F_SETLK F_WRLCK on byte 1 of the file, retried as libvirt does. */
  lock(h: H): Promise<Held<L>>;
  unlock(lock: L): Promise<void>;
  readRecord(h: H, model: Model): Held<RawRecord>;
  readLabel(h: H): Held<string | null>;
  removeAttr(h: H, name: string): Held<void>;
  chown(h: H, owner: Owner): Held<void>;
  setLabel(h: H, label: string): Held<void>;
  close(h: H): void;
}

export interface ActionOutcome {
  readonly action: Action;
  readonly status: 'applied' | 'skipped' | 'failed';
  /** What changed, one sentence each, in order. */
  readonly changed: readonly string[];
  readonly why?: string;
}

const own = (o: Owner) => `${o.uid}:${o.gid}`;
const hex = (a: RawRecord[keyof RawRecord]) => (a.kind === 'value' ? Buffer.from(a.bytes.buffer, a.bytes.byteOffset, a.bytes.length).toString('hex') : a.kind === 'absent' ? null : `error:${a.errno}`);

async function applyOne<H, L>(action: Action, fx: DoctorEffects<H, L>): Promise<ActionOutcome> {
  const changed: string[] = [];
  const out = (status: ActionOutcome['status'], why?: string): ActionOutcome => ({ action, status, changed, ...(why ? { why } : {}) });
  const h = fx.open(action.realPath);
  if (!h.ok) return out('failed', h.why);
  try {
    const st = fx.stat(h.value);
    if (!st.ok) return out('failed', st.why);
    if (st.value.dev !== action.dev || st.value.ino !== action.ino) return out('skipped', 'the path names another file than the one planned');
    const lock = await fx.lock(h.value);
    if (!lock.ok) return out('failed', lock.why);
    try {
      return underLock(action, fx, h.value, st.value, changed, out);
    } finally {
      await fx.unlock(lock.value);
    }
  } finally {
    fx.close(h.value);
  }
}

function underLock<H, L>(
  action: Action,
  fx: DoctorEffects<H, L>,
  h: H,
  st: HeldFile,
  changed: string[],
  out: (status: ActionOutcome['status'], why?: string) => ActionOutcome,
): ActionOutcome {
  if (action.kind === 'set-owner') {
    if (st.uid !== action.from.uid || st.gid !== action.from.gid) return out('skipped', `its owner is now ${st.uid}:${st.gid}, not ${own(action.from)}`);
    const r = fx.chown(h, action.to);
    if (!r.ok) return out('failed', r.why);
    changed.push(`owner ${own(action.from)} → ${own(action.to)}`);
    return out('applied');
  }
  if (action.kind === 'set-label') {
    const now = fx.readLabel(h);
    if (!now.ok) return out('failed', now.why);
    if (now.value !== action.from) return out('skipped', `its label is now ${now.value ?? '(none)'}, not ${action.from}`);
    const r = fx.setLabel(h, action.to);
    if (!r.ok) return out('failed', r.why);
    changed.push(`label ${action.from} → ${action.to}`);
    return out('applied');
  }
  const names = recordNames(action.model);
  const rec = fx.readRecord(h, action.model);
  if (!rec.ok) return out('failed', rec.why);
  const now = { [names.ref]: hex(rec.value.ref), [names.label]: hex(rec.value.label), [names.stamp]: hex(rec.value.stamp) };
  for (const [name, want] of Object.entries(action.expect))
    if (now[name] !== want) return out('skipped', `${name} changed since the plan (a domain started or stopped meanwhile); run doctor again`);
  // The owner/label check before anything is removed: a restore that would not run must not lose the record half way.
  let restore = action.restore;
  let keptWhy: string | undefined;
  if (restore && action.from) {
    if ('owner' in action.from) {
      if (st.uid !== action.from.owner.uid || st.gid !== action.from.owner.gid) {
        keptWhy = `its owner is now ${st.uid}:${st.gid}, not ${own(action.from.owner)}`;
        restore = undefined;
      }
    } else {
      const label = fx.readLabel(h);
      if (!label.ok) return out('failed', label.why);
      if (label.value !== action.from.label) {
        keptWhy = `its label is now ${label.value ?? '(none)'}, not ${action.from.label}`;
        restore = undefined;
      }
    }
  }
  for (const name of [names.ref, names.label, names.stamp]) {
    if (now[name] === null) continue;
    const r = fx.removeAttr(h, name);
    if (!r.ok) return out('failed', `removing ${name}: ${r.why}`);
    changed.push(`removed ${name}`);
  }
  if (restore) {
    if ('owner' in restore) {
      const r = fx.chown(h, restore.owner);
      if (!r.ok) return out('failed', `chown to ${own(restore.owner)}: ${r.why}`);
      changed.push(`owner ${st.uid}:${st.gid} → ${own(restore.owner)}`);
    } else {
      const r = fx.setLabel(h, restore.label);
      if (!r.ok) return out('failed', `setting the label ${restore.label}: ${r.why}`);
      changed.push(`label ${action.from && 'label' in action.from ? action.from.label : '?'} → ${restore.label}`);
    }
  }
  return out('applied', keptWhy ? `not given back: ${keptWhy}` : undefined);
}

/** Runs every action in order; one failing never stops the next. */
export async function applyActions<H, L>(actions: readonly Action[], fx: DoctorEffects<H, L>): Promise<ActionOutcome[]> {
  const outcomes: ActionOutcome[] = [];
  for (const a of actions) {
    try {
      outcomes.push(await applyOne(a, fx));
    } catch (e) {
      outcomes.push({ action: a, status: 'failed', changed: [], why: e instanceof Error ? e.message : String(e) });
    }
  }
  return outcomes;
}
