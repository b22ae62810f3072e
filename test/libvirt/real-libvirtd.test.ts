/**
 * The proof on the real thing: a real libvirtd 9 with QEMU under TCG. For each situation the annotate CLI
 * runs on a domain, the result is defined and started, and `stat` plus libvirt's own error text show
 * whether the decision was right. A "by hand" variant of each case writes the expected seclabels
 * directly, so the libvirt facts the decisions rely on are checked even while the CLI changes.
 * Run as root (CI): starts virtlogd/libvirtd if needed via scripts/libvirtd-start.sh, stops only those.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { dropBackingFormat } from '../images/qemu-img.js';
import {
  Ledger,
  annotate,
  domainXml,
  hasNoRelabel,
  owner,
  sessionConnection,
  systemConnection as system,
  type Connection,
  type DiskSpec,
} from './libvirt-harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const skip = missingRequirements({
  root: true,
  commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'qemu-img', 'setpriv'],
});

describe.skipIf(skip !== undefined)('real libvirtd (qemu:///system and qemu:///session, TCG)', () => {
  const ledger = new Ledger();
  /** Per run, so two runs on one host never overwrite each other's record of what they started. */
  let state = '';
  const suiteStart = Date.now();
  let root = '';
  /** The qemu identity libvirt reports in `virsh capabilities` (the DAC baselabel). */
  let qemu = { uid: -1, gid: -1 };
  let counter = 0;

  const name = (what: string) => `vsl-e2e-${process.pid}-${++counter}-${what}`;
  /** A fresh directory per case: mode 0755 (searchable) unless told otherwise. */
  const caseDir = (what: string, mode = 0o755) => {
    const d = join(root, `${counter}-${what}`);
    mkdirSync(d);
    chmodSync(d, mode);
    return d;
  };
  const file = (path: string, mode: number, uid = 0, gid = 0) => {
    writeFileSync(path, Buffer.alloc(1024 * 1024));
    chownSync(path, uid, gid);
    chmodSync(path, mode);
    return path;
  };
  const qcow2Over = (path: string, base: string, mode: number, uid = 0, gid = 0, baseFormat = 'raw') => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', baseFormat, path]);
    chownSync(path, uid, gid);
    chmodSync(path, mode);
    return path;
  };
  const start = (conn: Connection, what: string, disks: readonly DiskSpec[]) => {
    const n = name(what);
    return { name: n, ...ledger.defineAndStart(conn, root, n, domainXml(n, disks)) };
  };
  /** Runs the CLI on a domain and starts what it wrote. */
  const annotateAndStart = (conn: Connection, what: string, disks: readonly DiskSpec[], ...args: string[]) => {
    const n = name(what);
    const input = join(root, `${n}.in.xml`);
    writeFileSync(input, domainXml(n, disks));
    const out = annotate(cli, input, ...args);
    expect(out.code, out.stderr).toBe(0);
    return { name: n, xml: out.stdout, stderr: out.stderr, ...ledger.defineAndStart(conn, root, n, out.stdout) };
  };
  const qemuOwner = () => `${qemu.uid}:${qemu.gid}`;

  beforeAll(() => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    state = mkdtempSync(join(repo, '.tmp/libvirtd-state-'));
    execFileSync('bash', [join(repo, 'scripts/libvirtd-start.sh'), state], { stdio: 'inherit' });
    const caps = system.virsh('capabilities').stdout;
    const label = /<baselabel type='qemu'>\+(\d+):\+(\d+)<\/baselabel>/.exec(caps);
    if (!label) throw new Error('no DAC baselabel in virsh capabilities');
    qemu = { uid: Number(label[1]), gid: Number(label[2]) };
    root = mkdtempSync('/tmp/vsl-e2e-');
    chmodSync(root, 0o755);
  });

  afterAll(() => {
    const problems = ledger.cleanUp();
    stopSessionDaemons();
    if (root) rmSync(root, { recursive: true, force: true });
    let leftRunning: string[] = [];
    if (state) {
      const started = readStartedPids(state);
      execFileSync('bash', [join(repo, 'scripts/libvirtd-stop.sh'), state], { stdio: 'inherit' });
      leftRunning = started.filter(({ pid }) => isAlive(pid)).map(({ name, pid }) => `${name} ${pid}`);
      rmSync(state, { recursive: true, force: true });
    }
    console.log(`real-libvirtd: qemu identity ${qemuOwner()}; suite took ${((Date.now() - suiteStart) / 1000).toFixed(1)} s`);
    expect(problems).toEqual([]);
    expect(leftRunning).toEqual([]);
  });

  it('the start/stop scripts give a root:root 0600 kvm node root:kvm 0660 and put it back, leaving running daemons alone', () => {
    const scratch = mkdtempSync(join(repo, '.tmp/kvm-'));
    try {
      const kvm = join(scratch, 'kvm');
      execFileSync('mknod', [kvm, 'c', '10', '232']);
      chmodSync(kvm, 0o600);
      const env = { ...process.env, VSL_KVM_DEVICE: kvm };
      execFileSync('bash', [join(repo, 'scripts/libvirtd-start.sh'), scratch], { env, stdio: 'pipe' });
      const kvmGid = Number(execFileSync('getent', ['group', 'kvm'], { encoding: 'utf8' }).split(':')[2]);
      expect([owner(kvm), (statSync(kvm).mode & 0o7777).toString(8)]).toEqual([`0:${kvmGid}`, '660']);
      expect(readStartedPids(scratch)).toEqual([]); // the suite's daemons were already up
      execFileSync('bash', [join(repo, 'scripts/libvirtd-stop.sh'), scratch], { env, stdio: 'pipe' });
      expect([owner(kvm), (statSync(kvm).mode & 0o7777).toString(8)]).toEqual(['0:0', '600']);
      expect(system.virsh('version').code).toBe(0);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  describe('a world-readable ISO in a searchable directory', () => {
    it('by hand: relabel=no keeps the owner and the VM starts; without it libvirt chowns the ISO to qemu', () => {
      const d = caseDir('iso-pub');
      const kept = file(join(d, 'kept.iso'), 0o644);
      const vm = start(system, 'iso-hand', [{ device: 'cdrom', file: kept, format: 'raw', target: 'hdc', dacNoRelabel: true }]);
      expect(vm.error).toBe('');
      expect(vm.qemuUid).toBe(qemu.uid);
      expect(owner(kept)).toBe('0:0');

      const chowned = file(join(d, 'chowned.iso'), 0o644);
      const control = start(system, 'iso-control', [{ device: 'cdrom', file: chowned, format: 'raw', target: 'hdc' }]);
      expect(control.ok).toBe(true);
      expect(owner(chowned)).toBe(qemuOwner());
      system.virsh('destroy', control.name);
      expect(owner(chowned)).toBe(qemuOwner()); // read-only media: never given back
    });

    it('virt-seclabel annotates it; the VM starts; the ISO keeps its owner', () => {
      const iso = file(join(caseDir('iso-cli'), 'cd.iso'), 0o644);
      const vm = annotateAndStart(system, 'iso-cli', [{ device: 'cdrom', file: iso, format: 'raw', target: 'hdc' }]);
      expect(hasNoRelabel(vm.xml, iso, 'dac')).toBe(true);
      expect(vm.error).toBe('');
      expect(owner(iso)).toBe('0:0');
    });
  });

  describe('grant: a 0600 ISO of a user, in a 0700 directory of theirs (issue 14)', () => {
    it('grant --apply, then annotate: QEMU reads it through ACLs, the VM starts, nothing is chowned', () => {
      const owner4 = { uid: 4114, gid: 4114 };
      const d = caseDir('i14b-grant-home', 0o700);
      chownSync(d, owner4.uid, owner4.gid);
      const iso = file(join(d, 'cd.iso'), 0o600, owner4.uid, owner4.gid);
      const n = name('i14b-grant');
      const input = join(root, `${n}.in.xml`);
      writeFileSync(input, domainXml(n, [{ device: 'cdrom', file: iso, format: 'raw', target: 'hdc' }]));
      // Before: not accessible, so annotate leaves libvirt's chown in place.
      expect(hasNoRelabel(annotate(cli, input).stdout, iso, 'dac')).toBe(false);
      const g = execFileSync(process.execPath, [cli, 'grant', '--apply', input], { encoding: 'utf8' });
      expect(g).toContain(`changed ${d}: setfacl -n -m u:${qemu.uid}:--x,m::--x`);
      expect(g).toContain(`changed ${iso}: setfacl -n -m u:${qemu.uid}:r--,m::r--`);
      const out = annotate(cli, input);
      expect(out.code, out.stderr).toBe(0);
      expect(hasNoRelabel(out.stdout, iso, 'dac')).toBe(true);
      const vm = { name: n, ...ledger.defineAndStart(system, root, n, out.stdout) };
      expect(vm.error).toBe('');
      expect(owner(iso)).toBe(`${owner4.uid}:${owner4.gid}`);
      expect(owner(d)).toBe(`${owner4.uid}:${owner4.gid}`);
      system.virsh('destroy', vm.name);
      expect(owner(iso)).toBe(`${owner4.uid}:${owner4.gid}`);
    });
  });

  describe('a world-readable ISO in a root-owned 0700 directory', () => {
    it('by hand: the VM fails with and without relabel=no, with the same QEMU error', () => {
      const d = caseDir('iso-priv-hand', 0o700);
      const a = file(join(d, 'cd.iso'), 0o644);
      const withLabel = start(system, 'priv-hand', [{ device: 'cdrom', file: a, format: 'raw', target: 'hdc', dacNoRelabel: true }]);
      const without = start(system, 'priv-control', [{ device: 'cdrom', file: a, format: 'raw', target: 'hdc' }]);
      expect(withLabel.ok).toBe(false);
      expect(without.ok).toBe(false);
      expect(withLabel.error).toContain(`Could not open '${a}': Permission denied`);
      expect(without.error).toBe(withLabel.error.replaceAll(withLabel.name, without.name));
    });

    it('virt-seclabel does not annotate it, warns, and the VM fails exactly as without virt-seclabel', () => {
      const d = caseDir('iso-priv-cli', 0o700);
      const iso = file(join(d, 'cd.iso'), 0o644);
      const disks: DiskSpec[] = [{ device: 'cdrom', file: iso, format: 'raw', target: 'hdc' }];
      const vm = annotateAndStart(system, 'priv-cli', disks);
      expect(hasNoRelabel(vm.xml, iso, 'dac')).toBe(false);
      expect(vm.stderr).toMatch(/warning/i);
      expect(vm.stderr).toContain(d);
      const plain = start(system, 'priv-plain', disks);
      expect(vm.ok).toBe(false);
      expect(vm.error).toBe(plain.error.replaceAll(plain.name, vm.name));
    });
  });

  describe('a 0600 root-owned ISO and a 0600 raw disk', () => {
    it('virt-seclabel annotates neither; libvirt chowns both as usual and the VM starts', () => {
      const d = caseDir('private-files');
      const iso = file(join(d, 'cd.iso'), 0o600);
      const disk = file(join(d, 'disk.raw'), 0o600);
      const vm = annotateAndStart(system, 'private-cli', [
        { device: 'cdrom', file: iso, format: 'raw', target: 'hdc' },
        { device: 'disk', file: disk, format: 'raw', target: 'vda' },
      ]);
      expect(hasNoRelabel(vm.xml, iso, 'dac')).toBe(false);
      expect(hasNoRelabel(vm.xml, disk, 'dac')).toBe(false);
      expect(vm.error).toBe('');
      expect([owner(iso), owner(disk)]).toEqual([qemuOwner(), qemuOwner()]);
      system.virsh('destroy', vm.name);
      // The writable disk's owner was remembered and is given back; the ISO's never is.
      expect([owner(iso), owner(disk)]).toEqual([qemuOwner(), '0:0']);
    });

    it('by hand: relabel=no on them makes QEMU fail with Permission denied (why they must not be annotated)', () => {
      const d = caseDir('private-hand');
      const disk = file(join(d, 'disk.raw'), 0o600);
      const vm = start(system, 'private-hand', [{ device: 'disk', file: disk, format: 'raw', target: 'vda', dacNoRelabel: true }]);
      expect(vm.ok).toBe(false);
      expect(vm.error).toContain(`Could not open '${disk}': Permission denied`);
    });
  });

  describe('a writable disk readable and writable through the qemu group', () => {
    it('by hand: relabel=no, the VM starts and the owner is kept', () => {
      const disk = file(join(caseDir('group-hand'), 'disk.raw'), 0o660, 0, qemu.gid);
      const vm = start(system, 'group-hand', [{ device: 'disk', file: disk, format: 'raw', target: 'vda', dacNoRelabel: true }]);
      expect(vm.error).toBe('');
      expect(owner(disk)).toBe(`0:${qemu.gid}`);
    });

    it('virt-seclabel annotates it; the VM starts; the owner is kept', () => {
      const disk = file(join(caseDir('group-cli'), 'disk.raw'), 0o660, 0, qemu.gid);
      const vm = annotateAndStart(system, 'group-cli', [{ device: 'disk', file: disk, format: 'raw', target: 'vda' }]);
      expect(hasNoRelabel(vm.xml, disk, 'dac')).toBe(true);
      expect(vm.error).toBe('');
      expect(owner(disk)).toBe(`0:${qemu.gid}`);
    });
  });

  describe('a qcow2 disk and its backing file', () => {
    const layout = (what: string, baseMode: number) => {
      const d = caseDir(what);
      const base = file(join(d, 'base.raw'), baseMode);
      const top = qcow2Over(join(d, 'top.qcow2'), base, 0o660, 0, qemu.gid);
      return { base, top, disks: [{ device: 'disk', file: top, format: 'qcow2', target: 'vda' }] as DiskSpec[] };
    };

    it('readable backing file: annotated; the VM starts; both owners kept', () => {
      const { base, top, disks } = layout('qcow2-readable', 0o644);
      const vm = annotateAndStart(system, 'qcow2-readable', disks);
      expect(hasNoRelabel(vm.xml, top, 'dac')).toBe(true);
      expect(vm.error).toBe('');
      expect([owner(top), owner(base)]).toEqual([`0:${qemu.gid}`, '0:0']);
    });

    it('unreadable backing file: not annotated; the VM starts; libvirt chowns the backing file', () => {
      const { base, top, disks } = layout('qcow2-unreadable', 0o600);
      const vm = annotateAndStart(system, 'qcow2-unreadable', disks);
      expect(hasNoRelabel(vm.xml, top, 'dac')).toBe(false);
      expect(vm.error).toBe('');
      expect(owner(base)).toBe(qemuOwner());
    });

    it('by hand: relabel=no on the top also stops the relabelling of an unreadable backing file', () => {
      const { base, disks } = layout('qcow2-hand', 0o600);
      const vm = start(system, 'qcow2-hand', disks.map((d) => ({ ...d, dacNoRelabel: true })));
      expect(vm.ok).toBe(false);
      expect(vm.error).toContain(`Could not open '${base}': Permission denied`);
      expect(owner(base)).toBe('0:0');
    });
  });

  describe('chain facts the image reader models (libvirt 9 + QEMU 7.2)', () => {
    it('a disk without <driver type> is raw to libvirt: define writes type=raw, so no image header is read', () => {
      const d = caseDir('no-driver-type');
      const top = qcow2Over(join(d, 'top.qcow2'), file(join(d, 'base.raw'), 0o644), 0o644);
      const n = name('no-driver-type');
      const xml = domainXml(n, [{ device: 'disk', file: top, format: 'qcow2', target: 'vda' }]).replace(/\s*<driver [^>]*\/>/, '');
      expect(xml).not.toContain('<driver');
      ledger.define(system, root, n, xml);
      expect(system.virsh('dumpxml', n).stdout).toMatch(/<driver name='qemu' type='raw'\/>/);
    });

    it('a backing format not recorded in the image, over a backing file with its own backing: libvirt refuses; not annotated', () => {
      const d = caseDir('probe');
      const base = file(join(d, 'base.raw'), 0o644);
      const mid = join(d, 'mid.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', mid]);
      const top = qcow2Over(join(d, 'top.qcow2'), mid, 0o660, 0, qemu.gid, 'qcow2');
      dropBackingFormat(top);
      const disks: DiskSpec[] = [{ device: 'disk', file: top, format: 'qcow2', target: 'vda' }];
      const plain = start(system, 'probe-plain', disks);
      expect(plain.error).toContain(`format of backing image '${mid}' of image '${top}' was not specified in the image metadata`);
      const vm = annotateAndStart(system, 'probe-cli', disks);
      expect(hasNoRelabel(vm.xml, top, 'dac')).toBe(false);
    });

    it('a qcow2 external data file is opened by QEMU and never labelled by libvirt 9; annotated only when accessible', () => {
      const d = caseDir('data-file');
      const dataFileImage = (what: string, dataMode: number, dataGid: number) => {
        const data = join(d, `${what}.data`);
        const image = join(d, `${what}.qcow2`);
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${data}`, image, '1M']);
        for (const [p, mode, gid] of [[image, 0o660, qemu.gid], [data, dataMode, dataGid]] as const) {
          chownSync(p, 0, gid);
          chmodSync(p, mode);
        }
        return { data, disks: [{ device: 'disk', file: image, format: 'qcow2', target: 'vda' }] as DiskSpec[] };
      };
      const closed = dataFileImage('closed', 0o600, 0);
      const plain = start(system, 'data-plain', closed.disks);
      expect(plain.error).toContain(`Could not open '${closed.data}': Permission denied`);
      expect(owner(closed.data)).toBe('0:0'); // libvirt did not chown it
      const closedCli = annotateAndStart(system, 'data-closed-cli', closed.disks);
      expect(hasNoRelabel(closedCli.xml, closed.disks[0]!.file, 'dac')).toBe(false);

      const open = dataFileImage('open', 0o660, qemu.gid);
      const openCli = annotateAndStart(system, 'data-open-cli', open.disks);
      expect(hasNoRelabel(openCli.xml, open.disks[0]!.file, 'dac')).toBe(true);
      expect(openCli.error).toBe('');
    });
  });

  describe('a shareable disk', () => {
    it('by hand: without relabel=no libvirt chowns it and never gives it back; with it the owner is kept', () => {
      const d = caseDir('shareable-hand');
      const chowned = file(join(d, 'chowned.raw'), 0o660, 0, qemu.gid);
      const control = start(system, 'share-control', [{ device: 'disk', file: chowned, format: 'raw', target: 'vda', shareable: true }]);
      expect(control.error).toBe('');
      system.virsh('destroy', control.name);
      expect(owner(chowned)).toBe(qemuOwner());

      const kept = file(join(d, 'kept.raw'), 0o660, 0, qemu.gid);
      const vm = start(system, 'share-hand', [{ device: 'disk', file: kept, format: 'raw', target: 'vda', shareable: true, dacNoRelabel: true }]);
      expect(vm.error).toBe('');
      expect(owner(kept)).toBe(`0:${qemu.gid}`);
    });

    it('virt-seclabel annotates a shareable disk writable through the qemu group; the VM starts; owner kept', () => {
      const disk = file(join(caseDir('shareable-cli'), 'disk.raw'), 0o660, 0, qemu.gid);
      const vm = annotateAndStart(system, 'share-cli', [{ device: 'disk', file: disk, format: 'raw', target: 'vda', shareable: true }]);
      expect(hasNoRelabel(vm.xml, disk, 'dac')).toBe(true);
      expect(vm.error).toBe('');
      expect(owner(disk)).toBe(`0:${qemu.gid}`);
    });
  });

  describe('a session-mode domain (qemu:///session as the unprivileged user nobody)', () => {
    const nobody = () => {
      const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
      return { uid, gid };
    };
    const session = () => {
      const home = join(root, 'session-home');
      if (!existsSync(home)) {
        mkdirSync(join(home, 'run'), { recursive: true });
        const { uid, gid } = nobody();
        for (const p of [home, join(home, 'run')]) chownSync(p, uid, gid);
        chmodSync(join(home, 'run'), 0o700);
      }
      sessionHome = home;
      return sessionConnection('nobody', String(nobody().gid), home);
    };

    it('the session connection has no DAC driver: a dac seclabel breaks the start, none starts', () => {
      const conn = session();
      expect(conn.virsh('capabilities').stdout).not.toMatch(/<model>dac<\/model>/);
      const d = caseDir('session-hand');
      const iso = file(join(d, 'cd.iso'), 0o644);
      const bad = start(conn, 'session-dac', [{ device: 'cdrom', file: iso, format: 'raw', target: 'hdc', dacNoRelabel: true }]);
      expect(bad.error).toContain("Security driver model 'dac' is not available");
      const good = start(conn, 'session-plain', [{ device: 'cdrom', file: iso, format: 'raw', target: 'hdc' }]);
      expect(good.error).toBe('');
      expect(good.qemuUid).toBe(nobody().uid);
    });

    it('virt-seclabel writes no dac seclabel for a session domain, and it starts', () => {
      const conn = session();
      const d = caseDir('session-cli');
      const iso = file(join(d, 'cd.iso'), 0o644);
      const { uid, gid } = nobody();
      const disk = file(join(d, 'disk.raw'), 0o600, uid, gid);
      const vm = annotateAndStart(conn, 'session-cli', [
        { device: 'cdrom', file: iso, format: 'raw', target: 'hdc' },
        { device: 'disk', file: disk, format: 'raw', target: 'vda' },
      ], '--connect', 'qemu:///session');
      expect(vm.xml).not.toMatch(/model=['"]dac['"]/);
      expect(vm.error).toBe('');
    });
  });
});

let sessionHome: string | undefined;

function readStartedPids(state: string): { name: string; pid: number }[] {
  const f = join(state, 'started.pids');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name = '', pid = ''] = l.split(' ');
      return { name, pid: Number(pid) };
    });
}

/** Alive and not a zombie waiting for init to reap it. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The session libvirtd and virtlogd that virsh autostarted for `nobody` in our private runtime dir. */
function stopSessionDaemons(): void {
  if (sessionHome === undefined) return;
  for (const [pidFile, comm] of [
    [join(sessionHome, 'run/libvirt/libvirtd.pid'), 'libvirtd'],
    [join(sessionHome, 'run/libvirt/virtlogd.pid'), 'virtlogd'],
  ] as const) {
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) process.kill(pid);
    } catch {
      // already gone
    }
  }
}
