/**
 * Generates differential queries against a real policy. Names come from libsepol's own view of the
 * policy (the helper's --list), so every generated name is one the reference knows; the mix is chosen so
 * that a good share is allowed and every kind of denial (TE, boolean-gated, MCS/MLS constraint) and of
 * invalid input shows up.
 */
import type { SepolQuery } from '../reference/sepol.js';
import { listSepol, sepolClasses } from '../reference/sepol.js';
import { Rng } from './random.js';

export interface PolicyNames {
  readonly mls: boolean;
  readonly types: readonly string[];
  readonly typeSet: ReadonlySet<string>;
  readonly attributes: readonly string[];
  /** alias → primary type */
  readonly aliases: ReadonlyMap<string, string>;
  readonly classes: ReadonlyMap<string, readonly string[]>;
  readonly booleans: readonly string[];
  /** type → roles authorized for it (object_r excluded: it may label anything) */
  readonly rolesOfType: ReadonlyMap<string, readonly string[]>;
  /** role → users authorized for it */
  readonly usersOfRole: ReadonlyMap<string, readonly string[]>;
  /** sensitivities in dominance order, lowest first */
  readonly sensitivities: readonly string[];
  readonly categoryCount: number;
}

export function readPolicyNames(policyPath: string): PolicyNames {
  const types = listSepol(policyPath, 'types').map((r) => r[0] ?? '');
  const rolesOfType = new Map<string, string[]>();
  for (const [role, typeList] of listSepol(policyPath, 'roles')) {
    if (!role || role === 'object_r' || !typeList) continue;
    for (const t of typeList.split(',')) rolesOfType.set(t, [...(rolesOfType.get(t) ?? []), role]);
  }
  const usersOfRole = new Map<string, string[]>();
  for (const [user, roleList] of listSepol(policyPath, 'users')) {
    for (const r of (roleList ?? '').split(',')) if (user && r) usersOfRole.set(r, [...(usersOfRole.get(r) ?? []), user]);
  }
  return {
    mls: listSepol(policyPath, 'mls')[0]?.[0] === '1',
    types,
    typeSet: new Set(types),
    attributes: listSepol(policyPath, 'attributes').map((r) => r[0] ?? ''),
    aliases: new Map(listSepol(policyPath, 'aliases').map(([a, p]) => [a ?? '', p ?? ''])),
    classes: sepolClasses(policyPath),
    booleans: listSepol(policyPath, 'booleans').map((r) => r[0] ?? ''),
    rolesOfType,
    usersOfRole,
    sensitivities: listSepol(policyPath, 'sensitivities').map((r) => r[0] ?? ''),
    categoryCount: listSepol(policyPath, 'categories').length,
  };
}

/** Types a QEMU disk decision actually asks about; only those the policy defines are used. */
export const VIRT_SOURCES = ['svirt_t', 'svirt_tcg_t', 'svirt_prot_exec_t', 'virtd_t', 'qemu_t'];
export const VIRT_TARGETS = [
  'virt_content_t', 'svirt_image_t', 'public_content_t', 'removable_device_t', 'fixed_disk_device_t', 'nfs_t',
  'cifs_t', 'user_home_t', 'default_t', 'virt_image_t', 'usb_device_t', 'iso9660_t', 'fusefs_t', 'tmp_t',
  'etc_t', 'svirt_home_t', 'xen_image_t', 'qemu_image_t', 'virt_var_lib_t', 'svirt_tmp_t', 'device_t',
  'user_home_dir_t', 'var_lib_t', 'mnt_t', 'home_root_t', 'root_t', 'dosfs_t', 'sysfs_t', 'proc_t',
  // what a confined VM legitimately reads, so that allowed answers are not rare
  'usr_t', 'lib_t', 'bin_t', 'ld_so_t', 'locale_t', 'urandom_device_t', 'null_device_t', 'random_device_t',
  'kvm_device_t', 'vhost_device_t', 'tun_tap_device_t', 'fonts_t', 'cert_t', 'shell_exec_t', 'sysctl_t',
];
/** Broad domains whose rules give many allows, so the allowed side of the comparison is not thin. */
const BROAD_SOURCES = ['unconfined_t', 'sysadm_t', 'initrc_t', 'kernel_t', 'init_t', 'virtlogd_t', 'virtlockd_t'];
const DISK_CLASSES = ['file', 'blk_file', 'chr_file', 'dir', 'lnk_file'];
const DISK_PERMS = [['read', 'open', 'getattr'], ['read', 'write', 'open', 'getattr', 'lock', 'append'], ['search', 'getattr']];

