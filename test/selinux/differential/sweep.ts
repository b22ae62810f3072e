/**
 * Exhaustive queries over a small edge-case policy: every source context × every target context × every
 * class, asking for all of the class's permissions at once (the whole allowed vector) and for each
 * permission alone (libsepol's reason flags depend on what was requested), under every combination of
 * up to four booleans. Very large sweeps (MLS) keep every whole-vector query and a seeded sample of the
 * single-permission ones.
 */
import type { PolicyNames } from './queries.js';
import { Rng } from './random.js';
import type { SepolQuery } from '../reference/sepol.js';

const MAX_QUERIES = 40_000;

/** MLS parts to put on contexts: each sensitivity bare and with categories, plus ranges; some invalid. */
function levelsFor(names: PolicyNames): string[] {
  if (!names.mls) return [''];
  const s = names.sensitivities;
  const top = s.length - 1;
  const lastCat = names.categoryCount - 1;
  const mid = Math.min(1, top);
  return [
    `:${s[0]}`,
    `:${s[mid]}:c1`,
    `:${s[Math.min(2, top)]}:c2`,
    `:${s[top]}:c0.c${lastCat}`,
    `:${s[0]}-${s[top]}:c0.c${lastCat}`,
    `:${s[mid]}-${s[Math.min(2, top)]}:c0.c3`,
    `:${s[mid]}:c4,c5`,
    `:${s[Math.min(2, top)]}:c0,c5`, // s2 carries only c0.c3 in mls.conf: invalid on both sides
  ];
}

function booleanCombos(names: PolicyNames): (Record<string, boolean> | undefined)[] {
  const bools = names.booleans;
  if (bools.length === 0 || bools.length > 4) return [undefined];
  return [
    undefined,
    ...Array.from({ length: 1 << bools.length }, (_, mask) => Object.fromEntries(bools.map((b, i) => [b, (mask & (1 << i)) !== 0]))),
  ];
}

export function sweepQueries(names: PolicyNames, seed: number): SepolQuery[] {
  const rng = new Rng(seed);
  const levels = levelsFor(names);
  const pickLevels = (): string[] => (levels.length <= 3 ? levels : rng.sample(levels, 3));
  const users = [...new Set([...names.usersOfRole.values()].flat())];

  const triples: string[] = [];
  for (const [role, roleUsers] of names.usersOfRole) {
    for (const user of roleUsers) {
      for (const type of names.types) if ((names.rolesOfType.get(type) ?? []).includes(role)) triples.push(`${user}:${role}:${type}`);
    }
  }
  const sources = triples.flatMap((t) => pickLevels().map((l) => t + l));
  const objectTypes = [...names.types, ...names.aliases.keys()];
  const targets = [
    ...users.flatMap((u) => objectTypes.flatMap((t) => pickLevels().map((l) => `${u}:object_r:${t}${l}`))),
    ...sources,
  ];

  const whole: SepolQuery[] = [];
  const singles: SepolQuery[] = [];
  const combos = booleanCombos(names);
  for (const scontext of sources) {
    for (const tcontext of targets) {
      for (const [tclass, perms] of names.classes) {
        if (perms.length === 0) continue;
        combos.forEach((booleans, i) => {
          const b = booleans ? { booleans } : {};
          whole.push({ scontext, tcontext, tclass, perms, ...b });
          // Reason flags per single permission only under the default booleans: the vector already
          // compares every bit under every combination.
          if (i === 0) for (const p of perms) singles.push({ scontext, tcontext, tclass, perms: [p], ...b });
        });
      }
    }
  }
  const room = Math.max(0, MAX_QUERIES - whole.length);
  return [...whole, ...(singles.length <= room ? singles : rng.sample(singles, room))];
}
