/**
 * A fake selinuxfs for live-mode tests: a temp dir laid out like /sys/fs/selinux (class/<c>/index,
 * class/<c>/perms/<p>, booleans/<b> as "cur pending", enforce, mls, policyvers, policy), with class and
 * permission numbers taken from libsepol's view of a real binary policy. The transaction nodes
 * (access, context) cannot be plain files: they are answered by the policy engine on that policy under
 * the fake kernel's current booleans, in the kernel's reply format.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeAccess } from '../../src/selinux/access.js';
import type { TransactionNode, TransactionResult } from '../../src/selinux/selinuxfs.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import type { Policy } from '../../src/selinux/policy/model.js';
import { listSepol } from './reference/sepol.js';

export interface FakeSelinuxfs {
  readonly root: string;
  /** Class names by the index the fake kernel gives them (libsepol's class values). */
  readonly classes: ReadonlyMap<string, readonly string[]>;
  /** The fake kernel's current boolean values (may differ from the policy file's defaults). */
  readonly current: Record<string, boolean>;
  /** Every transaction the code under test made, for assertions on which path answered. */
  readonly transactions: { node: TransactionNode; request: string }[];
  transact(node: TransactionNode, request: string): TransactionResult;
  cleanup(): void;
}

export function makeFakeSelinuxfs(policyPath: string, opts: { current?: Record<string, boolean>; enforcing?: boolean } = {}): FakeSelinuxfs {
  const root = mkdtempSync(join(tmpdir(), 'fake-selinuxfs-'));
  const loaded = loadPolicy(readFileSync(policyPath));
  if (!loaded.ok) throw new Error(`fake selinuxfs: ${loaded.error.message}`);
  const policy: Policy = loaded.value;

  const classes = new Map<string, string[]>();
  const classByIndex = new Map<number, string>();
  listSepol(policyPath, 'classes').forEach(([name, perms], i) => {
    const c = name ?? '';
    const list = perms ? perms.split(',') : [];
    classes.set(c, list);
    classByIndex.set(i + 1, c);
    mkdirSync(join(root, 'class', c, 'perms'), { recursive: true });
    writeFileSync(join(root, 'class', c, 'index'), `${i + 1}`);
    list.forEach((p, j) => writeFileSync(join(root, 'class', c, 'perms', p), `${j + 1}`));
  });

  const current: Record<string, boolean> = {};
  mkdirSync(join(root, 'booleans'));
  for (const [name, dflt] of listSepol(policyPath, 'booleans')) {
    const value = opts.current?.[name ?? ''] ?? dflt === '1';
    current[name ?? ''] = value;
    writeFileSync(join(root, 'booleans', name ?? ''), `${value ? 1 : 0} ${value ? 1 : 0}`);
  }
  writeFileSync(join(root, 'enforce'), opts.enforcing === false ? '0' : '1');
  writeFileSync(join(root, 'mls'), listSepol(policyPath, 'mls')[0]?.[0] ?? '0');
  writeFileSync(join(root, 'policyvers'), '33');
  copyFileSync(policyPath, join(root, 'policy'));

  const transactions: { node: TransactionNode; request: string }[] = [];
  let seqno = 1;
  const transact = (node: TransactionNode, request: string): TransactionResult => {
    transactions.push({ node, request });
    if (node === 'context') {
      const ctx = request.replace(/\0$/, '');
      const r = computeAccess(policy, { scontext: ctx, tcontext: ctx, tclass: 'process', perms: ['fork'] });
      return r.ok || !/invalid [st]context/.test(r.error) ? { ok: true, reply: `${ctx}\0` } : { ok: false, error: 'EINVAL: Invalid argument' };
    }
    const m = /^(\S+) (\S+) (\d+)$/.exec(request);
    const tclass = m ? classByIndex.get(Number(m[3])) : undefined;
    if (!m || tclass === undefined) return { ok: false, error: 'EINVAL: Invalid argument' };
    const perms = classes.get(tclass) ?? [];
    const r = computeAccess(policy, { scontext: m[1]!, tcontext: m[2]!, tclass, perms, booleans: current });
    if (!r.ok) return { ok: false, error: 'EINVAL: Invalid argument' };
    let allowed = 0;
    perms.forEach((p, j) => {
      if (r.granted.includes(p)) allowed |= 1 << j;
    });
    const hex = (n: number) => (n >>> 0).toString(16);
    return { ok: true, reply: `${hex(allowed)} ffffffff 0 ffffffff ${seqno++} ${r.permissive ? 1 : 0}` };
  };

  return { root, classes, current, transactions, transact, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
