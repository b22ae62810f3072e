/**
 * Recording and replaying the SELinux policy as the engines obtain it: which policy answered (path, MLS)
 * or why none could be loaded, plus the oracle transcript. Offline, the policy file is never read: the
 * replayed oracle stands in for it.
 */
import { failure, success, type Result } from '../../result.js';
import type { SelinuxOracle } from '../../selinux/oracle.js';
import type { HostView } from '../../host/view.js';
import { createRecordingOracle, createReplayingOracle, type RecordingOracle } from './oracle-transcript.js';
import type { StoredSelinux } from './format.js';

/** A loaded policy as the SELinux engine wiring uses it (structurally the app's LoadedPolicy). */
export interface PolicyHandle {
  readonly oracle: SelinuxOracle;
  readonly mls: boolean;
  readonly source: string;
}

export type PolicyLoad<O> = (view: HostView, opts: O) => Result<PolicyHandle, string>;

export interface RecordingPolicy<O> {
  readonly load: PolicyLoad<O>;
  /** null when no decision needed SELinux (no policy was loaded). */
  recorded(): StoredSelinux | null;
}

export function recordingPolicyLoader<O>(inner: PolicyLoad<O>): RecordingPolicy<O> {
  let outcome: StoredSelinux['policy'] | undefined;
  let recorder: RecordingOracle | undefined;
  return {
    load(view, opts) {
      const r = inner(view, opts);
      if (!r.ok) {
        outcome ??= { kind: 'failed', error: r.error };
        return r;
      }
      recorder ??= createRecordingOracle(r.value.oracle);
      outcome ??= { kind: 'loaded', source: r.value.source, mls: r.value.mls };
      return success({ ...r.value, oracle: recorder.oracle });
    },
    recorded() {
      if (!outcome) return null;
      const q = recorder?.recorded() ?? { booleans: null, typeExists: [], compute: [] };
      return { policy: outcome, ...q };
    },
  };
}

export interface ReplayingPolicy<O> {
  readonly load: PolicyLoad<O>;
  takeMisses(): string[];
}

export function replayingPolicyLoader<O>(stored: StoredSelinux | null): ReplayingPolicy<O> {
  const replay = stored?.policy.kind === 'loaded' ? createReplayingOracle(stored) : undefined;
  let missedPolicy = false;
  return {
    load() {
      if (!stored) {
        missedPolicy = true;
        return failure('not in the snapshot: the SELinux policy (no decision on the host needed it)');
      }
      if (stored.policy.kind === 'failed') return failure(stored.policy.error);
      return success({ oracle: replay!.oracle, mls: stored.policy.mls, source: stored.policy.source });
    },
    takeMisses() {
      const out = replay?.takeMisses() ?? [];
      if (missedPolicy) out.unshift('not in the snapshot: the SELinux policy (no decision on the host needed it)');
      missedPolicy = false;
      return out;
    },
  };
}
