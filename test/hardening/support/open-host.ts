/**
 * Hosts on which every disk file a domain names is accessible to both engines, so the decisions that
 * remain "keep" are the ones the rules (not the files) forbid, and the invariants have something to bite
 * on. Files are 0666 and labelled svirt_image_t:s0 or public_content_t:s0 (readable by any svirt process,
 * the first also writable); directories are 0755 var_t. The policy is Debian's real one.
 *
 * One host context (and so one policy load) serves thousands of documents: the tree behind the view is
 * swapped per document (`setTree`), the context only ever sees the HostView interface.
 */
import { createHostContext, type HostContext } from '../../../src/app/host-context.js';
import type { HostOptions } from '../../../src/app/host-options.js';
import { unknown, type HostView } from '../../../src/host/view.js';
import { parseXml } from '../../../src/xml/parse.js';
import type { XmlElement } from '../../../src/xml/tree.js';
import { DEBIAN_POLICY, GROUP, PASSWD, hostOptions, withRealPolicy } from '../../cli/harness.js';
import { qcow2 } from '../../images/builders.js';
import { memoryView, type MemoryNode } from '../../support/memory-view.js';

export const L = (t: string, level = 's0') => `system_u:object_r:${t}:${level}`;

/** Absolute, normalised (no `.`, `..`, `//`, trailing `/`), NUL-free: what memoryView takes as a key. */
export function isPlainAbsolute(p: string): boolean {
  return p.startsWith('/') && p.length > 1 && !p.endsWith('/') && !/\/\.{0,2}(\/|$)/.test(p) && !p.includes('\0') && p.length < 4096;
}

function walk(el: XmlElement, out: Set<string>): void {
  for (const a of el.attributes) if (isPlainAbsolute(a.value)) out.add(a.value);
  for (const c of el.children) walk(c, out);
}

/** Every attribute value of the document that is a plain absolute path (sources, backing stores, …). */
export function pathsIn(bytes: Uint8Array): string[] {
  const r = parseXml(bytes);
  if (!r.ok) return [];
  const out = new Set<string>();
  walk(r.value.root, out);
  return [...out];
}

/** A stable choice per path, so a file's label does not change between two runs over one document. */
const hash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);

export function openTree(paths: readonly string[], override: Readonly<Record<string, MemoryNode>> = {}): Record<string, MemoryNode> {
  const tree: Record<string, MemoryNode> = { '/': { type: 'dir', mode: 0o755, label: L('root_t') } };
  const dirs = new Set<string>();
  for (const p of paths) for (let d = p.slice(0, p.lastIndexOf('/')); d !== ''; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d);
  for (const d of dirs) tree[d] = { type: 'dir', mode: 0o755, label: L('var_t') };
  for (const p of paths)
    if (!dirs.has(p))
      tree[p] = {
        type: 'file',
        mode: 0o666,
        label: L(hash(p) % 2 === 0 ? 'svirt_image_t' : 'public_content_t'),
        // A valid qcow2 header without a backing file, so qcow2 disks can be proven too.
        ...(p.endsWith('.qcow2') && { content: qcow2() }),
      };
  return { ...tree, ...override };
}

/**
 * Accounts, and this process's SELinux context, which a qemu:///session daemon shares (libvirt copies its
 * user and role into dynamic labels); the role is one Debian's policy authorises for svirt_t.
 */
export const ACCOUNTS = { '/etc/passwd': PASSWD, '/etc/group': GROUP, '/proc/self/attr/current': 'unconfined_u:system_r:unconfined_t:s0-s0:c0.c1023' };

export interface SwappableHost {
  readonly ctx: HostContext;
  /** `unknownLabels`: paths whose SELinux label this host cannot read (the xattr read fails). */
  setTree(tree: Readonly<Record<string, MemoryNode>>, unknownLabels?: ReadonlySet<string>): void;
}

export const BOTH_MODELS: Partial<HostOptions> = { models: ['dac', 'selinux'], policy: DEBIAN_POLICY };

export function swappableHost(over: Partial<HostOptions> = BOTH_MODELS, policy: 'real' | 'unreadable' = 'real'): SwappableHost {
  const withPolicy = (v: HostView): HostView => (policy === 'real' ? withRealPolicy(v) : v);
  let current: HostView = withPolicy(memoryView({}, { text: ACCOUNTS }));
  const view: HostView = {
    lstat: (p) => current.lstat(p),
    readlink: (p) => current.readlink(p),
    aclAccess: (p) => current.aclAccess(p),
    selinuxLabel: (p) => current.selinuxLabel(p),
    readBytes: (p, o, n) => current.readBytes(p, o, n),
    readText: (p) => current.readText(p),
    readBinary: (p) => current.readBinary(p),
    listDir: (p) => current.listDir(p),
  };
  const ctx = createHostContext(view, hostOptions(over));
  if (!ctx.ok) throw new Error(ctx.error);
  return {
    ctx: ctx.value,
    setTree: (tree, unknownLabels = new Set()) => {
      const v = withPolicy(memoryView(tree, { text: ACCOUNTS }));
      current = { ...v, selinuxLabel: (p) => (unknownLabels.has(p) ? unknown(`${p}: getxattr failed (test fault)`) : v.selinuxLabel(p)) };
    },
  };
}