export interface GeneratedQuery extends SepolQuery {
  /** What the generator meant to exercise, to break the agreement figure down. */
  readonly kind: string;
}

function categorySet(rng: Rng, names: PolicyNames, count: number): number[] {
  const set = new Set<number>();
  while (set.size < count) set.add(rng.int(0, names.categoryCount - 1));
  return [...set].sort((a, b) => a - b);
}

/** Categories as policy text; sometimes with c0.c3 ranges, sometimes as a plain comma list. */
function formatCats(rng: Rng, cats: readonly number[]): string {
  if (cats.length === 0) return '';
  if (rng.chance(0.5)) return cats.map((c) => `c${c}`).join(',');
  const parts: string[] = [];
  for (let i = 0; i < cats.length; ) {
    let j = i;
    while (j + 1 < cats.length && cats[j + 1] === (cats[j] as number) + 1) j++;
    parts.push(j > i ? `c${cats[i]}.c${cats[j]}` : `c${cats[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function level(rng: Rng, sens: string, cats: readonly number[]): string {
  const c = formatCats(rng, cats);
  return c ? `${sens}:${c}` : sens;
}

/** An MCS/MLS part: `s0`, `s0:c1,c2`, `s0-s0:c0.c1023`, and for MLS policies other sensitivities. */
function randomRange(rng: Rng, names: PolicyNames, shared: { cats: number[] }): string {
  const sens = names.sensitivities;
  const top = sens.length - 1;
  const all = names.categoryCount - 1;
  return rng.weighted<() => string>([
    [3, () => level(rng, sens[0] as string, [])],
    [4, () => level(rng, sens[0] as string, shared.cats)], // the VM's dynamic MCS pair, shared with targets
    [2, () => level(rng, sens[0] as string, categorySet(rng, names, 2))],
    [1, () => level(rng, sens[0] as string, categorySet(rng, names, 1))],
    [2, () => `${sens[0]}-${sens[0]}:c0.c${all}`],
    [1, () => `${sens[0]}:c0.c${all}`],
    [1, () => `${sens[0]}-${level(rng, sens[0] as string, shared.cats)}`],
    [names.mls ? 4 : 0, () => level(rng, sens[rng.int(0, top)] as string, categorySet(rng, names, rng.int(0, 3)))],
    [
      names.mls ? 4 : 0,
      () => {
        const lo = rng.int(0, top);
        const hi = rng.int(lo, top);
        const loCats = categorySet(rng, names, rng.int(0, 2));
        const hiCats = rng.chance(0.5) ? Array.from({ length: all + 1 }, (_, i) => i) : [...new Set([...loCats, ...categorySet(rng, names, 2)])].sort((a, b) => a - b);
        return `${level(rng, sens[lo] as string, loCats)}-${level(rng, sens[hi] as string, hiCats)}`;
      },
    ],
    [names.mls ? 1 : 0, () => `${sens[0]}-${sens[top]}:c0.c${all}`],
  ])();
}

/** The listed types the policy defines; all its types when it defines none of them (another distro). */
function present(names: PolicyNames, list: readonly string[]): string[] {
  const found = list.filter((t) => names.typeSet.has(t));
  return found.length > 0 ? found : [...names.types];
}

function sourceContext(rng: Rng, names: PolicyNames, type: string, range: string): string {
  const role = rng.pick(names.rolesOfType.get(type) ?? ['system_r']);
  const user = rng.pick(names.usersOfRole.get(role) ?? ['system_u']);
  return `${user}:${role}:${type}:${range}`;
}

function permsFor(rng: Rng, names: PolicyNames, tclass: string): string[] {
  const all = names.classes.get(tclass) ?? [];
  const common = ['read', 'getattr', 'open', 'search', 'ioctl', 'lock', 'write'].filter((p) => all.includes(p));
  return rng.weighted<() => string[]>([
    [4, () => (common.length > 0 ? [rng.pick(common)] : rng.sample(all, 1))],
    [3, () => rng.pick(DISK_PERMS).filter((p) => all.includes(p))],
    [3, () => rng.sample(all, rng.int(1, 4))],
    [1, () => [...all]],
  ])();
}

function booleansFor(rng: Rng, names: PolicyNames): Record<string, boolean> | undefined {
  const virt = names.booleans.filter((b) => b.startsWith('virt_'));
  return rng.weighted<() => Record<string, boolean> | undefined>([
    [5, () => undefined],
    [3, () => Object.fromEntries(rng.sample(virt, rng.int(1, 3)).map((b) => [b, true]))],
    [2, () => Object.fromEntries(rng.sample(names.booleans, rng.int(1, 4)).map((b) => [b, rng.chance(0.7)]))],
  ])();
}

function validQuery(rng: Rng, names: PolicyNames): GeneratedQuery {
  const shared = { cats: categorySet(rng, names, 2) };
  const domains = names.types.filter((t) => names.rolesOfType.has(t));
  const [kind, stype] = rng.weighted<() => [string, string]>([
    [6, () => ['virt', rng.pick(present(names, VIRT_SOURCES))]],
    [2, () => ['broad', rng.pick(present(names, BROAD_SOURCES))]],
    [2, () => ['random-domain', rng.pick(domains)]],
  ])();
  const ttype = rng.weighted<() => string>([
    [6, () => rng.pick(present(names, VIRT_TARGETS))],
    [3, () => rng.pick(names.types)],
    [0.3, () => rng.pick([...names.aliases.keys()])],
    [0.7, () => stype], // self: many domains may read their own /proc entries, etc.
  ])();
  // Mostly the class an object of that type really has (a device node, or a file/dir), so that type
  // mismatches do not drown the allowed answers; sometimes any disk class, sometimes any class at all.
  const natural = ttype.endsWith('_device_t') ? ['blk_file', 'chr_file'] : ['file', 'dir', 'lnk_file', 'file'];
  const tclass = rng.weighted<() => string>([
    [7, () => rng.pick(natural)],
    [2, () => rng.pick(DISK_CLASSES)],
    [1, () => rng.pick([...names.classes.keys()])],
  ])();
  const perms = permsFor(rng, names, tclass);
  const booleans = booleansFor(rng, names);
  const targetUser = rng.pick(['system_u', 'system_u', 'unconfined_u', 'root']);
  return {
    kind,
    scontext: sourceContext(rng, names, stype, randomRange(rng, names, shared)),
    tcontext: `${targetUser}:object_r:${ttype}:${randomRange(rng, names, shared)}`,
    tclass,
    perms: perms.length > 0 ? perms : [(names.classes.get(tclass) ?? ['read'])[0] as string],
    ...(booleans ? { booleans } : {}),
  };
}

/** Damages one part of a valid query; both sides must then refuse it. */
function invalidQuery(rng: Rng, names: PolicyNames): GeneratedQuery {
  const q = validQuery(rng, names);
  const [user, role, type] = q.scontext.split(':');
  const mutate = rng.weighted<() => Partial<GeneratedQuery>>([
    [1, () => ({ scontext: `${user}:${role}:no_such_type_t:s0` })],
    [1, () => ({ tcontext: `system_u:object_r:${rng.pick(names.attributes)}:s0` })],
    [1, () => ({ tcontext: `system_u:object_r:${type}:s0:c${names.categoryCount + 7}` })],
    [1, () => ({ tcontext: `system_u:object_r:${type}:s${names.sensitivities.length + 3}` })],
    [1, () => ({ scontext: `${user}:${role}:${type}` })], // no MLS part in an MLS policy
    [1, () => ({ scontext: `system_u:no_such_r:${type}:s0` })],
    [1, () => ({ scontext: `no_such_u:${role}:${type}:s0` })],
    [1, () => ({ scontext: `system_u:system_r:${rng.pick(names.types.filter((t) => !(names.rolesOfType.get(t) ?? []).includes('system_r')))}:s0` })],
    [1, () => ({ scontext: `user_u:system_r:${type}:s0` })], // user not authorized for the role
    [1, () => ({ tcontext: `system_u:object_r:default_t:s0:c5-s0:c1` })], // high does not dominate low
    [1, () => ({ tcontext: rng.pick(['', 'garbage', ':::', 'system_u:object_r', 'a:b:c:d:e:f']) })],
    [1, () => ({ tclass: rng.pick(['no_such_class', '', 'FILE']) })],
    [1, () => ({ perms: [...q.perms, rng.pick(['no_such_perm', 'READ', ''])] })],
    [1, () => ({ perms: [q.tclass === 'dir' ? 'execute_no_trans' : 'add_name'] })], // another class's permission
    [1, () => ({ booleans: { no_such_boolean: true } })],
  ]);
  return { ...q, ...mutate(), kind: 'invalid' };
}

export function generateQueries(names: PolicyNames, seed: number, count: number): GeneratedQuery[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => (rng.chance(0.06) ? invalidQuery(rng, names) : validQuery(rng, names)));
}
