/**
 * The host's own virt-aa-helper, run in dry-run mode (`-d`): it reads the domain XML on stdin, prints
 * the rules it would write to /etc/apparmor.d/libvirt/libvirt-UUID.files on stderr and changes nothing.
 * `-c` (create) when the domain's profile does not exist yet, `-r` (replace) when it does, as libvirt
 * chooses. An existing but empty profile is not run at all: virt-aa-helper -r would unload and delete it
 * even in dry-run mode. The environment is emptied, as libvirt's virCommand does for it.
 */
import { existsSync } from 'node:fs';
import { lazyBuiltin } from '../../builtins.js';
import { profileName } from '../../apparmor/libvirt-profile.js';
import { VIRT_AA_HELPER, type VirtAaHelper, type VirtAaHelperRun } from '../../apparmor/virt-aa-helper.js';

// Loaded on first use: the hook opens the live host too and must not pay for child_process (src/builtins.ts).
const childProcess = lazyBuiltin<typeof import('node:child_process')>('node:child_process');
const TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 4 * 1024 * 1024;

export function createLiveVirtAaHelper(binary = VIRT_AA_HELPER): VirtAaHelper {
  return {
    run(req): VirtAaHelperRun {
      if (!existsSync(binary)) return { kind: 'missing', why: `${binary} does not exist` };
      const r = childProcess().spawnSync(binary, ['-d', req.mode === 'create' ? '-c' : '-r', '-u', profileName(req.uuid)], {
        input: req.xml,
        encoding: 'utf8',
        env: {},
        timeout: TIMEOUT_MS,
        maxBuffer: MAX_OUTPUT,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      if (r.error) return { kind: 'unknown', why: `${binary}: ${r.error.message}` };
      if (r.status === null) return { kind: 'unknown', why: `${binary} was killed by ${r.signal ?? 'a signal'}` };
      return { kind: 'ran', status: r.status, stderr: r.stderr };
    },
  };
}
