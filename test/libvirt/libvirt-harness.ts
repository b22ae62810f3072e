/**
 * Harness for the real-libvirtd suite: tiny TCG domains, virsh on the system and session connections,
 * the annotate CLI, and a ledger of everything defined or started so it is all undone afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface DiskSpec {
  readonly device: 'cdrom' | 'disk';
  readonly file: string;
  readonly format: 'raw' | 'qcow2';
  readonly target: string;
  readonly shareable?: boolean;
  /** `<readonly/>` on a device='disk' (a cdrom always has it). */
  readonly readonly?: boolean;
  /** Add `<seclabel model='dac' relabel='no'/>` by hand (the libvirt-facts variants). */
  readonly dacNoRelabel?: boolean;
}

const bus = (target: string) => (target.startsWith('hd') ? 'ide' : 'virtio');

/** 64 MiB, one vCPU, TCG, no OS, no network, no graphics, destroyed instead of rebooted. */
export function domainXml(name: string, disks: readonly DiskSpec[]): string {
  const disk = (d: DiskSpec) => {
    const seclabel = d.dacNoRelabel ? `\n        <seclabel model='dac' relabel='no'/>\n      ` : '';
    const source = seclabel ? `<source file='${d.file}'>${seclabel}</source>` : `<source file='${d.file}'/>`;
    return `    <disk type='file' device='${d.device}'>
      <driver name='qemu' type='${d.format}'/>
      ${source}
      <target dev='${d.target}' bus='${bus(d.target)}'/>${d.device === 'cdrom' || d.readonly ? '\n      <readonly/>' : ''}${d.shareable ? '\n      <shareable/>' : ''}
    </disk>
`;
  };
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${disks.map(disk).join('')}    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A libvirt connection as some identity: root on qemu:///system, or an unprivileged user on qemu:///session. */
export interface Connection {
  /** qemu:///system, qemu:///session, or a private daemon's qemu:///system?socket=… */
  readonly uri: string;
  virsh(...args: string[]): Run;
  /** Where the running domain's pid file lives. */
  pidFile(name: string): string;
  /** The domain's QEMU log (what libvirt quotes QEMU's last words from), where the test knows it. */
  logFile?(name: string): string;
}

export const systemConnection: Connection = {
  uri: 'qemu:///system',
  virsh: (...args) => run('virsh', ['-c', 'qemu:///system', ...args]),
  pidFile: (name) => `/run/libvirt/qemu/${name}.pid`,
  logFile: (name) => `/var/log/libvirt/qemu/${name}.log`,
};

/** Session mode as `user`, with a private HOME and XDG_RUNTIME_DIR (virsh then autostarts a session libvirtd). */
export function sessionConnection(user: string, group: string, home: string): Connection {
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
  };
  return {
    uri: 'qemu:///session',
    virsh: (...args) =>
      run('setpriv', [`--reuid=${user}`, `--regid=${group}`, '--clear-groups', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'virsh', '-c', 'qemu:///session', ...args]),
    pidFile: (name) => join(home, 'run', 'libvirt', 'qemu', 'run', `${name}.pid`),
    logFile: (name) => join(home, 'cache', 'libvirt', 'qemu', 'log', `${name}.log`),
  };
}

export interface Started {
  readonly ok: boolean;
  /** libvirt's error text when start failed, with QEMU's timestamp removed so two runs compare equal. */
  readonly error: string;
  /** uid of the running QEMU process, when it started. */
  readonly qemuUid?: number;
}

/** Every domain defined here, so a failing test still leaves nothing behind. */
export class Ledger {
  private readonly domains: { conn: Connection; name: string }[] = [];

  define(conn: Connection, dir: string, name: string, xml: string): void {
    const file = join(dir, `${name}.xml`);
    writeFileSync(file, xml, { mode: 0o644 });
    const def = conn.virsh('define', file);
    if (def.code !== 0) throw new Error(`virsh define ${name}: ${def.stderr}`);
    this.domains.push({ conn, name });
  }

