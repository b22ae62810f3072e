/** Builds scenarios as real trees (as root): mkdir/write/symlink, mknod, chown, chmod, then setfacl. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { ROOT, type Scenario } from './scenarios.js';

export const resolveRoot = (base: string, s: Scenario, text: string) => text.split(ROOT).join(`${base}/${s.dir}`);

/** getfacl's quoting, applied to every byte that is not plainly safe; setfacl --restore undoes it. */
function aclQuote(path: string): string {
  return [...Buffer.from(path, 'utf8')]
    .map((b) => (/[A-Za-z0-9/._-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`))
    .join('');
}

function run(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

export function buildScenarios(base: string, scenarios: readonly Scenario[]): void {
  const devices: [string, string, number, number][] = [];
  const restore: string[] = [];
  for (const s of scenarios) {
    const root = `${base}/${s.dir}`;
    fs.mkdirSync(root, { mode: 0o755 });
    for (const n of s.nodes) {
      const p = `${root}/${n.rel}`;
      if (n.kind === 'dir') fs.mkdirSync(p);
      else if (n.kind === 'file') fs.writeFileSync(p, 'x');
      else if (n.kind === 'symlink') fs.symlinkSync(resolveRoot(base, s, n.target!), p);
      else devices.push([p, n.kind, n.rdev![0], n.rdev![1]]);
    }
  }
  if (devices.length > 0) {
    run(
      '/usr/bin/python3',
      ['-I', '-S', '-c', 'import json,os,stat,sys\nfor p,k,ma,mi in json.load(sys.stdin): os.mknod(p.encode(), 0o600|(stat.S_IFBLK if k=="block" else stat.S_IFCHR), os.makedev(ma,mi))'],
      JSON.stringify(devices),
    );
  }
  for (const s of scenarios) {
    for (const n of s.nodes) {
      const p = `${base}/${s.dir}/${n.rel}`;
      fs.lchownSync(p, n.uid, n.gid);
      // chown clears setuid/setgid, so the mode goes on afterwards.
      if (n.kind !== 'symlink') fs.chmodSync(p, n.mode);
      if (n.acl) restore.push(`# file: ${aclQuote(p)}\n${n.acl.split(',').join('\n')}\n`);
    }
  }
  if (restore.length > 0) {
    const file = `${base}/.acl-restore`;
    fs.writeFileSync(file, restore.join('\n'));
    run('setfacl', [`--restore=${file}`]);
    fs.rmSync(file);
  }
}
