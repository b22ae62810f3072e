/**
 * The SELinux half of a snapshot. The engine asks its policy only through SelinuxOracle, so recording
 * those questions with their answers on the host, and replaying them offline, gives the offline run the
 * very answers the policy gave, in kilobytes instead of the multi-megabyte policy. A question the
 * recording lacks gets an error answer (which the engine turns into "cannot tell") and is remembered
 * so the CLI can warn.
 */
import type { AccessAnswer } from '../../selinux/access.js';
import type { SelinuxOracle } from '../../selinux/oracle.js';
import { canonicalJson } from './codec.js';
import type { Json, StoredSelinux } from './format.js';

export interface RecordingOracle {
  readonly oracle: SelinuxOracle;
  /** The questions so far; the policy's identity is the caller's to add. */
  recorded(): Omit<StoredSelinux, 'policy'>;
}

export function createRecordingOracle(inner: SelinuxOracle): RecordingOracle {
  const compute = new Map<string, { request: Json; answer: Json }>();
  const types = new Map<string, boolean>();
  let booleans: [string, boolean][] | null = null;
  const genfs = new Map<string, string | null>();
  const oracle: SelinuxOracle = {
    compute(req) {
      const answer = inner.compute(req);
      const key = canonicalJson(req);
      const stored = canonicalJson(answer);
      // A request or answer that is not plain data cannot be replayed faithfully: leave it out, so the
      // offline run sees "not in the snapshot" rather than a mangled answer.
      if (key !== undefined && stored !== undefined && !compute.has(key))
        compute.set(key, { request: JSON.parse(key) as Json, answer: JSON.parse(stored) as Json });
      return answer;
    },
    typeExists(name) {
      const exists = inner.typeExists(name);
      types.set(name, exists);
      return exists;
    },
    booleans() {
      const map = inner.booleans();
      booleans ??= [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return map;
    },
    genfsContext(fsType) {
      const context = inner.genfsContext?.(fsType);
      if (context !== undefined) genfs.set(fsType, context);
      return context;
    },
  };
  return {
    oracle,
    recorded: () => ({
      booleans,
      typeExists: [...types.entries()].map(([name, exists]) => ({ name, exists })),
      compute: [...compute.values()],
      ...(genfs.size > 0 ? { genfs: [...genfs].map(([fsType, context]) => ({ fsType, context })) } : {}),
    }),
  };
}

export interface ReplayingOracle {
  readonly oracle: SelinuxOracle;
  /** Questions the recording could not answer since the last call, as one line each. */
  takeMisses(): string[];
}

/** The answer form that proves nothing: the engine reports it as "cannot tell" with this text. */
const unknownAnswer = (why: string): AccessAnswer => ({ ok: false, error: why });

export function createReplayingOracle(stored: StoredSelinux): ReplayingOracle {
  const answers = new Map<string, Json>();
  for (const c of stored.compute) {
    const key = canonicalJson(c.request);
    if (key !== undefined) answers.set(key, c.answer);
  }
  const types = new Map(stored.typeExists.map((t) => [t.name, t.exists]));
  const booleans = new Map(stored.booleans ?? []);
  const genfs = new Map((stored.genfs ?? []).map((g) => [g.fsType, g.context]));
  let misses = new Set<string>();
  // Which type the process runs as depends on typeExists (svirt_tcg_t): once that was answered without
  // a recording, recorded answers may be about another process type, so none of them proves anything.
  let typeGuessed: string | undefined;
  const oracle: SelinuxOracle = {
    compute(req) {
      const key = canonicalJson(req);
      if (typeGuessed !== undefined) {
        const why = `not in the snapshot: whether the policy defines type ${typeGuessed}`;
        misses.add(why);
        return unknownAnswer(why);
      }
      const answer = key === undefined ? undefined : answers.get(key);
      if (answer !== undefined) return answer as unknown as AccessAnswer;
      const why = `not in the snapshot: SELinux question ${req.scontext} -> ${req.tcontext} ${req.tclass} { ${req.perms.join(' ')} }`;
      misses.add(why);
      return unknownAnswer(why);
    },
    typeExists(name) {
      const exists = types.get(name);
      if (exists !== undefined) return exists;
      misses.add(`not in the snapshot: whether the policy defines type ${name}`);
      typeGuessed ??= name;
      return false;
    },
    booleans() {
      if (stored.booleans === null) misses.add('not in the snapshot: the SELinux boolean values');
      return booleans;
    },
    genfsContext(fsType) {
      const g = genfs.get(fsType);
      if (g !== undefined) return g;
      misses.add(`not in the snapshot: the policy's genfscon label for ${fsType}`);
      return undefined;
    },
  };
  return {
    oracle,
    takeMisses() {
      const out = [...misses];
      misses = new Set();
      return out;
    },
  };
}
