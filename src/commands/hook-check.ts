/**
 * The check libvirt runs through the installed script (`hook -- NAME OPERATION SUB-OP EXTRA`, src/hook/check.ts
 * decides refuse or allow) with its live effects wired in: the policy store `hook install` filled, the live
 * host, the records libvirt left. The fast entry (cli/hook-fast.ts) runs this alone, so the hook's bundle for
 * every VM start holds neither install nor the migrate/restore filter (commands/hook.ts adds both).
 */
import type { CliIo } from '../app/command-io.js';
import { createHostContext, processInvoker } from '../app/host-context.js';
import type { HostOptions } from '../app/host-options.js';
import { hostOptionsRefusal } from '../app/host-option-rules.js';
import { usePolicyCache } from '../app/policy-cache.js';
import { hookPolicyStoreForReading } from '../app/policy-cache-env.js';
import { hookPolicyLoader } from '../app/hook-policy-store.js';
import type { PolicyLoader } from '../app/selinux-engine.js';
import { createLiveView } from '../adapters/live/live-view.js';
import { hookPolicyStoreDir } from '../hook/config.js';
import { readAll } from '../adapters/inputs.js';
import { configReader, liveHookLog } from '../adapters/hook/live-check.js';
import { hostOptionsUnusable, runHookCheck, type HookCheckDeps, type HookExit } from '../hook/check.js';
import type { HookContext } from '../hook/judge.js';
import type { Model } from '../decide/types.js';
import type { Domain } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import type { EntryStore } from '../selinux/policy/cached-load.js';
import { failure, type Result } from '../result.js';
import type { SvirtLabelSource } from '../selinux/svirt-process.js';

export type { HookExit } from '../hook/check.js';

/** What the hook command was asked: `install`, `uninstall`, or libvirt's `NAME OPERATION SUB-OP EXTRA`. */
export interface HookRequest {
  readonly words: readonly string[];
  readonly hooksDir: string;
  readonly hookConfig: string;
  /** install: the command the script runs; undefined: virt-seclabel on the script's PATH. */
  readonly binary?: string;
  /** install/uninstall: print the plan (install: and the script) and change nothing. */
  readonly dryRun?: boolean;
  /** The host options, or why they are unusable (the check then allows the start and says so). */
  readonly host: Result<HostOptions, string>;
}

/**
 * The build's warm-up of the hook's code cache (scripts/bundle.mjs) runs the SELinux check on a machine
 * that has neither an SELinux kernel nor root's store: it names the store's owner (its own uid) and
 * puts a stand-in for selinuxfs and the disk's labels in front of the live view, so that the live code
 * the check runs on an SELinux host is compiled, and so cached. Never set on libvirt's call.
 */
export interface HookWarmUp {
  readonly storeOwner: number;
  readonly view: (live: HostView) => HostView;
  /** Where the stand-in keeps a file the view maps: the store compares the policy file by path, not through the view. */
  readonly path: (path: string) => string;
}

const withPath = (f: NonNullable<EntryStore['readAgainst']>, path: HookWarmUp['path']): EntryStore['readAgainst'] =>
  (name, policyPath, headLength, layout) => f(name, path(policyPath), headLength, layout);

/** `migrate begin` / `restore begin`: the XML libvirt handed over, decided again for this host. */
export type HookRefilter = (bytes: Uint8Array, host: HostOptions) => ReturnType<NonNullable<HookCheckDeps['refilter']>>;

/**
 * `readStdin`: how the check reads the XML; the stream by default, the descriptor itself from the fast
 * entry (cli/hook-fast.ts), which knows io.stdin is the process's own. `refilter`: without it (the fast
 * entry, which main.ts sends prepare and start only) a migrate or restore leaves libvirt's XML as it is.
 */
export async function runHookCheckRequest(req: HookRequest, io: CliIo, readStdin = () => readAll(io.stdin), warmUp?: HookWarmUp, refilter?: HookRefilter): Promise<HookExit> {
  const log = liveHookLog(() => io.stderr);
  if (!req.host.ok) return hostOptionsUnusable(req.host.error, log);
  const host = req.host.value;
  // The hook runs in libvirtd's context, whose SELinux domain need not be allowed to write a home
  // directory's cache (each refused attempt an audit record on every VM start): it never writes one. It
  // READS the store `hook install` filled as root, for byte-identical policy bytes only; else it reads the policy.
  const storeDir = hookPolicyStoreDir(req.hookConfig);
  const read = hookPolicyStoreForReading(storeDir, warmUp?.storeOwner);
  const store = warmUp && read?.store.readAgainst ? { ...read, store: { ...read.store, readAgainst: withPath(read.store.readAgainst, warmUp.path) } } : read;
  usePolicyCache(store);
  const policyLoader = hookPolicyLoader(store, storeDir);
  return runHookCheck(req.words, {
    readStdin,
    log,
    readConfig: configReader(req.hookConfig),
    openContext: (svirtLabel) => liveHookContext(host, svirtLabel, policyLoader, warmUp?.view),
    startRecords: liveStartRecords,
    ...(refilter && { refilter: (bytes: Uint8Array) => refilter(bytes, host) }),
    writeStdout: (bytes) => io.stdout.write(bytes),
  });
}

/**
 * The live look at libvirt's records for the domain starting (issue 25 item 3): the files and status
 * files only, never the daemon. Loaded on first use: only a check that reaches it pays for it.
 */
async function liveStartRecords(vm: string, domain: Domain, model: Model, context: () => Result<HookContext, string>): Promise<string[]> {
  const { startRecordLines } = await import('../app/hook-records.js');
  return startRecordLines(vm, domain, model, context);
}

/**
 * The host context for the check: the live host, since a facts snapshot is not the host libvirt starts on
 * (refused), and the hook's own policy loader (its store's projection). No virt-aa-helper: the hook judges
 * dac and selinux only, and runs nothing of the kind inside libvirt's start.
 */
export function liveHookContext(opts: HostOptions, svirtLabel: SvirtLabelSource, hookLoader?: PolicyLoader, warmUpView?: HookWarmUp['view']): Result<HookContext, string> {
  const refusal = hostOptionsRefusal('hook', opts);
  if (refusal) return failure(refusal);
  const view = createLiveView();
  const invoker = processInvoker();
  return createHostContext(warmUpView ? warmUpView(view) : view, opts, { ...(invoker && { invoker }), ...(hookLoader && { loadPolicy: hookLoader }), svirtLabel });
}
