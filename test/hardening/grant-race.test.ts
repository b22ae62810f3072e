/**
 * `grant --apply` as root in a directory another user controls, while that user swaps a directory for
 * a symlink, a file for a symlink, and a directory for another directory, in a tight loop. The built
 * CLI runs many times; afterwards nothing outside the attacker's own tree carries an ACL or a changed
 * mode, whatever the interleaving (the target of every swap is a root-only file or directory).
 * Runs: GRANT_RACE_RUNS (default 40).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { CLI, runCli } from './support/cli.js';

const RUNS = Number(process.env.GRANT_RACE_RUNS ?? 40);
const skip = missingRequirements({ root: true, files: [CLI, '/usr/bin/python3'], commands: ['setpriv', 'setfacl', 'getfattr'] });
const ATTACKER = 4111;
const QEMU_UID = 61411;

/** The attacker: swaps until killed. Each swap is undone before the next, so the plan sometimes sees the real tree. */
const LOOP = `
import os, random, sys, time
home = sys.argv[1]; secret = sys.argv[2]
dl = home + "/Downloads"
while True:
    k = random.randrange(3)
    try:
        if k == 0:
            os.rename(dl, dl + ".real"); os.symlink(secret, dl)
            time.sleep(random.random() / 500)
            os.unlink(dl); os.rename(dl + ".real", dl)
        elif k == 1:
            os.rename(dl + "/x.iso", dl + "/x.real"); os.symlink(secret + "/x.iso", dl + "/x.iso")
            time.sleep(random.random() / 500)
            os.unlink(dl + "/x.iso"); os.rename(dl + "/x.real", dl + "/x.iso")
        else:
            os.rename(dl, dl + ".real"); os.mkdir(dl, 0o755); os.symlink(secret + "/x.iso", dl + "/x.iso")
            time.sleep(random.random() / 500)
            os.unlink(dl + "/x.iso"); os.rmdir(dl); os.rename(dl + ".real", dl)
    except OSError:
        pass
    time.sleep(random.random() / 200)
`;

function aclOf(p: string): string {
  const r = spawnSync('getfattr', ['-h', '--absolute-names', '-e', 'hex', '-n', 'system.posix_acl_access', p], { encoding: 'utf8', env: { LC_ALL: 'C', PATH: process.env.PATH } });
  return /=0x([0-9a-f]+)/.exec(r.stdout)?.[1] ?? 'none';
}

describe.skipIf(skip !== undefined)('grant --apply against a user swapping links and directories', () => {
  const base = fs.mkdtempSync('/tmp/i14b-grant-race-');
  const home = `${base}/home`;
  const secret = `${base}/secret`;
  const xml = `${base}/vm.xml`;

  beforeAll(() => {
    fs.chmodSync(base, 0o755);
    fs.mkdirSync(secret, { mode: 0o700 });
    fs.writeFileSync(`${secret}/x.iso`, 'root only', { mode: 0o600 });
    fs.mkdirSync(home, { mode: 0o755 });
    fs.mkdirSync(`${home}/Downloads`, { mode: 0o700 });
    fs.writeFileSync(`${home}/Downloads/x.iso`, 'alice', { mode: 0o600 });
    for (const p of [home, `${home}/Downloads`, `${home}/Downloads/x.iso`]) fs.chownSync(p, ATTACKER, ATTACKER);
    fs.writeFileSync(
      xml,
      `<domain type='kvm'><name>i14b-grant-race</name><devices><disk type='file' device='cdrom'><source file='${home}/Downloads/x.iso'/><target dev='sda' bus='sata'/><readonly/></disk></devices></domain>\n`,
    );
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it(`never puts an ACL on anything outside the attacker's tree (${RUNS} runs)`, async () => {
    const attacker = spawn('setpriv', [`--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--', '/usr/bin/python3', '-c', LOOP, home, secret], { stdio: 'ignore' });
    const codes = new Map<string, number>();
    try {
      for (let i = 0; i < RUNS; i++) {
        // Start each run from no grant at all (-P: never through a link).
        spawnSync('setfacl', ['-R', '-P', '-b', home]);
        const r = await runCli(['grant', '--apply', '--models', 'dac', '--user', `+${QEMU_UID}`, '--group', `+${QEMU_UID}`, '--qemu-conf', '/nonexistent/qemu.conf', xml], { timeoutMs: 60_000 });
        const out = Buffer.from(r.stdout).toString('utf8') + Buffer.from(r.stderr).toString('utf8');
        // 0: applied and proven; 1: the plan refused (it saw a swapped tree) or the re-check did;
        // 2: the apply refused a change because the path changed since the plan. Nothing else.
        const kind = /internal error|Error:/.test(out) ? `crash: ${out.slice(-300)}` : `exit ${r.code}${/changed since the plan/.test(out) ? ' (changed since the plan)' : ''}`;
        codes.set(kind, (codes.get(kind) ?? 0) + 1);
        expect(aclOf(secret)).toBe('none');
        expect(aclOf(`${secret}/x.iso`)).toBe('none');
      }
    } finally {
      attacker.kill('SIGKILL');
    }
    console.log(`grant race: ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(aclOf(base)).toBe('none');
    expect(fs.statSync(secret).mode & 0o7777).toBe(0o700);
    expect(fs.statSync(`${secret}/x.iso`).mode & 0o7777).toBe(0o600);
    // The loop really interfered: some runs met a swapped tree.
    expect(codes.get('exit 0') ?? 0).toBeLessThan(RUNS);
    expect(codes.get('exit 0') ?? 0).toBeGreaterThan(0);
    expect([...codes.keys()].filter((k) => !/^exit [012]\b/.test(k))).toEqual([]);
  }, 600_000);
});
