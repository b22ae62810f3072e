/**
 * Which host the commands decide against: the live machine, a facts snapshot (offline), or the live
 * machine under a recorder (`facts`). All three hand the same composition root (createHostContext) a
 * view and an environment, so offline decisions run the very code the live ones do.
 *
 * Offline, the snapshot's host options are the ones in force: the snapshot answers only the questions
 * the host was asked under those options, so a different --connect, --qemu-conf, --user, --group,
 * --models or --policy could only produce "unknown" everywhere, or worse, decisions for a configuration
 * nobody observed. They are refused. --boolean is accepted on top of the recorded values: questions
 * asked under a boolean setting the host run did not use are not in the snapshot and stay unknown,
 * with a warning.
 */
import { hostname } from 'node:os';
import { failure, success, type Result } from '../result.js';
import type { HostView } from '../host/view.js';
import { createLiveView } from '../adapters/live/live-view.js';
import { createRecordingView } from '../adapters/snapshot/recording-view.js';
import { shrinkQemuConf } from '../adapters/snapshot/qemu-conf-shrink.js';
import { createSnapshotView, missText } from '../adapters/snapshot/snapshot-view.js';
import { readFactsFile } from '../adapters/snapshot/parse.js';
import { recordingPolicyLoader, replayingPolicyLoader } from '../adapters/snapshot/policy-transcript.js';
import { FACTS_FORMAT_VERSION, type FactsFile } from '../adapters/snapshot/format.js';
import { processInvoker, type HostEnvironment } from './host-context.js';
import { DEFAULT_QEMU_CONF, type HostOptions } from './host-options.js';
import { loadHostPolicy } from './selinux-engine.js';
import { createLiveVirtAaHelper } from '../adapters/live/virt-aa-helper.js';
import { decodeRun, encodeRun, requestDigest, vahRecordPath, type VirtAaHelper } from '../apparmor/virt-aa-helper.js';

/** virt-aa-helper's runs as a snapshot holds them: one text per request digest. */
function replayingVirtAaHelper(view: HostView): VirtAaHelper {
  return {
    run(req) {
      const t = view.readText(vahRecordPath(requestDigest(req)));
      if (t.kind === 'ok') return decodeRun(t.value);
      return { kind: 'unknown', why: 'the snapshot holds no virt-aa-helper run for this domain XML (take the snapshot again with facts on it)' };
    },
  };
}

/** The live virt-aa-helper, each run written into the snapshot being recorded. */
function recordingVirtAaHelper(live: VirtAaHelper, note: (path: string, text: string) => void): VirtAaHelper {
  return {
    run(req) {
      const r = live.run(req);
      note(vahRecordPath(requestDigest(req)), encodeRun(r));
      return r;
    },
  };
}

export interface OpenedHost {
  readonly view: HostView;
  readonly env: HostEnvironment;
  /** The options to decide under: the command line's live, the snapshot's offline. */
  readonly opts: HostOptions;
  /** Offline: what the snapshot could not answer since the last call, one sentence each. */
  takeWarnings(): string[];
}

/** The host options given on the command line that a snapshot cannot honour (see the file comment). */
export function conflictingHostOptions(opts: HostOptions): string[] {
  const out: string[] = [];
  if (opts.connect !== 'system') out.push('--connect');
  if (opts.qemuConf !== DEFAULT_QEMU_CONF) out.push('--qemu-conf');
  if (opts.user !== undefined) out.push('--user');
  if (opts.group !== undefined) out.push('--group');
  if (opts.models !== undefined) out.push('--models');
  if (opts.policy !== undefined) out.push('--policy');
  return out;
}

export function openHost(opts: HostOptions): Result<OpenedHost, string> {
  if (opts.facts === undefined)
    return success({ view: createLiveView(), env: { invoker: processInvoker(), virtAaHelper: createLiveVirtAaHelper() }, opts, takeWarnings: () => [] });
  const facts = readFactsFile(opts.facts);
  if (!facts.ok) return failure(`--facts ${facts.error}`);
  return openSnapshot(facts.value, opts);
}

/** A parsed snapshot as a host; `cli` carries --facts and --boolean. */
export function openSnapshot(facts: FactsFile, cli: HostOptions): Result<OpenedHost, string> {
  const conflicts = conflictingHostOptions(cli);
  if (conflicts.length > 0)
    return failure(
      `${conflicts.join(', ')} cannot be used with --facts: the snapshot ${cli.facts ?? ''} was taken with its own host options and answers only for those; take another snapshot with them instead`,
    );
  const snap = createSnapshotView(facts.view);
  const policy = replayingPolicyLoader<HostOptions>(facts.selinux);
  const h = facts.hostOptions;
  const opts: HostOptions = {
    connect: h.connect,
    qemuConf: h.qemuConf,
    user: h.user,
    group: h.group,
    models: h.models,
    policy: h.policy,
    booleans: { ...h.booleans, ...cli.booleans },
    facts: cli.facts,
  };
  const where = `${cli.facts ?? 'the snapshot'} (host ${facts.host}, ${facts.collectedAt})`;
  return success({
    view: snap.view,
    env: { invoker: facts.invoker ?? undefined, loadPolicy: policy.load, virtAaHelper: replayingVirtAaHelper(snap.view) },
    opts,
    takeWarnings: () => [...snap.takeMisses().map(missText), ...policy.takeMisses()].map((m) => `${m}, in ${where}: left unproven (take the snapshot again to cover it)`),
  });
}

export interface RecordingHost {
  readonly host: OpenedHost;
  /** The facts file of everything read so far. */
  facts(covers: FactsFile['covers'], generator: string): FactsFile;
}

/** The live host under a recorder: what `facts` runs the decisions against. */
export function recordHost(opts: HostOptions, inner: HostView = createLiveView()): RecordingHost {
  const rec = createRecordingView(inner, { storeText: (path, text) => (path === opts.qemuConf ? shrinkQemuConf(text) : text) });
  const policy = recordingPolicyLoader<HostOptions>(loadHostPolicy);
  const invoker = processInvoker();
  return {
    host: { view: rec.view, env: { invoker, loadPolicy: policy.load, virtAaHelper: recordingVirtAaHelper(createLiveVirtAaHelper(), rec.noteText) }, opts, takeWarnings: () => [] },
    facts: (covers, generator) => ({
      formatVersion: FACTS_FORMAT_VERSION,
      host: hostname(),
      collectedAt: new Date().toISOString(),
      generator,
      hostOptions: {
        connect: opts.connect,
        qemuConf: opts.qemuConf,
        ...(opts.user !== undefined && { user: opts.user }),
        ...(opts.group !== undefined && { group: opts.group }),
        ...(opts.models !== undefined && { models: [...opts.models] }),
        ...(opts.policy !== undefined && { policy: opts.policy }),
        booleans: { ...opts.booleans },
      },
      invoker: invoker ?? null,
      covers,
      view: rec.calls(),
      selinux: policy.recorded(),
    }),
  };
}

/** The view alone, for callers that need no environment. */
export function openHostView(opts: HostOptions): Result<HostView, string> {
  const h = openHost(opts);
  return h.ok ? success(h.value.view) : h;
}
