/**
 * The command line: yargs parses, the commands run with injected streams and return exit codes
 * (main.ts, the bin entry, sets process.exitCode).
 */
import yargs, { type Argv } from 'yargs';
import type { HostRun } from '../precommit/run-per-host.js';
import type { HookExit } from './hook.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { parseBooleans } from '../app/host-options.js';
import { packageVersion } from './version.js';
import { hostOptionsFrom, repeatable, singleValued, withHostOptions, type RawHostArgs } from './host-args.js';
import { documented } from './help.js';
import { usePolicyCache } from '../app/policy-cache.js';
import { policyCacheFromEnv } from './policy-cache-env.js';
import { COMPLETION_KEY, SHELLS, completeWord, completionScript, defaultShell } from './completion.js';

// Command modules are imported when their command runs: a one-question `query` should not pay for
// running the XML, image and snapshot code's module set-up (start-up time is most of a short run). In
// the shipped CommonJS bundle they are in the same file and esbuild keeps them lazily initialised.

// stdin and stderr are getters: touching process.stdin builds a stream (about 3 ms of start-up) and
// process.stderr another (about 1.5 ms), and most runs read files and have nothing to report.
const io: CliIo = {
  get stdin() { return process.stdin; },
  stdout: process.stdout,
  get stderr() { return process.stderr; },
};

/**
 * Host options → the host(s) to decide against (live, --facts, or the snapshots .virt-seclabel.json
 * maps the files to; src/precommit/run-per-host.ts) → the command, once per host.
 */
async function withContext(
  args: RawHostArgs & { config?: boolean },
  names: string[],
  run: HostRun,
  unmapped?: (files: readonly string[]) => Promise<ExitCode>,
): Promise<ExitCode> {
  const opts = hostOptionsFrom(args);
  if (!opts.ok) {
    io.stderr.write(`virt-seclabel: ${opts.error}\n`);
    return EXIT.error;
  }
  const { runPerHost } = await import('../precommit/run-per-host.js');
  return runPerHost(names, opts.value, run, io, { useConfig: args.config !== false, cwd: process.cwd(), unmapped });
}

const configOption = {
  type: 'boolean',
  default: true,
  describe: 'decide each FILE against the facts snapshot the nearest .virt-seclabel.json maps it to (--no-config: this host)',
} as const;

const files = (a: { files?: (string | number)[] }) => (a.files ?? []).map(String);

/** --policy and --boolean, for the commands that ask the policy directly (query, labels). */
function withPolicyOptions<T>(y: Argv<T>) {
  return y
    .option('policy', { type: 'string', describe: 'binary policy file (default: live kernel, else /etc/selinux/<type>/policy)' })
    .option('boolean', repeatable('NAME=on|off (repeatable)'));
}

/**
 * yargs renders the whole help text right after starting every subcommand's handler, only to have it
 * ready should the (async) handler fail later and help be shown then. Our .fail never shows help, so
 * that text is never used, and rendering it (string-width over every line) was ~20 ms of a one-question
 * `query` (bench/startup.mjs). --help renders it as before.
 */
