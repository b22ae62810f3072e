/**
 * Random DAC scenarios for the kernel differential: small trees (odd modes, owners, ACLs with varied
 * masks and named entries, sticky world-writable directories, device nodes, symlink chains that are
 * relative, absolute, dangling, looping or longer than the kernel's 40) and the paths to open in them
 * (missing components, a file used as a directory, trailing slashes, `.`/`..`, over-long names, and
 * names with spaces, tabs, non-ASCII and XML-special characters). Pure data: building and asking the
 * kernel happen elsewhere. Absolute symlink targets and query paths start with ROOT, replaced by the
 * scenario directory when the tree is built.
 */
import type { Rng } from './prng.js';

export const ROOT = '\u0000ROOT\u0000';

export interface Identity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

/** The QEMU identities tried; uid 0 runs without capabilities, as QEMU does. */
export const IDENTITIES: readonly Identity[] = [
  { uid: 64055, gid: 107, groups: [107, 64055] },
  { uid: 0, gid: 0, groups: [0] },
  { uid: 1000, gid: 1000, groups: [1000, 2000] },
  { uid: 1001, gid: 2001, groups: [] },
  { uid: 64055, gid: 2000, groups: [2001, 2002, 107] },
  { uid: 3000, gid: 3000, groups: [2000] },
];

const UIDS = [0, 1000, 1001, 64055, 3000, 4000];
const GIDS = [0, 107, 1000, 2000, 2001, 2002, 3000, 64055];
const FILE_MODES = [0o604, 0o060, 0o640, 0o600, 0o644, 0o666, 0o400, 0o000, 0o006, 0o066, 0o660, 0o4755, 0o2640, 0o077];
const DIR_MODES = [0o755, 0o700, 0o711, 0o750, 0o710, 0o701, 0o705, 0o770, 0o1777, 0o1733, 0o000, 0o001, 0o010, 0o100, 0o2750, 0o055];
const OPEN_DIR_MODES = [0o755, 0o711, 0o751, 0o1777, 0o701, 0o775, 0o2755];
const NAMES = ['disk.img', 'a b.iso', 'tab\there.raw', 'ü-ñ.qcow2', `<&>'".raw`, ' lead', 'trail ', '日本.img', '-dash', 'back\\slash', 'x'];

export type NodeKind = 'dir' | 'file' | 'symlink' | 'block' | 'char';

export interface TreeNode {
  /** Relative to the scenario directory, `/`-separated. */
  readonly rel: string;
  readonly kind: NodeKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** setfacl text (`user::rw-,user:64055:r--,...`); it also sets the owner/mask/other mode bits. */
  readonly acl?: string;
  readonly target?: string;
  readonly rdev?: readonly [number, number];
}

export interface Query {
  /** Absolute, starting with ROOT. */
  readonly path: string;
  readonly want: 'read' | 'readwrite';
  readonly identity: number;
}

export interface Scenario {
  readonly id: number;
  /** The scenario directory name (inside the test's base directory). */
  readonly dir: string;
  readonly nodes: readonly TreeNode[];
  readonly queries: readonly Query[];
}

const perm = (r: Rng) => r.int(0, 7);
const permText = (p: number) => `${p & 4 ? 'r' : '-'}${p & 2 ? 'w' : '-'}${p & 1 ? 'x' : '-'}`;

