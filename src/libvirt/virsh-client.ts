/**
 * The LibvirtClient over virsh (libvirt-clients). Each call is one `virsh -c URI …`. virsh defines only
 * from a file it can open (Node's stdin to a child is a socket, which /dev/stdin cannot open), so the XML
 * goes into a fresh private directory (mkdtemp: 0700, ours) that is removed right after.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failure, success, type Result } from '../result.js';
import type { DomainInfo, LibvirtClient } from './client.js';

function virsh(uri: string, args: readonly string[]): Result<Buffer, string> {
  const r = spawnSync('virsh', ['-q', '-c', uri, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return failure(code === 'ENOENT' ? 'virsh not found: install libvirt-clients (the domains mode talks to libvirt through virsh)' : `virsh: ${r.error.message}`);
  }
  if (r.status !== 0) return failure(`virsh ${args[0]}: ${r.stderr.toString().trim().replace(/^error: /gm, '').replace(/\n+/g, '; ') || `exit ${r.status}`}`);
  return success(r.stdout);
}

export function virshClient(uri: string): LibvirtClient {
  return {
    listAll() {
      const r = virsh(uri, ['list', '--all', '--name']);
      return r.ok ? success(r.value.toString().split('\n').map((l) => l.trim()).filter(Boolean)) : r;
    },
    info(name) {
      const r = virsh(uri, ['dominfo', '--domain', name]);
      if (!r.ok) return r;
      const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(r.value.toString())?.[1]?.trim();
      const persistent = field('Persistent');
      const state = field('State');
      if (persistent === undefined || state === undefined) return failure(`virsh dominfo ${name}: no Persistent/State line`);
      return success<DomainInfo>({ persistent: persistent === 'yes', state });
    },
    dumpInactive(name) {
      const r = virsh(uri, ['dumpxml', '--inactive', '--domain', name]);
      return r.ok ? success(new Uint8Array(r.value)) : r;
    },
    define(xml) {
      const dir = mkdtempSync(join(tmpdir(), 'virt-seclabel-define-'));
      try {
        const file = join(dir, 'domain.xml');
        writeFileSync(file, xml, { mode: 0o600, flag: 'wx' });
        const r = virsh(uri, ['define', '--file', file]);
        return r.ok ? success(undefined) : r;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