  defineAndStart(conn: Connection, dir: string, name: string, xml: string): Started {
    this.define(conn, dir, name, xml);
    const start = conn.virsh('start', name);
    if (start.code !== 0) return { ok: false, error: normaliseError(start.stderr, conn.logFile?.(name)) };
    const state = conn.virsh('domstate', name).stdout.trim();
    if (state !== 'running') return { ok: false, error: `domain state ${state} after start` };
    // "running" must mean a QEMU process really exists: read its pid file and /proc.
    const qemuUid = qemuProcessUid(conn.pidFile(name));
    if (qemuUid === undefined) return { ok: false, error: `no QEMU process found for ${name}` };
    return { ok: true, error: '', qemuUid };
  }

  stop(conn: Connection, name: string): void {
    conn.virsh('destroy', name);
  }

  /** Destroys and undefines everything, newest first. */
  cleanUp(): string[] {
    const problems: string[] = [];
    for (const { conn, name } of this.domains.reverse()) {
      conn.virsh('destroy', name);
      const u = conn.virsh('undefine', name);
      if (u.code !== 0 && !/failed to get domain/i.test(u.stderr)) problems.push(`undefine ${name}: ${u.stderr.trim()}`);
    }
    this.domains.length = 0;
    return problems;
  }
}

/**
 * libvirt's error text without what varies between two identical failures: QEMU's timestamp, and the
 * wrapper libvirt puts around QEMU's own message ("qemu unexpectedly closed the monitor" or "process
 * exited while connecting to monitor", depending on timing). QEMU's message itself is kept whole. On a
 * loaded machine libvirt sometimes reports the closed monitor before QEMU's words reach the log it quotes
 * (seen in CI): then QEMU's last message is taken from that log itself.
 */
function normaliseError(stderr: string, logFile?: string): string {
  const text = stderr.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z /g, '').trim();
  const qemuMessage = /qemu-system-\w+: .*/.exec(text);
  if (qemuMessage) return qemuMessage[0].trim();
  const logged = logFile !== undefined && existsSync(logFile) ? readFileSync(logFile, 'utf8').match(/qemu-system-\w+: .*/g) : null;
  return logged ? logged[logged.length - 1]!.trim() : text;
}

/** The uid QEMU really runs as, read from /proc: proof that `virsh start` launched a process. */
function qemuProcessUid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = readFileSync(pidFile, 'utf8').trim();
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (!comm.startsWith('qemu-system')) throw new Error(`pid ${pid} from ${pidFile} is ${comm}, not QEMU`);
  const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return uid === undefined ? undefined : Number(uid);
}

export function owner(path: string): string {
  const st = statSync(path);
  return `${st.uid}:${st.gid}`;
}

/** Does the `<disk>` whose source is `file` carry `<seclabel model=MODEL relabel='no'/>`? */
export function hasNoRelabel(xml: string, file: string, model: 'dac' | 'selinux'): boolean {
  const disks = xml.match(/<disk\b[\s\S]*?<\/disk>/g) ?? [];
  const disk = disks.find((d) => d.includes(`'${file}'`) || d.includes(`"${file}"`));
  if (disk === undefined) throw new Error(`no <disk> with source ${file} in:\n${xml}`);
  return new RegExp(`<seclabel\\s+model=(['"])${model}\\1\\s+relabel=(['"])no\\2\\s*/>`).test(disk);
}

/** The annotate CLI as a user runs it; the suite fails (not skips) when it has not been built. */
export function annotate(cli: string, file: string, ...args: string[]): Run {
  if (!existsSync(cli)) throw new Error(`${cli} does not exist: build the CLI first (npm run build)`);
  return run(process.execPath, [cli, 'annotate', ...args, file]);
}

/**
 * The end of a suite on a private libvirtd (scripts/libvirtd-private-start.sh): undefine what the ledger
 * defined (while the daemon still runs), stop the daemon, remove its state directory and the suite's file
 * tree. Returns the ledger's problems for the suite to assert on. Empty names mean "never made".
 */
export function tearDownPrivateDaemon(ledger: Ledger, daemonUp: boolean, state: string, root: string): string[] {
  const problems = daemonUp ? ledger.cleanUp() : [];
  if (state) {
    execFileSync('bash', [resolve(import.meta.dirname, '../../scripts/libvirtd-private-stop.sh'), state], { stdio: 'inherit' });
    rmSync(state, { recursive: true, force: true });
  }
  if (root) rmSync(root, { recursive: true, force: true });
  return problems;
}