function skipHelpCache(parser: Argv): void {
  const internal = parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

export async function runCommandLine(argv: string[]): Promise<ExitCode | HookExit> {
  usePolicyCache(policyCacheFromEnv(process.env));
  // The hook adds its own code (10: refuse the start) to the contract; see src/hook/script.ts.
  let code: ExitCode | HookExit = EXIT.ok;
  // yargs may still run a command handler after reporting a usage error; the handlers check this first.
  let usageError = false;
  /** The --boolean values, or undefined once the malformed one is reported (exit 2). */
  const booleansOrFail = (texts: readonly string[]): Record<string, boolean> | undefined => {
    const booleans = parseBooleans(texts);
    if (typeof booleans !== 'string') return booleans;
    io.stderr.write(`virt-seclabel: ${booleans}\n`);
    code = EXIT.error;
    return undefined;
  };
  const parser = yargs(argv)
    .scriptName('virt-seclabel')
    .usage('$0 [annotate] [FILE...]: add relabel=\'no\' seclabels to libvirt disks QEMU can already access')
    .command(
      ['annotate [files..]', '$0 [files..]'],
      'write the domain XML with <seclabel relabel=\'no\'/> where access is proven (stdin to stdout without FILE)',
      (y) =>
        documented(withHostOptions(y), 'annotate')
          .positional('files', { type: 'string', array: true, describe: 'domain XML files; - or none reads stdin' })
          .option('in-place', { alias: 'i', type: 'boolean', default: false, describe: 'rewrite each FILE atomically' })
          .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 when a file would change or has a stale seclabel' })
          .option('diff', { type: 'boolean', default: false, describe: 'print a unified diff instead of the XML' })
          .option('prune-stale', { type: 'boolean', default: false, describe: "also remove existing relabel='no' seclabels whose files are no longer accessible" })
          .option('config', configOption)
          .option('domain', repeatable('annotate this domain\'s libvirt definition instead of files (repeatable; --check unless --diff or --apply)'))
          .option('all-domains', { type: 'boolean', default: false, describe: 'annotate every domain libvirt defines on --connect' })
          .option('apply', { type: 'boolean', default: false, describe: 'with --domain/--all-domains: redefine the domains that change (virsh define)' })
          .check((a) => {
            const modes = (['in-place', 'check', 'diff', 'apply'] as const).filter((k) => a[k]);
            if (modes.length > 1) throw new Error(`--${modes.join(' and --')} cannot be combined`);
            // --help runs the checks too, before the defaults are filled in.
            const named = (a.domain ?? []).length > 0;
            const domains = named || a['all-domains'];
            if (named && a['all-domains']) throw new Error('--domain and --all-domains cannot be combined');
            if (domains && files(a).length > 0) throw new Error('--domain/--all-domains read libvirt\'s definitions: give no FILE');
            if (domains && a['in-place']) throw new Error('--domain/--all-domains change definitions with --apply, not --in-place');
            if (!domains && a.apply) throw new Error('--apply needs --domain or --all-domains');
            if (domains && a.facts !== undefined) throw new Error('--domain/--all-domains decide on this host: --facts cannot be used');
            return true;
          }),
      async (a) => {
        if (usageError) return;
        if ((a.domain ?? []).length > 0 || a['all-domains']) {
          const { runDomains } = await import('./domains.js');
          const { virshClient } = await import('../libvirt/virsh-client.js');
          // Without a mode nothing is changed: the --check report.
          const mode = a.apply ? 'apply' : a.diff ? 'diff' : 'check';
          const names = a['all-domains'] ? undefined : a.domain;
          code = await withContext({ ...(a as unknown as RawHostArgs), config: false }, [], (_files, ctx) =>
            runDomains({ names, mode, pruneStale: a['prune-stale'] }, virshClient(a.connect), ctx, io),
          );
          return;
        }
        const { passThrough, runAnnotate } = await import('./annotate.js');
        const filter = !a['in-place'] && !a.check && !a.diff;
        code = await withContext(
          a as unknown as RawHostArgs,
          files(a),
          (names, ctx) => runAnnotate(names, { inPlace: a['in-place'], check: a.check, diff: a.diff, pruneStale: a['prune-stale'] }, ctx, io),
          filter ? (unmapped) => passThrough(unmapped, io) : undefined,
        );
      },
    )
    .command(
      'explain [files..]',
      'show the decision for every disk and model, with its reason',
      (y) =>
        documented(withHostOptions(y), 'explain')
          .positional('files', { type: 'string', array: true })
          .option('json', { type: 'boolean', default: false, describe: 'JSON report (schemas/report.schema.json)' })
          .option('color', { choices: ['auto', 'always', 'never'] as const, default: 'auto' as const, describe: 'colour the table: auto = on a terminal unless NO_COLOR is set' })
          .option('config', configOption),
      async (a) => {
        if (usageError) return;
        const { runExplain } = await import('./explain.js');
        code = await withContext(a as unknown as RawHostArgs, files(a), (names, ctx) => runExplain(names, { json: a.json, color: a.color }, ctx, io));
      },
    )
    .command(
      'facts [files..]',
      'on the hypervisor: snapshot what the decisions for these domains (and --path) read, for --facts elsewhere',
      (y) =>
        documented(withHostOptions(y), 'facts')
          .positional('files', { type: 'string', array: true, describe: 'domain XML files whose disks to cover (- reads stdin)' })
          .option('path', repeatable('also cover this file, device or directory tree (repeatable)'))
          .option('output', { alias: 'o', type: 'string', describe: 'write the snapshot here (default: standard output)' }),
      async (a) => {
        if (usageError) return;
        const opts = hostOptionsFrom(a as unknown as RawHostArgs);
        if (!opts.ok) {
          io.stderr.write(`virt-seclabel: ${opts.error}\n`);
          code = EXIT.error;
          return;
        }
        const { runFacts } = await import('./facts.js');
        code = await runFacts(files(a), { host: opts.value, output: a.output, paths: a.path }, io);
      },
    )
    .command(
      'grant [files..]',
      'print (or --apply) the smallest POSIX ACL changes that let QEMU open the disks it cannot, instead of a chown',
      (y) =>
        documented(withHostOptions(y), 'grant')
          .positional('files', { type: 'string', array: true, describe: 'domain XML files; - or none reads stdin' })
          .option('apply', { type: 'boolean', default: false, describe: 'apply the plan, then decide every disk again' })
          .option('json', { type: 'boolean', default: false, describe: 'JSON (schemas/grant.schema.json)' }),
      async (a) => {
        if (usageError) return;
        const raw = a as unknown as RawHostArgs;
        if (raw.facts !== undefined) {
          io.stderr.write('virt-seclabel: grant asks this host whether its filesystems support ACLs, and changes them: --facts cannot be used\n');
          code = EXIT.error;
          return;
        }
        const { runGrant } = await import('./grant.js');
        const { createLiveGrantEffects, probeAclSupport } = await import('../host/live/acl-effects.js');
        const deps = { probe: probeAclSupport, ...(a.apply ? { effects: createLiveGrantEffects() } : {}) };
        code = await withContext({ ...raw, config: false }, files(a), (names, ctx) => runGrant(names, { apply: a.apply, json: a.json }, ctx, io, deps));
      },
    )
    .command(
      'hook [args..]',
      'as libvirt\'s qemu hook (NAME OPERATION SUB-OP EXTRA, XML on stdin): refuse a start only for a proven-stale relabel=\'no\'; `hook install` / `hook uninstall` manage the qemu.d script',
      (y) =>
        documented(withHostOptions(y), 'hook')
          .positional('args', { type: 'string', array: true, describe: 'install | uninstall | -- NAME OPERATION SUB-OP EXTRA' })
          .option('hook-config', { type: 'string', default: '/etc/virt-seclabel/hook.conf', describe: 'the hook\'s config file (fail_on = stale | never)' })
          .option('hooks-dir', { type: 'string', default: '/etc/libvirt/hooks', describe: 'install/uninstall: libvirt\'s hooks directory' })
          .option('binary', { type: 'string', describe: 'install: the command the script runs (default: virt-seclabel on a fixed PATH)' }),
      async (a) => {
        if (usageError) return;
        code = await (await import('./hook.js')).runHookCommand(a, io);
      },
    )
    .command(
      'query',
      'ask the SELinux policy: JSON Lines on stdin, or one question with -s -t -c -p',
      (y) =>
        withPolicyOptions(documented(y, 'query'))
          .option('scontext', { alias: 's', type: 'string', describe: 'source (process) context, e.g. system_u:system_r:svirt_t:s0:c1,c2' })
          .option('tcontext', { alias: 't', type: 'string', describe: 'target (file) context' })
          .option('tclass', { alias: 'c', type: 'string', describe: 'object class, e.g. file or blk_file' })
          .option('perms', { alias: 'p', type: 'string', describe: 'PERM[,PERM]' })
          .option('json', { type: 'boolean', default: false, describe: 'one question: print the answer as a JSON object' }),
      async (a) => {
        if (usageError) return;
        const booleans = booleansOrFail(a.boolean);
        if (!booleans) return;
        const { runQuery } = await import('./query.js');
        code = (await runQuery(
          { policy: a.policy, booleans, scontext: a.scontext, tcontext: a.tcontext, tclass: a.tclass, perms: a.perms?.split(',').filter(Boolean), json: a.json },
          io,
        )) as ExitCode;
      },
    )
    .command(
      'labels',
      'list the file types the svirt process may use for disks (read-only media, shareable writable disks), with their MCS condition',
      (y) =>
        withPolicyOptions(documented(y, 'labels'))
          .option('connect', { type: 'string', default: 'qemu:///system', describe: 'libvirt connection whose dynamic label to use: qemu:///system or qemu:///session' })
          .option('context', { type: 'string', describe: "another process context instead of libvirt's dynamic label (e.g. a static label)" })
          .option('check', { type: 'string', requiresArg: true, describe: 'answer for one file label (user:role:type:level) with the reason' })
          .option('json', { type: 'boolean', default: false, describe: 'JSON (schemas/labels.schema.json)' }),
      async (a) => {
        if (usageError) return;
        const booleans = booleansOrFail(a.boolean);
        if (!booleans) return;
        const { runLabels } = await import('./labels.js');
        const { createLiveView } = await import('../host/live/live-view.js');
        code = runLabels({ policy: a.policy, booleans, connect: a.connect, context: a.context, check: a.check, json: a.json }, createLiveView(), io);
      },
    )
    .command(
      'completion [shell]',
      'print the shell completion script (bash or zsh; default: the login shell)',
      (y) => documented(y, 'completion').positional('shell', { choices: SHELLS, describe: 'the shell to complete in' }),
      (a) => {
        if (usageError) return;
        io.stdout.write(completionScript(a.shell ?? defaultShell(process.env), 'virt-seclabel'));
      },
    )
    // yargs answers --get-yargs-completions (what the scripts call); its own script command stays hidden.
    .completion(`__${COMPLETION_KEY}-script`, false, completeWord)
    .check(singleValued, true)
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .exitProcess(false)
    .fail((msg, err) => {
      if (!usageError) io.stderr.write(`virt-seclabel: ${msg ?? err?.message}\n`);
      usageError = true;
      code = EXIT.error;
    });
  skipHelpCache(parser);
  await parser.parseAsync();
  return code;
}
