import { contextInvalidity, type ContextTables } from './context-valid.js';
import { readRange } from './mls-read.js';
import type { ContextStruct, Genfs, GenfsEntry, OContext } from './model.js';
import type { ByteReader } from './reader.js';

/** A context as stored in the policy: user, role, type values and (always, for kernel policies) a range. */
export function readContext(r: ByteReader, t: ContextTables, mls: boolean): ContextStruct {
  const at = r.offset;
  const user = r.u32('context user');
  const role = r.u32('context role');
  const type = r.u32('context type');
  const range = readRange(r);
  const ctx = { user, role, type, range };
  const why = contextInvalidity(t, mls, ctx);
  if (why !== undefined) r.fail(`invalid security context: ${why}`, at);
  return ctx;
}

const KINDS = ['isid', 'fs', 'port', 'netif', 'node', 'fsuse', 'node6', 'ibpkey', 'ibendport'] as const;
const MIN_CONTEXT_BYTES = 12 + 8 + 12;

/** The object-context lists: 7 kinds before version 31, 9 (Infiniband) from 31 on. */
export function readOContexts(r: ByteReader, t: ContextTables, mls: boolean, version: number): OContext[] {
  const kinds = version >= 31 ? 9 : 7;
  const out: OContext[] = [];
  for (let k = 0; k < kinds; k++) {
    const kind = KINDS[k]!;
    r.section = `object contexts (${kind})`;
    const n = r.count(`${kind} context`, MIN_CONTEXT_BYTES);
    for (let i = 0; i < n; i++) {
      const at = r.offset;
      switch (kind) {
        case 'isid': {
          const sid = r.u32('initial SID');
          if (sid === 0xffffffff) r.fail('initial SID number is saturated', at);
          out.push({ kind, key: { sid }, context: readContext(r, t, mls) });
          break;
        }
        case 'fs':
        case 'netif': {
          const len = r.u32('name length');
          if (len > 63) r.fail(`${kind} name is ${len} bytes long (at most 63)`, at);
          const name = r.name(len, `${kind} name`);
          out.push({ kind, key: { name }, context: readContext(r, t, mls), context2: readContext(r, t, mls) });
          break;
        }
        case 'port': {
          const protocol = r.u32('port protocol');
          const low = r.u32('low port');
          const high = r.u32('high port');
          out.push({ kind, key: { protocol, low, high }, context: readContext(r, t, mls) });
          break;
        }
        case 'node': {
          const addr = r.u32('node address');
          const mask = r.u32('node mask');
          out.push({ kind, key: { addr, mask }, context: readContext(r, t, mls) });
          break;
        }
        case 'fsuse': {
          const behavior = r.u32('fs_use behaviour');
          const name = r.name(r.u32('fs_use name length'), 'fs_use name');
          out.push({ kind, key: { behavior, name }, context: readContext(r, t, mls) });
          break;
        }
        case 'node6': {
          const words: number[] = [];
          for (let w = 0; w < 8; w++) words.push(r.u32('node6 address/mask'));
          out.push({ kind, key: { addr: hex(words.slice(0, 4)), mask: hex(words.slice(4)) }, context: readContext(r, t, mls) });
          break;
        }
        case 'ibpkey': {
          const p0 = r.u32('subnet prefix');
          const p1 = r.u32('subnet prefix');
          const low = r.u32('low pkey');
          const high = r.u32('high pkey');
          if (low > 0xffff || high > 0xffff) r.fail('Infiniband pkey above 65535', at);
          out.push({ kind, key: { subnetPrefix: hex([p0, p1]), low, high }, context: readContext(r, t, mls) });
          break;
        }
        case 'ibendport': {
          const len = r.u32('device name length');
          const port = r.u32('port');
          if (len === 0 || len > 63) r.fail(`Infiniband device name length ${len} outside 1..63`, at);
          if (port === 0 || port > 255) r.fail(`Infiniband port ${port} outside 1..255`, at);
          const device = r.name(len, 'device name');
          out.push({ kind, key: { device, port }, context: readContext(r, t, mls) });
          break;
        }
      }
    }
  }
  return out;
}

function hex(words: number[]): string {
  return words.map((w) => w.toString(16).padStart(8, '0')).join('');
}

/** genfscon entries, grouped by filesystem type; duplicates are refused as libsepol's genfs_read does. */
export function readGenfs(r: ByteReader, t: ContextTables, mls: boolean): Genfs[] {
  r.section = 'genfs';
  const n = r.count('genfs filesystem', 8);
  const out: Genfs[] = [];
  const fstypes = new Set<string>();
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const fstype = r.name(r.u32('genfs fstype length'), 'genfs fstype');
    if (fstypes.has(fstype)) r.fail(`duplicate genfs entry for ${fstype}`, at);
    fstypes.add(fstype);
    const m = r.count('genfs path', 8 + MIN_CONTEXT_BYTES);
    const entries: GenfsEntry[] = [];
    const classesByPath = new Map<string, Set<number>>(); // sets, so hostile counts stay linear
    for (let j = 0; j < m; j++) {
      const eat = r.offset;
      const path = r.name(r.u32('genfs path length'), 'genfs path');
      const sclass = r.u32('genfs class');
      const context = readContext(r, t, mls);
      const classes = classesByPath.get(path) ?? new Set<number>();
      if (classes.has(0) || classes.has(sclass) || (sclass === 0 && classes.size > 0)) {
        r.fail(`duplicate genfs entry ${fstype} ${path}`, eat);
      }
      classes.add(sclass);
      classesByPath.set(path, classes);
      entries.push({ path, sclass, context });
    }
    out.push({ fstype, entries });
  }
  return out;
}
