/**
 * Files beyond disks on a real libvirtd 9.0 with QEMU under TCG (DAC), on a private daemon
 * (scripts/libvirtd-private-start.sh) so no other suite's daemon is disturbed. For each domain `explain`
 * decides first; then the original and the annotated XML are each started and what libvirt and QEMU
 * really did is compared with every decision:
 * - UEFI (Debian's ovmf: read-only code, vars in a directory a user owns): the nvram <source> annotation
 *   keeps the owner while the VM runs; without it libvirt chowns the vars and gives them back at stop;
 *   the loader is never touched.
 * - direct kernel boot (kernel/initrd 0644 root outside /var/lib/libvirt): relabelled by libvirt with no
 *   per-element opt-out (chowned while running, given back at stop), so annotate leaves the XML alone.
 * - a serial console to a file: virtlogd creates it (root 0600), no driver touches it.
 * - -fw_cfg from <qemu:commandline>: readable → the VM starts; 0600 root → explain says QEMU cannot open
 *   it and the start fails exactly there.
 * - a <console> mirroring serial[0]: decided once, on the serial (libvirt's console back-compat); a console
 *   with another source is dropped by libvirt at define.
 * - <sysinfo type='fwcfg'> entry files: chowned with no opt-out (0600 root included), given back at stop.
 * - 9p <filesystem>: never labelled; openable → starts; 0700 root → the start fails as predicted; grant fixes it.
 * - nvdimm <memory>: chowned with no opt-out, given back; <rng> random backend used as it is.
 * - <tpm> emulator (swtpm): state dir and log made swtpm_user's and never given back; QEMU gets the socket.
 * - the chardevs of a passthrough <smartcard>, a <redirdev> and an egd <rng>: never chowned; a socket QEMU
 *   cannot connect to fails the start; a <seclabel> in their <source> is dropped at define.
 * - DAC after libvirt's chown: a kernel of mode 0044 or 0000 fails the start although libvirt chowns it.
 * - <shmem> ivshmem-plain and a VNC unix socket: never labelled, created by QEMU; a taken /dev/shm file or a
 *   socket directory QEMU cannot write fails the start as predicted.
 * The SELinux counterpart (an SELinux guest) is not run here.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { Ledger, owner, run, type Connection, tearDownPrivateDaemon } from './libvirt-harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const skip = missingRequirements({ root: true, commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare', 'setfacl'], files: [OVMF_CODE, OVMF_VARS] });

/** A user who is neither root nor the qemu user owns the vars directory. */
const USER = 1000;

interface FileRow {
  element: string;
  path: string | null;
  libvirt: string;
  models: { dac: { action: string; accessible: boolean | null; reason: string } };
}

/**
 * The smallest image QEMU's x86 loader takes as a Linux kernel (hw/i386/x86.c x86_load_linux): the
 * "HdrS" magic at 0x202, boot protocol 2.15 at 0x206, setup_sects at 0x1f1. The guest runs nothing useful,
 * but QEMU opens and loads it exactly as a real bzImage.
 */
function fakeBzImage(): Buffer {
  const b = Buffer.alloc(64 * 1024);
  b[0x1f1] = 4;
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x020f, 0x206);
  b[0x211] = 0x01; // loadflags: LOADED_HIGH
  b.writeUInt32LE(0x100000, 0x214); // code32_start
  b.writeUInt32LE(0x7fffffff, 0x22c); // initrd_addr_max
  return b;
}

const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);