function randomAcl(r: Rng): { acl: string; mode: number } {
  const user = perm(r);
  const group = perm(r);
  const other = perm(r);
  const entries = [`user::${permText(user)}`];
  for (let i = r.int(0, 2); i > 0; i--) entries.push(`user:${r.pick(UIDS)}:${permText(perm(r))}`);
  entries.push(`group::${permText(group)}`);
  for (let i = r.int(0, 2); i > 0; i--) entries.push(`group:${r.pick(GIDS)}:${permText(perm(r))}`);
  // Masks that cut entries, that are empty (the kernel then skips the ACL) or that pass everything.
  const mask = r.pick([0, 7, perm(r), perm(r), 4, 5]);
  entries.push(`mask::${permText(mask)}`, `other::${permText(other)}`);
  // Duplicate named entries are refused by setfacl; keep the first of each.
  const seen = new Set<string>();
  const unique = entries.filter((e) => {
    const key = e.slice(0, e.lastIndexOf(':'));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { acl: unique.join(','), mode: (user << 6) | (mask << 3) | other };
}

function owned(r: Rng, kind: NodeKind): Pick<TreeNode, 'mode' | 'uid' | 'gid' | 'acl'> {
  const uid = r.pick(UIDS);
  const gid = r.pick(GIDS);
  const aclChance = kind === 'dir' ? 0.2 : 0.3;
  if (kind !== 'symlink' && r.chance(aclChance)) {
    const { acl, mode } = randomAcl(r);
    return { uid, gid, acl, mode };
  }
  // Mostly searchable directories, so that walks reach their files often enough to test them.
  if (kind === 'dir' && r.chance(0.55)) return { uid, gid, mode: r.pick(OPEN_DIR_MODES) };
  const modes = kind === 'dir' ? DIR_MODES : FILE_MODES;
  const mode = r.chance(0.75) ? r.pick(modes) : r.int(0, 0o7777);
  return { uid, gid, mode };
}

/** `from` and `to` are relative to the scenario dir; the result is `to` seen from the directory of `from`. */
function relativeTarget(from: string, to: string): string {
  const fromDir = from.split('/').slice(0, -1);
  const toParts = to.split('/');
  let common = 0;
  while (common < fromDir.length && fromDir[common] === toParts[common]) common++;
  const up = fromDir.slice(common).map(() => '..');
  return [...up, ...toParts.slice(common)].join('/') || '.';
}

export function generateScenario(r: Rng, id: number): Scenario {
  const nodes: TreeNode[] = [];
  const add = (n: TreeNode) => nodes.push(n);
  const suffix = r.pick(['', '', ' sp', '\tt', '-é', `&<'"`, '日']);
  const dir = `s${id}${suffix}`;

  // A directory chain d0/d1/..., a side directory, files and devices in them.
  const depth = r.int(1, 3);
  const dirs: string[] = [];
  for (let i = 0; i < depth; i++) {
    const rel = i === 0 ? 'd0' : `${dirs[i - 1]}/${r.chance(0.3) ? r.pick(NAMES) : `d${i}`}`;
    dirs.push(rel);
    add({ rel, kind: 'dir', ...owned(r, 'dir') });
  }
  add({ rel: 'side', kind: 'dir', ...owned(r, 'dir') });
  dirs.push('side');
  const files: string[] = [];
  const nFiles = r.int(1, 3);
  for (let i = 0; i < nFiles; i++) {
    const rel = `${r.pick(dirs)}/${r.pick(NAMES)}${i}`;
    files.push(rel);
    add({ rel, kind: 'file', ...owned(r, 'file') });
  }
  const devices: string[] = [];
  if (r.chance(0.25)) {
    const kind = r.pick(['block', 'char'] as const);
    const rel = `${r.pick(dirs)}/dev${kind}`;
    devices.push(rel);
    // Made-up majors/minors: the permission check comes before the driver's open (ENXIO/ENODEV).
    add({ rel, kind, ...owned(r, kind), rdev: r.pick([[1, 3], [240, 7], [259, 100], [4095, 1]] as const) });
  }

  // Symlinks of every shape; the link nodes are owned by random users (protected_symlinks cares).
  const links: string[] = [];
  const link = (rel: string, target: string) => {
    links.push(rel);
    add({ rel, kind: 'symlink', target, uid: r.pick(UIDS), gid: r.pick(GIDS), mode: 0o777 });
  };
  const someFile = () => r.pick([...files, ...devices]);
  let n = 0;
  const linkName = () => `${r.pick(dirs)}/l${n++}${r.chance(0.2) ? ' ' + r.pick(NAMES) : ''}`;
  for (let i = r.int(1, 4); i > 0; i--) {
    const rel = linkName();
    switch (r.int(0, 8)) {
      case 0:
        link(rel, relativeTarget(rel, someFile()));
        break;
      case 1:
        link(rel, `${ROOT}/${someFile()}`);
        break;
      case 2:
        link(rel, r.pick(['nope', '../nope/x', `${ROOT}/side/gone`]));
        break;
      case 3: {
        const other = `${r.pick(dirs)}/loop${n++}`;
        link(rel, relativeTarget(rel, other));
        link(other, relativeTarget(other, rel));
        break;
      }
      case 4:
        link(rel, relativeTarget(rel, r.pick(dirs)) + (r.chance(0.5) ? '/' : ''));
        break;
      case 5: {
        // A chain across directories, around the kernel's limit of 40 links.
        const length = r.chance(0.5) ? r.int(38, 42) : r.int(2, 8);
        const chain = Array.from({ length }, (_, k) => (k === 0 ? rel : `${r.pick(dirs)}/c${n}-${k}`));
        n++;
        const end = someFile();
        chain.forEach((c, k) => {
          const to = k + 1 < chain.length ? chain[k + 1]! : end;
          link(c, r.chance(0.5) ? `${ROOT}/${to}` : relativeTarget(c, to));
        });
        break;
      }
      case 6:
        link(rel, rel.split('/').pop()!); // points at itself
        break;
      case 7:
        link(rel, r.pick(['.', '..', './.', `${ROOT}/.`]));
        break;
      default:
        link(rel, `${ROOT}/${r.pick(dirs)}/../${someFile()}`);
    }
  }

  // Parents must come before children and links may point at each other, so order by depth.
  nodes.sort((a, b) => a.rel.split('/').length - b.rel.split('/').length);

  const queries: Query[] = [];
  const q = (rel: string) =>
    queries.push({ path: `${ROOT}/${rel}`, want: r.chance(0.5) ? 'read' : 'readwrite', identity: r.int(0, IDENTITIES.length - 1) });
  for (const f of files) q(f);
  for (const d of devices) q(d);
  for (const l of links.slice(0, 3)) q(l);
  const linkish = [...links, ...dirs];
  for (let i = r.int(2, 5); i > 0; i--) {
    switch (r.int(0, 9)) {
      case 0:
        q(`${r.pick(dirs)}/nope/${r.pick(NAMES)}`);
        break;
      case 1:
        q(`${someFile()}/x`);
        break;
      case 2:
        q(`${someFile()}/`);
        break;
      case 3:
        q(`${r.pick(dirs)}/../${someFile()}`);
        break;
      case 4:
        q(`${r.pick(dirs)}/./${'y'.repeat(r.pick([255, 256, 300]))}`);
        break;
      case 5:
        q(r.pick(dirs) + r.pick(['', '/', '/.', '/..']));
        break;
      case 6:
        q(`${r.pick(linkish)}/${r.pick(NAMES)}0`);
        break;
      case 7:
        q(`${r.pick(linkish)}//${r.chance(0.5) ? '.' : '..'}/${someFile().split('/').pop()}`);
        break;
      case 8:
        q(`${r.pick(links.length ? links : dirs)}${r.pick(['', '/'])}`);
        break;
      default:
        q(someFile().replace(/\//g, '//'));
    }
  }
  return { id, dir, nodes, queries };
}
