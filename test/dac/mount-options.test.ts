/**
 * The mount options the kernel consults on open, against the kernel: nodev (device nodes refused),
 * read-only superblock and read-only bind mount (EROFS on write), nosymfollow (ELOOP on any link).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDacAccess, type DacVerdict } from '../../src/dac/check.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import type { Identity } from './support/scenarios.js';

const skip = missingRequirements({ root: true, commands: ['setpriv', 'mount', 'umount', 'mknod'], files: ['/usr/bin/python3'] });
const id: Identity = { uid: 64055, gid: 107, groups: [107] };
const engineClass = (v: DacVerdict) => (v.accessible === true ? 'ok' : v.accessible === false ? v.errno : 'unknown');

describe.skipIf(skip !== undefined)('mount options vs the kernel', () => {
  let base = '';
  const mounts: string[] = [];
  const sh = (...args: string[]) => {
    const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  };
  const mount = (dir: string, ...args: string[]) => {
    fs.mkdirSync(dir, { recursive: true });
    sh('mount', ...args, dir);
    mounts.push(dir);
  };

  beforeAll(() => {
    base = fs.mkdtempSync('/tmp/virt-seclabel-mnt-');
    fs.chmodSync(base, 0o755);
    for (const [name, opts] of [['dev', 'mode=0755'], ['nodev', 'mode=0755,nodev'], ['rosb', 'mode=0755'], ['nosym', 'mode=0755,nosymfollow'], ['src', 'mode=0755']] as const) {
      mount(`${base}/${name}`, '-t', 'tmpfs', '-o', opts, 'tmpfs');
      fs.writeFileSync(`${base}/${name}/f`, 'x', { mode: 0o666 });
      fs.chmodSync(`${base}/${name}/f`, 0o666);
      sh('mknod', '-m', '0666', `${base}/${name}/null`, 'c', '1', '3');
      fs.symlinkSync('f', `${base}/${name}/l`);
    }
    sh('mount', '-o', 'remount,ro', `${base}/rosb`);
    mount(`${base}/robind`, '--bind', '-o', 'ro', `${base}/src`);
  });

  afterAll(() => {
    for (const m of mounts.reverse()) spawnSync('umount', [m]);
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('agrees with the kernel on every open', () => {
    const view = createLiveView();
    const queries: [string, 'read' | 'readwrite'][] = [];
    for (const dir of ['dev', 'nodev', 'rosb', 'nosym', 'src', 'robind']) {
      for (const name of ['f', 'null', 'l']) for (const want of ['read', 'readwrite'] as const) queries.push([`${base}/${dir}/${name}`, want]);
    }
    const answers = kernelOpen(id, queries);
    const rows = queries.map(([path, want], i) => ({
      path: path.slice(base.length),
      want,
      kernel: kernelClass(answers.results[i]!),
      engine: engineClass(checkDacAccess(view, { ...id }, path, want)),
    }));
    console.log(`dac mount options: ${rows.filter((r) => r.kernel === r.engine).length}/${rows.length} agree`);
    expect(rows.map((r) => ({ ...r, engine: r.kernel }))).toEqual(rows);
    // The options really had effects to compare.
    const classes = new Set(rows.map((r) => r.kernel));
    for (const c of ['ok', 'EACCES', 'EROFS', 'ELOOP']) expect(classes).toContain(c);
  });
});