describe.skipIf(skip !== undefined)('files beyond disks on a private real libvirtd (TCG, DAC)', { sequential: true, timeout: 900_000 }, () => {
  const ledger = new Ledger();
  /** UEFI domains: undefined with --keep-nvram (libvirt refuses a plain undefine, and --nvram would delete the user's vars). */
  const uefi: string[] = [];
  let state = '';
  let root = '';
  let daemon: Connection;
  let counter = 0;
  /** Decisions checked against what libvirt and QEMU did: [what, agreed]. */
  const agreements: [string, boolean][] = [];
  const agree = (what: string, ok: boolean) => {
    agreements.push([what, ok]);
    expect(ok, what).toBe(true);
  };
  const name = (what: string) => `i22-files-${process.pid}-${++counter}-${what}`;

  const domain = (n: string, os: string, devices = '', commandline = '') => `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${n}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
${os}  </os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${devices}    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
${commandline}</domain>
`;

  const cliRun = (...args: string[]) => run(process.execPath, [cli, ...args]);
  const explainJson = (file: string): Record<string, FileRow> => {
    const r = cliRun('explain', '--json', '--no-config', file);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { files: { otherFiles?: FileRow[] }[] };
    return Object.fromEntries((report.files[0]!.otherFiles ?? []).map((f) => [f.element, f]));
  };
  const annotateFile = (input: string) => {
    const r = cliRun('annotate', '--no-config', input);
    return { ...r, output: r.stdout };
  };
  const validate = (xml: string, n: string) => {
    const f = join(root, `${n}.validate.xml`);
    writeFileSync(f, xml);
    const r = run('virt-xml-validate', [f, 'domain']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  };
  const start = (n: string, xml: string) => {
    ledger.define(daemon, root, n, xml);
    const r = daemon.virsh('start', n);
    return { code: r.code, stderr: r.stderr, state: daemon.virsh('domstate', n).stdout.trim() };
  };
  const stop = (n: string) => {
    daemon.virsh('destroy', n);
  };

  beforeAll(() => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    if (!existsSync(cli)) throw new Error(`${cli} does not exist: build the CLI first (npm run build)`);
    state = mkdtempSync(join(repo, '.tmp/i22-files-libvirtd-'));
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    daemon = { uri, virsh: (...args) => run('virsh', ['-c', uri, ...args]), pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`) };
    root = mkdtempSync('/tmp/i22-files-');
    chmodSync(root, 0o755);
  });

  afterAll(() => {
    for (const n of daemon ? uefi : []) {
      daemon.virsh('destroy', n);
      daemon.virsh('undefine', '--keep-nvram', n);
    }
    const problems = tearDownPrivateDaemon(ledger, daemon !== undefined, state, root);
    const agreed = agreements.filter(([, ok]) => ok).length;
    process.stderr.write(`files-libvirtd: ${agreed}/${agreements.length} decisions agreed with the real libvirtd\n`);
    expect(problems).toEqual([]);
  });

  /** Vars in a directory the user owns, as a copy of the template; `acl`: the qemu user may read and write them. */
  const userVars = (what: string, acl: boolean) => {
    const dir = join(root, `${what}-home`);
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, USER, USER);
    const vars = join(dir, 'VARS.fd');
    copyFileSync(OVMF_VARS, vars);
    chownSync(vars, USER, USER);
    chmodSync(vars, 0o600);
    if (acl) execFileSync('setfacl', ['-m', 'u:libvirt-qemu:rw', vars]);
    return vars;
  };
  const uefiOs = (vars: string) =>
    `    <loader readonly='yes' type='pflash'>${OVMF_CODE}</loader>\n    <nvram type='file'>\n      <source file='${vars}'/>\n    </nvram>\n`;
  const serial = (log: string) => `    <serial type='file'>\n      <source path='${log}'/>\n      <target port='0'/>\n    </serial>\n`;

  it('UEFI with vars the qemu user may write: the nvram <source> is annotated, the owner is kept while running; the original is chowned and given back', () => {
    const vars = userVars('uefi', true);
    const log = join(root, 'uefi-serial.log');
    const n = name('uefi');
    const input = join(root, `${n}.in.xml`);
    const xml = domain(n, uefiOs(vars), serial(log));
    writeFileSync(input, xml);

    const rows = explainJson(input);
    expect(Object.keys(rows).sort()).toEqual(['devices/serial[1]', 'os/loader', 'os/nvram']);
    expect(rows['os/loader']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['os/nvram']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
    expect(rows['devices/serial[1]']!.models.dac.action).toBe('n/a');

    const a = annotateFile(input);
    expect(a.code, a.stderr).toBe(0);
    expect(a.output).toContain(`<source file='${vars}'>\n        <seclabel model='dac' relabel='no'/>\n      </source>`);
    expect(a.output.match(/<seclabel/g)).toHaveLength(1);
    validate(a.output, n);
    validate(xml, `${n}-orig`);

    // The original: libvirt chowns the vars to the qemu user while running and gives them back at stop.
    uefi.push(n, `${n}-orig`);
    const orig = start(`${n}-orig`, xml.replace(`<name>${n}</name>`, `<name>${n}-orig</name>`));
    expect(orig.stderr).toBe('');
    expect(orig.state).toBe('running');
    agree('loader as-is readable → the UEFI VM starts', orig.state === 'running');
    agree('nvram without annotation → chowned to the qemu user while running', owner(vars) === '64055:64055');
    agree('loader never labelled → root-owned code unchanged', owner(OVMF_CODE) === '0:0' && mode(OVMF_CODE) === '644');
    agree('serial file under logd → created by virtlogd, root 0600, not chowned', owner(log) === '0:0' && mode(log) === '600');
    stop(`${n}-orig`);
    agree('nvram owner given back at stop', owner(vars) === `${USER}:${USER}`);
    // Keep the user's vars: libvirt refuses to undefine a UEFI domain without saying what to do with them.
    daemon.virsh('undefine', '--keep-nvram', `${n}-orig`);

    const before = `${owner(vars)} ${mode(vars)}`;
    const ann = start(n, a.output);
    expect(ann.stderr).toBe('');
    expect(ann.state).toBe('running');
    agree(`nvram annotated → owner and mode kept while running (${before} → ${owner(vars)} ${mode(vars)})`, `${owner(vars)} ${mode(vars)}` === before && owner(vars) === `${USER}:${USER}`);
    agree('serial file still not chowned with the annotated XML', owner(log) === '0:0');
    stop(n);
    expect(owner(vars)).toBe(`${USER}:${USER}`);
    daemon.virsh('undefine', '--keep-nvram', n);
  });

  it('UEFI with vars only the user may write: nothing is annotated, libvirt chowns them, and the VM starts', () => {
    const vars = userVars('uefi-priv', false);
    const n = name('uefi-priv');
    const input = join(root, `${n}.in.xml`);
    const xml = domain(n, uefiOs(vars));
    writeFileSync(input, xml);
    uefi.push(n);
    const rows = explainJson(input);
    expect(rows['os/nvram']!.models.dac).toMatchObject({ action: 'keep', accessible: false });
    const a = annotateFile(input);
    expect(a.code, a.stderr).toBe(0);
    expect(a.output).toBe(xml);
    const r = start(n, a.output);
    expect(r.stderr).toBe('');
    agree('nvram kept (denied) → libvirt chowns it and the VM starts', r.state === 'running' && owner(vars) === '64055:64055');
    stop(n);
    agree('and gives the owner back at stop', owner(vars) === `${USER}:${USER}`);
    daemon.virsh('undefine', '--keep-nvram', n);
  });

  it('direct kernel boot: kernel and initrd are relabelled with no opt-out; annotate leaves the XML alone', () => {
    const boot = join(root, 'boot');
    mkdirSync(boot, { mode: 0o755 });
    const kernel = join(boot, 'vmlinuz');
    const initrd = join(boot, 'initrd.img');
    writeFileSync(kernel, fakeBzImage(), { mode: 0o644 });
    writeFileSync(initrd, Buffer.alloc(4096), { mode: 0o644 });
    const n = name('kernel');
    const input = join(root, `${n}.in.xml`);
    const xml = domain(n, `    <kernel>${kernel}</kernel>\n    <initrd>${initrd}</initrd>\n    <cmdline>console=ttyS0</cmdline>\n`);
    writeFileSync(input, xml);
    const rows = explainJson(input);
    expect(rows['os/kernel']!.models.dac).toMatchObject({ action: 'relabel', accessible: true });
    expect(rows['os/initrd']!.models.dac).toMatchObject({ action: 'relabel', accessible: true });
    expect(rows['os/kernel']!.models.dac.reason).toContain('no per-element opt-out');
    const a = annotateFile(input);
    expect(a.code, a.stderr).toBe(0);
    expect(a.output).toBe(xml);
    const r = start(n, a.output);
    expect(r.stderr).toBe('');
    expect(r.state).toBe('running');
    agree('kernel relabelled → chowned to the qemu user while running', owner(kernel) === '64055:64055');
    agree('initrd relabelled → chowned to the qemu user while running', owner(initrd) === '64055:64055');
    stop(n);
    agree('kernel and initrd given back at stop', owner(kernel) === '0:0' && owner(initrd) === '0:0' && mode(kernel) === '644');
  });

  it('a serial console connecting to a unix socket a user owns: annotated, the socket keeps its owner; the original is chowned and reset to root:root at stop', async () => {
    const dir = join(root, 'sock-home');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, USER, USER);
    const sock = join(dir, 'console.sock');
    const server: Server = createServer((c) => c.resume());
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      chownSync(sock, USER, USER);
      chmodSync(sock, 0o777);
      const n = name('sock');
      const input = join(root, `${n}.in.xml`);
      const xml = domain(n, '', `    <serial type='unix'>\n      <source mode='connect' path='${sock}'/>\n      <target port='0'/>\n    </serial>\n`);
      writeFileSync(input, xml);
      const rows = explainJson(input);
      expect(rows['devices/serial[1]']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
      const a = annotateFile(input);
      expect(a.code, a.stderr).toBe(0);
      expect(a.output).toContain(`<source mode='connect' path='${sock}'>\n        <seclabel model='dac' relabel='no'/>\n      </source>`);
      validate(a.output, n);

      const orig = start(`${n}-orig`, xml.replace(`<name>${n}</name>`, `<name>${n}-orig</name>`));
      expect(orig.stderr).toBe('');
      agree('unix connect chardev without annotation → QEMU connects, the socket is chowned to the qemu user', orig.state === 'running' && owner(sock) === '64055:64055');
      stop(`${n}-orig`);
      const after = owner(sock);
      process.stderr.write(`files-libvirtd: unix connect socket after stop of the original: ${after}\n`);
      // Not given back: libvirt 9.0 does not remember a socket's owner and resets it to root:root at stop,
      // as explain says; with the annotation the user's socket is never touched.
      expect(rows['devices/serial[1]']!.libvirt).toContain('at stop libvirt 9.0 sets it to root:root');
      agree(`and reset to root:root at stop, not given back (${after})`, after === '0:0');
      chownSync(sock, USER, USER);

      const before = `${owner(sock)} ${mode(sock)}`;
      const ann = start(n, a.output);
      expect(ann.stderr).toBe('');
      agree(`unix connect chardev annotated → QEMU connects, owner and mode kept (${before} → ${owner(sock)} ${mode(sock)})`, ann.state === 'running' && `${owner(sock)} ${mode(sock)}` === before);
      stop(n);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  const fwcfg = (file: string) => `  <qemu:commandline>\n    <qemu:arg value='-fw_cfg'/>\n    <qemu:arg value='name=opt/com.coreos/config,file=${file}'/>\n  </qemu:commandline>\n`;

  it('-fw_cfg readable: used as it is, nothing inside <qemu:commandline> changes, the VM starts', () => {
    const ign = join(root, 'ok.ign');
    writeFileSync(ign, '{"ignition":{"version":"3.3.0"}}', { mode: 0o644 });
    const n = name('fwcfg-ok');
    const input = join(root, `${n}.in.xml`);
    const xml = domain(n, '', '', fwcfg(ign));
    writeFileSync(input, xml);
    const rows = explainJson(input);
    expect(rows['qemu:commandline/arg[2] -fw_cfg']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    const a = annotateFile(input);
    expect(a.code, a.stderr).toBe(0);
    expect(a.output).toBe(xml);
    const r = start(n, a.output);
    expect(r.stderr).toBe('');
    agree('-fw_cfg as-is readable → the VM starts', r.state === 'running');
    agree('-fw_cfg file never labelled', owner(ign) === '0:0' && mode(ign) === '644');
    stop(n);
  });

  it('-fw_cfg 0600 root (the Ignition case): explain predicts it, --check fails on it, and the start fails there', () => {
    const dir = join(root, 'ign');
    mkdirSync(dir, { mode: 0o755 });
    const ign = join(dir, 'vm.ign');
    writeFileSync(ign, '{"ignition":{"version":"3.3.0"}}', { mode: 0o600 });
    const n = name('fwcfg-denied');
    const input = join(root, `${n}.in.xml`);
    const xml = domain(n, '', '', fwcfg(ign));
    writeFileSync(input, xml);
    const rows = explainJson(input);
    const d = rows['qemu:commandline/arg[2] -fw_cfg']!.models.dac;
    expect(d).toMatchObject({ action: 'as-is', accessible: false });
    expect(d.reason).toContain('QEMU cannot open it, the VM fails to start');
    const check = cliRun('annotate', '--check', '--no-config', input);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(new RegExp(`error: qemu:commandline\\/arg\\[2\\] -fw_cfg \\(${ign.replace(/[.]/g, '\\.')}\\): dac: `));
    const a = annotateFile(input);
    expect(a.output).toBe(xml);
    const r = start(n, a.output);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(ign);
    process.stderr.write(`files-libvirtd: virsh start of the 0600 Ignition domain: ${r.stderr.trim()}\n`);
    agree('-fw_cfg as-is denied → the start fails, naming the file', r.code !== 0 && r.stderr.includes(ign) && /Permission denied|Could not|Failed/i.test(r.stderr));
    agree('-fw_cfg file untouched', owner(ign) === '0:0' && mode(ign) === '600');
  });

  it('a <console> mirroring serial[0] is no file of its own: decided once, on the serial; libvirt writes the console back as its copy, and drops a console with another source', async () => {
    const dir = join(root, 'console-home');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, USER, USER);
    const sock = join(dir, 'console.sock');
    const server: Server = createServer((c) => c.resume());
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      chownSync(sock, USER, USER);
      chmodSync(sock, 0o777);
      const chardev = (el: string, path: string, target: string) =>
        `    <${el} type='unix'>\n      <source mode='connect' path='${path}'/>\n      <target ${target}port='0'/>\n    </${el}>\n`;
      const n = name('console');
      const input = join(root, `${n}.in.xml`);
      const xml = domain(n, '', chardev('serial', sock, '') + chardev('console', sock, "type='serial' "));
      writeFileSync(input, xml);
      const rows = explainJson(input);
      // virDomainDefAddConsoleCompat / virDomainSkipBackcompatConsole: the console is serial[0]'s alias.
      agree('console mirroring serial[0] → one row, the serial', Object.keys(rows).join() === 'devices/serial[1]');
      expect(rows['devices/serial[1]']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
      const a = annotateFile(input);
      expect(a.code, a.stderr).toBe(0);
      expect(a.output.match(/<seclabel/g)).toHaveLength(1);
      validate(a.output, n);

      // The domains mode on libvirt's own definition: one change, read back and kept (the console comes back as its copy).
      ledger.define(daemon, root, n, xml);
      const applied = cliRun('--domain', n, '--connect', daemon.uri, '--apply');
      expect(applied.code, applied.stderr + applied.stdout).toBe(0);
      agree('domains --apply: one change, read back and all kept', applied.stdout.includes('defined with 1 change(s), read back and all kept'));
      const back = daemon.virsh('dumpxml', '--inactive', n).stdout;
      expect(back.match(/<seclabel model='dac' relabel='no'\/>/g)).toHaveLength(2);
      const again = cliRun('--domain', n, '--connect', daemon.uri, '--check');
      agree('and a second run finds nothing to do', again.code === 0 && again.stderr === '');
      const before = `${owner(sock)} ${mode(sock)}`;
      const r = daemon.virsh('start', n);
      expect(r.stderr).toBe('');
      agree(`annotated serial with its console copy → QEMU connects, owner and mode kept (${before} → ${owner(sock)} ${mode(sock)})`, r.code === 0 && `${owner(sock)} ${mode(sock)}` === before);
      stop(n);

      // A console with another source: libvirt drops it at define (its path is never opened), so it is not decided.
      const gone = join(dir, 'never-created.sock');
      const n2 = name('console-other');
      const input2 = join(root, `${n2}.in.xml`);
      const xml2 = domain(n2, '', chardev('serial', sock, '') + chardev('console', gone, "type='serial' "));
      writeFileSync(input2, xml2);
      const rows2 = explainJson(input2);
      expect(Object.keys(rows2)).toEqual(['devices/serial[1]']);
      const check2 = cliRun('annotate', '--check', '--no-config', input2);
      expect(check2.stderr).not.toContain(gone);
      const r2 = start(n2, xml2);
      expect(r2.stderr).toBe('');
      const console2 = /<console[\s\S]*?<\/console>/.exec(daemon.virsh('dumpxml', '--inactive', n2).stdout)?.[0] ?? '';
      agree('console with another source → libvirt writes it back as serial[0]\'s copy and the VM starts without its path', r2.state === 'running' && console2.includes(sock) && !console2.includes(gone));
      stop(n2);

      // Without a <serial>, libvirt makes the console serial[0]: decided as written.
      const input3 = join(root, `${n2}-alone.in.xml`);
      writeFileSync(input3, domain(`${n2}-alone`, '', chardev('console', sock, "type='serial' ")));
      expect(Object.keys(explainJson(input3))).toEqual(['devices/console[1]']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("<sysinfo type='fwcfg'> entry files (libvirt's own Ignition route): chowned with no opt-out, readable or 0600 root alike, and an entry with text has its file chowned though QEMU never opens it; all given back at stop", () => {
    const dir = join(root, 'sysinfo');
    mkdirSync(dir, { mode: 0o755 });
    const ok = join(dir, 'ok.ign');
    const priv = join(dir, 'priv.ign');
    const unused = join(dir, 'unused.ign');
    for (const [f, m] of [[ok, 0o644], [priv, 0o600], [unused, 0o600]] as const) {
      writeFileSync(f, '{"ignition":{"version":"3.3.0"}}');
      chmodSync(f, m);
    }
    const n = name('sysinfo');
    const input = join(root, `${n}.in.xml`);
    const sysinfo = `  <sysinfo type='fwcfg'>
    <entry name='opt/com.coreos/config' file='${ok}'/>
    <entry name='opt/org.example/priv' file='${priv}'/>
    <entry name='opt/org.example/text' file='${unused}'>inline</entry>
  </sysinfo>
`;
    const xml = domain(n, '', '', sysinfo);
    writeFileSync(input, xml);
    // The schema allows file= or text, not both (domaincommon.rng); libvirt's parser (virSysinfoParseFWCfgDef) takes both.
    validate(xml.replace(/\n.*opt\/org\.example\/text.*\n/, '\n'), n);
    const rows = explainJson(input);
    const okRow = rows['sysinfo[1]/entry[1] opt/com.coreos/config']!;
    const privRow = rows['sysinfo[1]/entry[2] opt/org.example/priv']!;
    const textRow = rows['sysinfo[1]/entry[3] opt/org.example/text']!;
    expect(okRow.models.dac).toMatchObject({ action: 'relabel', accessible: true });
    expect(privRow.models.dac).toMatchObject({ action: 'relabel', accessible: false });
    expect(textRow.models.dac).toMatchObject({ action: 'relabel', accessible: null });
    for (const r of [okRow, privRow, textRow]) expect(r.models.dac.reason).toContain('no per-element opt-out');
    expect(textRow.libvirt).toContain('QEMU never opens the file');
    const a = annotateFile(input);
    expect(a.code, a.stderr).toBe(0);
    expect(a.output).toBe(xml);
    const check = cliRun('annotate', '--check', '--no-config', input);
    expect(check.code, check.stderr).toBe(0);

    const r = start(n, a.output);
    expect(r.stderr).toBe('');
    agree('fwcfg relabel (0600 root included) → the VM starts', r.state === 'running');
    agree('fwcfg files chowned to the qemu user while running, the one QEMU never opens too', [ok, priv, unused].every((f) => owner(f) === '64055:64055'));
    stop(n);
    agree('fwcfg owners given back at stop, modes unchanged', [ok, priv, unused].every((f) => owner(f) === '0:0') && mode(ok) === '644' && mode(priv) === '600' && mode(unused) === '600');
  });

  const noSwtpm = missingRequirements({ commands: ['swtpm', 'swtpm_setup'] });
  it.skipIf(noSwtpm !== undefined)("<tpm> emulator: nothing for QEMU to open; libvirt makes swtpm's state and log swtpm_user's, unconditionally and for good, and hands QEMU the socket", () => {
    const n = name('tpm');
    const input = join(root, `${n}.in.xml`);
    const xml = domain(n, '', "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n");
    writeFileSync(input, xml);
    validate(xml, n);
    const rows = explainJson(input);
    const row = rows['devices/tpm[1]']!;
    expect(row.path).toBeNull();
    expect(row.models.dac).toMatchObject({ action: 'n/a', accessible: null });
    expect(row.libvirt).toContain('swtpm_user');
    const a = annotateFile(input);
    expect(a.output).toBe(xml);

    // qemu.conf swtpm_user/group as libvirt 9.0 defaults them: tss when that user exists, else root.
    const tss = run('getent', ['passwd', 'tss']).stdout.split(':');
    const swtpm = tss.length > 3 ? `${tss[2]}:${tss[3]}` : '0:0';
    const log = `/var/log/swtpm/libvirt/qemu/${n}-swtpm.log`;
    try {
      const r = start(n, xml);
      expect(r.stderr).toBe('');
      agree('TPM emulator → swtpm starts and the VM runs', r.state === 'running');
      const uuid = daemon.virsh('domuuid', n).stdout.trim();
      const stateDir = `/var/lib/libvirt/swtpm/${uuid}/tpm2`;
      const inState = readdirSync(stateDir).map((f) => owner(join(stateDir, f)));
      agree(`swtpm state dir ${swtpm} 0700 with every file in it (${owner(stateDir)} ${mode(stateDir)}; ${inState.join(' ')})`, owner(stateDir) === swtpm && mode(stateDir) === '700' && inState.length > 0 && inState.every((o) => o === swtpm));
      agree(`swtpm log chowned to swtpm_user (${owner(log)})`, owner(log) === swtpm);
      const sockets = readdirSync(join(state, 'run', 'qemu', 'swtpm')).filter((f) => f.endsWith('-swtpm.sock')); // <id>-<short name>-swtpm.sock, the only VM running
      agree('the swtpm socket QEMU connects to is the qemu user\'s', sockets.length === 1 && owner(join(state, 'run', 'qemu', 'swtpm', sockets[0]!)) === '64055:64055');
      stop(n);
      agree('state and log are not given back at stop', owner(stateDir) === swtpm && owner(log) === swtpm);
    } finally {
      rmSync(log, { force: true });
    }

    // Domain-level DAC labelling off (the alternative offered for files with no per-element opt-out): qemu_tpm.c
    // still chowns the state, but the socket is no longer handed to QEMU, and explain says the start fails there.
    const n2 = name('tpm-static');
    const input2 = join(root, `${n2}.in.xml`);
    const xml2 = domain(n2, '', "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n").replace(
      '  <on_reboot>',
      "  <seclabel type='static' model='dac' relabel='no'>\n    <label>+64055:+64055</label>\n  </seclabel>\n  <on_reboot>",
    );
    writeFileSync(input2, xml2);
    validate(xml2, n2);
    const d2 = explainJson(input2)['devices/tpm[1]']!.models.dac;
    expect(d2).toMatchObject({ action: 'as-is', accessible: false });
    const check = cliRun('annotate', '--check', '--no-config', input2);
    expect(check.code).toBe(1);
    const log2 = `/var/log/swtpm/libvirt/qemu/${n2}-swtpm.log`;
    try {
      const r2 = start(n2, xml2);
      process.stderr.write(`files-libvirtd: TPM emulator with a static DAC label, relabel='no': ${r2.stderr.trim()}\n`);
      agree("TPM emulator with domain DAC relabel='no' → the start fails on swtpm's socket, as explain says", r2.code !== 0 && /swtpm\.sock.*Permission denied/.test(r2.stderr));
      const uuid2 = daemon.virsh('domuuid', n2).stdout.trim();
      agree("and swtpm's state is chowned to swtpm_user all the same", owner(`/var/lib/libvirt/swtpm/${uuid2}/tpm2`) === swtpm);
    } finally {
      rmSync(log2, { force: true });
    }
  });

  it('9p <filesystem>: never labelled; a share QEMU can open starts as it is, a 0700 root one fails the start as explain says, and grant --apply fixes it', () => {
    const ok = join(root, 'share-ok');
    const priv = join(root, 'share-priv');
    mkdirSync(ok, { mode: 0o755 });
    mkdirSync(priv, { mode: 0o700 });
    const fs = (dir: string, extra = '') => `    <filesystem type='mount' accessmode='mapped'>\n      <source dir='${dir}'/>\n      <target dir='share'/>\n${extra}    </filesystem>\n`;
    const n = name('9p');
    const input = join(root, `${n}.in.xml`);
    const xml = domain(n, '', fs(ok));
    writeFileSync(input, xml);
    validate(xml, n);
    expect(explainJson(input)['devices/filesystem[1]']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(annotateFile(input).output).toBe(xml);
    const r = start(n, xml);
    expect(r.stderr).toBe('');
    agree('9p share as-is openable → the VM starts, the directory untouched', r.state === 'running' && owner(ok) === '0:0' && mode(ok) === '755');
    stop(n);

    const n2 = name('9p-priv');
    const input2 = join(root, `${n2}.in.xml`);
    const xml2 = domain(n2, '', fs(priv, '      <readonly/>\n'));
    writeFileSync(input2, xml2);
    const d = explainJson(input2)['devices/filesystem[1]']!.models.dac;
    expect(d).toMatchObject({ action: 'as-is', accessible: false });
    expect(d.reason).toContain('the VM fails to start');
    expect(cliRun('annotate', '--check', '--no-config', input2).code).toBe(1);
    const r2 = start(n2, xml2);
    process.stderr.write(`files-libvirtd: 9p share 0700 root: ${r2.stderr.trim()}\n`);
    agree('9p share as-is denied → the start fails opening it', r2.code !== 0 && r2.stderr.includes(`failed to open '${priv}': Permission denied`));
    agree('and libvirt did not touch it', owner(priv) === '0:0' && mode(priv) === '700');

    const g = cliRun('grant', '--apply', input2);
    expect(g.code, g.stderr + g.stdout).toBe(0);
    expect(g.stdout).toContain(priv);
    const r3 = daemon.virsh('start', n2);
    agree('after grant --apply (ACL r-x for the qemu user) the same domain starts', r3.code === 0);
    stop(n2);
  });

  it('an nvdimm backing file is chowned with no opt-out and given back; an <rng> random backend is used as it is', () => {
    const dir = join(root, 'nvdimm-home');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, USER, USER);
    const img = join(dir, 'nv.img');
    writeFileSync(img, Buffer.alloc(0));
    execFileSync('truncate', ['-s', '16M', img]);
    chownSync(img, USER, USER);
    chmodSync(img, 0o600);
    const n = name('nvdimm');
    const input = join(root, `${n}.in.xml`);
    const devices = `    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n    <memory model='nvdimm'>\n      <source>\n        <path>${img}</path>\n      </source>\n      <target>\n        <size unit='MiB'>16</size>\n        <node>0</node>\n      </target>\n    </memory>\n`;
    const xml = domain(n, '', devices)
      .replace("  <memory unit='MiB'>128</memory>\n", "  <maxMemory slots='2' unit='MiB'>1024</maxMemory>\n  <memory unit='MiB'>144</memory>\n")
      .replace('  </os>\n', "  </os>\n  <cpu>\n    <numa>\n      <cell id='0' cpus='0' memory='128' unit='MiB'/>\n    </numa>\n  </cpu>\n");
    writeFileSync(input, xml);
    validate(xml, n);
    const rows = explainJson(input);
    const nv = rows['devices/memory[1] nvdimm']!.models.dac;
    expect(nv).toMatchObject({ action: 'relabel', accessible: false });
    expect(nv.reason).toContain('no per-element opt-out');
    expect(rows['devices/rng[1]']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(annotateFile(input).output).toBe(xml);
    const r = start(n, xml);
    expect(r.stderr).toBe('');
    agree('nvdimm relabel, rng as-is → the VM starts', r.state === 'running');
    agree(`nvdimm chowned to the qemu user while running (${owner(img)})`, owner(img) === '64055:64055');
    agree('/dev/urandom untouched', owner('/dev/urandom') === '0:0' && mode('/dev/urandom') === '666');
    stop(n);
    agree('nvdimm owner given back at stop', owner(img) === `${USER}:${USER}` && mode(img) === '600');
  });

  // qemuDomainDeviceBackendChardevForeachOne: these chardevs are opened like a serial's, but security_dac.c
  // walks serial/parallel/console/channel only, and the parser drops a <seclabel> in their <source>.
  it('the chardevs of a passthrough smartcard, a redirdev and an egd rng: never chowned, used as they are (a socket QEMU cannot connect to fails the start as explain says), a seclabel there dropped at define', async () => {
    const dir = join(root, 'hosted-home');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, USER, USER);
    const socks = ['card', 'usb', 'egd', 'closed'].map((k) => join(dir, `${k}.sock`));
    const servers: Server[] = [];
    try {
      for (const sock of socks) {
        const server = createServer((c) => c.resume());
        servers.push(server);
        await new Promise<void>((r) => server.listen(sock, r));
        chownSync(sock, USER, USER);
        chmodSync(sock, 0o777);
      }
      const [card, usb, egd, closed] = socks as [string, string, string, string];
      chmodSync(closed, 0o755);
      const egdDev = (path: string) => `    <rng model='virtio'>\n      <backend model='egd' type='unix'>\n        <source mode='connect' path='${path}'/>\n      </backend>\n    </rng>\n`;
      const devices = `    <controller type='usb' model='qemu-xhci'/>
    <smartcard mode='passthrough' type='unix'>
      <source mode='connect' path='${card}'/>
    </smartcard>
    <redirdev bus='usb' type='unix'>
      <source mode='connect' path='${usb}'>
        <seclabel model='dac' relabel='no'/>
      </source>
    </redirdev>
${egdDev(egd)}`;
      const n = name('hosted');
      const input = join(root, `${n}.in.xml`);
      const xml = domain(n, '', devices);
      writeFileSync(input, xml);
      validate(xml, n);
      const rows = explainJson(input);
      for (const k of ['devices/smartcard[1]', 'devices/redirdev[1]', 'devices/rng[1]']) expect(rows[k]!.models.dac, k).toMatchObject({ action: 'as-is', accessible: true });
      expect(rows['devices/redirdev[1]']!.libvirt).toContain("dropped by libvirt's parser");
      const a = annotateFile(input);
      expect(a.code, a.stderr).toBe(0);
      expect(a.output).toBe(xml);

      const before = socks.slice(0, 3).map((f) => `${owner(f)} ${mode(f)}`);
      const r = start(n, xml);
      expect(r.stderr).toBe('');
      const during = socks.slice(0, 3).map((f) => `${owner(f)} ${mode(f)}`);
      agree(`smartcard/redirdev/egd sockets as-is connectable → the VM starts and none is chowned (${before.join(', ')} → ${during.join(', ')})`, r.state === 'running' && during.join() === before.join() && during.every((o) => o.startsWith(`${USER}:${USER} `)));
      const back = daemon.virsh('dumpxml', '--inactive', n).stdout;
      agree("the redirdev <source>'s seclabel is dropped at define (schema-valid, never honoured)", back.includes(usb) && !back.includes('<seclabel model=\'dac\''));
      stop(n);

      const n2 = name('hosted-closed');
      const input2 = join(root, `${n2}.in.xml`);
      const xml2 = domain(n2, '', egdDev(closed));
      writeFileSync(input2, xml2);
      const d = explainJson(input2)['devices/rng[1]']!.models.dac;
      expect(d).toMatchObject({ action: 'as-is', accessible: false });
      expect(cliRun('annotate', '--check', '--no-config', input2).code).toBe(1);
      const r2 = start(n2, xml2);
      process.stderr.write(`files-libvirtd: egd rng socket 0755 ${USER}:${USER}: ${r2.stderr.trim()}\n`);
      agree('egd socket QEMU may not write → the start fails connecting to it, as explain says', r2.code !== 0 && r2.stderr.includes(closed) && /Permission denied/.test(r2.stderr));
      agree('and libvirt did not chown it', `${owner(closed)} ${mode(closed)}` === `${USER}:${USER} 755`);
    } finally {
      for (const server of servers) await new Promise<void>((r) => server.close(() => r()));
    }
  });

  // virSecurityDACSetOwnership changes owner and group only: after the chown the owner bits decide.
  // A 0600 root file libvirt chowns and QEMU then reads is proven above (<sysinfo type='fwcfg'>): not started again here.
  it("a kernel libvirt chowns is judged after the chown: 0044 (readable now through other) and 0000 fail the start as explain says; the owner is given back", () => {
    const boot = join(root, 'boot-after');
    mkdirSync(boot, { mode: 0o755 });
    const results: [number, boolean][] = [];
    for (const m of [0o044, 0o000]) {
      const kernel = join(boot, `vmlinuz-${m.toString(8)}`);
      writeFileSync(kernel, fakeBzImage());
      chmodSync(kernel, m);
      const n = name(`after-chown-${m.toString(8)}`);
      const input = join(root, `${n}.in.xml`);
      const xml = domain(n, `    <kernel>${kernel}</kernel>\n    <cmdline>console=ttyS0</cmdline>\n`);
      writeFileSync(input, xml);
      const d = explainJson(input)['os/kernel']!.models.dac as FileRow['models']['dac'] & { afterChown?: boolean | null };
      const fails = m !== 0o600;
      expect(d).toMatchObject({ action: 'relabel', accessible: m === 0o044, afterChown: !fails });
      expect(cliRun('annotate', '--check', '--no-config', input).code).toBe(fails ? 1 : 0);
      const r = start(n, xml);
      process.stderr.write(`files-libvirtd: kernel mode ${m.toString(8)} root: ${r.stderr.trim() || r.state}\n`);
      const failed = r.code !== 0 && r.stderr.includes(kernel);
      agree(`kernel ${m.toString(8)} root: explain afterChown ${String(d.afterChown)} → the start ${fails ? 'fails naming it' : 'succeeds'}`, fails ? failed : r.state === 'running');
      if (!fails) {
        agree('kernel 0600 root chowned to the qemu user while running', owner(kernel) === '64055:64055');
        stop(n);
      }
      agree(`kernel ${m.toString(8)}: owner given back (${owner(kernel)}), mode unchanged (${mode(kernel)})`, owner(kernel) === '0:0' && mode(kernel) === m.toString(8));
      results.push([m, failed]);
    }
    expect(results.map(([m, f]) => `${m.toString(8)}:${f}`)).toEqual(['44:true', '0:true']);
  });

  // Neither driver has a hook for <shmem> or <graphics>: QEMU maps /dev/shm/NAME and binds the VNC socket itself.
  it('<shmem> ivshmem-plain and a VNC unix socket: never labelled; QEMU creates them where it may, and fails the start where explain says it cannot', () => {
    const shmName = `i22-${process.pid}-shm`;
    const taken = `i22-${process.pid}-taken`;
    const vncOk = join(root, 'vnc-ok');
    const vncNo = join(root, 'vnc-no');
    mkdirSync(vncOk, { mode: 0o770 });
    chownSync(vncOk, 0, 64055);
    chmodSync(vncOk, 0o770);
    mkdirSync(vncNo, { mode: 0o750 });
    writeFileSync(`/dev/shm/${taken}`, '');
    chmodSync(`/dev/shm/${taken}`, 0o600);
    const shmem = (nm: string) => `    <shmem name='${nm}'>\n      <model type='ivshmem-plain'/>\n      <size unit='M'>4</size>\n    </shmem>\n`;
    const vnc = (dir: string) => `    <graphics type='vnc'>\n      <listen type='socket' socket='${dir}/vnc.sock'/>\n    </graphics>\n`;
    // The two QEMU can create share one start; each refusal gets its own, so the failure names its file.
    const cases = [
      { what: 'shmem-new+vnc-ok', devices: shmem(shmName) + vnc(vncOk), rows: { [`devices/shmem[1] ${shmName}`]: `/dev/shm/${shmName}`, 'devices/graphics[1] vnc': `${vncOk}/vnc.sock` }, ok: true },
      { what: 'shmem-taken', devices: shmem(taken), rows: { [`devices/shmem[1] ${taken}`]: `/dev/shm/${taken}` }, ok: false },
      { what: 'vnc-no', devices: vnc(vncNo), rows: { 'devices/graphics[1] vnc': `${vncNo}/vnc.sock` }, ok: false },
    ];
    try {
      for (const c of cases) {
        const n = name(c.what.replace('+', '-'));
        const input = join(root, `${n}.in.xml`);
        const xml = domain(n, '', c.devices);
        writeFileSync(input, xml);
        validate(xml, n);
        const rows = explainJson(input);
        for (const row of Object.keys(c.rows)) expect(rows[row]!.models.dac, `${c.what} ${row}`).toMatchObject({ action: 'as-is', accessible: c.ok });
        expect(annotateFile(input).output).toBe(xml);
        expect(cliRun('annotate', '--check', '--no-config', input).code).toBe(c.ok ? 0 : 1);
        const r = start(n, xml);
        process.stderr.write(`files-libvirtd: ${c.what}: ${r.stderr.trim() || r.state}\n`);
        const paths = Object.values(c.rows);
        if (c.ok) {
          agree(`${c.what}: explain as-is usable → the VM starts, QEMU created ${paths.join(' and ')} as the qemu user (${paths.map((p) => (existsSync(p) ? owner(p) : 'missing')).join(', ')})`, r.state === 'running' && paths.every((p) => existsSync(p) && owner(p) === '64055:64055'));
          stop(n);
        } else agree(`${c.what}: explain as-is not usable → the start fails naming ${paths[0]}`, r.code !== 0 && r.stderr.includes(paths[0]!) && /Permission denied/.test(r.stderr));
      }
      agree('the taken /dev/shm file is untouched', owner(`/dev/shm/${taken}`) === '0:0' && mode(`/dev/shm/${taken}`) === '600');
    } finally {
      rmSync(`/dev/shm/${shmName}`, { force: true });
      rmSync(`/dev/shm/${taken}`, { force: true });
    }
  });

  // Last: it installs the hook into this private daemon only.
  it('the start hook refuses an annotated nvram the qemu user can no longer write, naming it, and the vars stay untouched', () => {
    const bin = join(state, 'virt-seclabel');
    writeFileSync(bin, `#!/bin/sh\nexec ${process.execPath} ${cli} "$@"\n`, { mode: 0o755 });
    const inst = cliRun('hook', 'install', '--hooks-dir', join(state, 'hooks'), '--binary', bin, '--hook-config', join(state, 'etc', 'hook.conf'));
    expect(inst.code, inst.stderr).toBe(0);
    execFileSync('kill', ['-HUP', readFileSync(join(state, 'libvirtd.pid'), 'utf8').trim()]);
    execFileSync('sleep', ['1']);
    expect(daemon.virsh('version').code).toBe(0);

    const vars = userVars('uefi-hook', true);
    const n = name('uefi-hook');
    const input = join(root, `${n}.in.xml`);
    writeFileSync(input, domain(n, uefiOs(vars)));
    const a = annotateFile(input);
    expect(a.output).toContain("<seclabel model='dac' relabel='no'/>");
    uefi.push(n);
    const first = start(n, a.output);
    expect(first.stderr).toBe('');
    agree('hook: an annotated nvram still writable → the start goes on', first.state === 'running');
    stop(n);

    execFileSync('setfacl', ['-b', vars]);
    const before = `${owner(vars)} ${mode(vars)}`;
    const r = daemon.virsh('start', n);
    process.stderr.write(`files-libvirtd: hook refusal: ${r.stderr.trim()}\n`);
    agree(
      'hook: the annotated nvram became unwritable → start refused with the hook line naming os/nvram and the file',
      r.code !== 0 && r.stderr.includes('Hook script execution failed') && r.stderr.includes(`virt-seclabel: ${n}: os/nvram (${vars}): qemu (libvirt-qemu) can no longer access it`),
    );
    agree('hook: the vars are untouched', `${owner(vars)} ${mode(vars)}` === before);
  });
});
