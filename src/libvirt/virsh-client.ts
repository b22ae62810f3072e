/**
 * The LibvirtClient over virsh (libvirt-clients). Each call is one `virsh -c URI …`; the XML to define
 * goes through stdin (`define /dev/stdin`), so no temporary file is written anywhere.
 */
import { spawnSync } from 'node:child_process';
import { failure, success, type Result } from '../result.js';
import type { DomainInfo, LibvirtClient } from './client.js';

function virsh(uri: string, args: readonly string[], input?: Uint8Array): Result<Buffer, string> {
  const r = spawnSync('virsh', ['-q', '-c', uri, ...args], { input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000, env: { ...process.env, LC_ALL: 'C' } });
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
      const r = virsh(uri, ['define', '/dev/stdin'], xml);
      return r.ok ? success(undefined) : r;
    },
  };
}
