/**
 * The RPM: virt-seclabel.spec built by scripts/package/build-rpm.sh with rpmbuild (Debian's rpm
 * package), then its header read back with rpm -qp: the file list, `Requires: nodejs >= 20`, the
 * version; and its payload unpacked (rpm2cpio) runs the README's demo like the build does. Installing it
 * into this Debian machine's RPM database would prove nothing more, so the test stops there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { DEMO_ARGS, REPO, VERSION, demoFromBuild } from './support.js';

const skip = missingRequirements({ commands: ['rpmbuild', 'rpm', 'rpm2cpio', 'cpio', 'npm'] });
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(skip)('the RPM', () => {
  it('builds a binary RPM with the program, its docs and Requires: nodejs >= 20, whose payload runs', () => {
    const spec = readFileSync(join(REPO, 'virt-seclabel.spec'), 'utf8');
    expect(/^Version:\s+(\S+)$/m.exec(spec)?.[1]).toBe(VERSION);

    const dir = mkdtempSync(join(tmpdir(), 'i15-ship-rpm-'));
    made.push(dir);
    const build = spawnSync('bash', [join(REPO, 'scripts/package/build-rpm.sh'), dir], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
    expect(build.status, build.stderr).toBe(0);
    const rpm = build.stdout.trim().split('\n').at(-1)!;
    expect(rpm).toMatch(new RegExp(`/virt-seclabel-${VERSION.replace(/\./g, '\\.')}-1\\.x86_64\\.rpm$`));

    const q = (...args: string[]) => execFileSync('rpm', ['-qp', ...args, rpm], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(q('--requires')).toContain('nodejs >= 20');
    // doctor --apply runs /usr/bin/python3 (the metadata lock) and getfattr/setfattr (package attr).
    expect(q('--requires')).toEqual(expect.arrayContaining(['/usr/bin/python3', 'attr']));
    const files = q('--list');
    const expected = [
      '/usr/bin/virt-seclabel',
      '/usr/lib/virt-seclabel/package.json',
      '/usr/lib/virt-seclabel/dist/cli/main.js',
      '/usr/lib/virt-seclabel/schemas/facts.schema.json',
      '/usr/lib/virt-seclabel/node_modules/@napi-rs/xattr/index.js',
      '/usr/lib/virt-seclabel/node_modules/@napi-rs/xattr-linux-x64-gnu/xattr.linux-x64-gnu.node',
      `/usr/share/doc/virt-seclabel-${VERSION}/README.md`,
      `/usr/share/doc/virt-seclabel-${VERSION}/CHANGELOG.md`,
      `/usr/share/licenses/virt-seclabel-${VERSION}/COPYRIGHT`,
    ];
    for (const f of expected) expect(files).toContain(f);
    expect(files).toContain('/usr/lib/virt-seclabel/dist/cli/program.cjs');
    // Nothing but the program, its docs and the optional parts the tree has.
    const optional = [
      ...(existsSync(join(REPO, 'man/virt-seclabel.1')) ? ['/usr/share/man/'] : []),
      ...(existsSync(join(REPO, 'contrib/libvirt-hook/virt-seclabel')) ? ['/usr/share/virt-seclabel'] : []),
      '/usr/share/bash-completion/',
      '/usr/share/zsh/',
    ];
    const allowed = ['/usr/bin/virt-seclabel', '/usr/lib/virt-seclabel', `/usr/share/doc/virt-seclabel-${VERSION}`, `/usr/share/licenses/virt-seclabel-${VERSION}`, ...optional];
    expect(files.filter((f) => !allowed.some((a) => f.startsWith(a)))).toEqual([]);

    const root = join(dir, 'root');
    mkdirSync(root);
    execFileSync('sh', ['-c', `rpm2cpio "$1" | cpio -idm --quiet`, 'sh', rpm], { cwd: root });
    const wrapper = readFileSync(join(root, 'usr/bin/virt-seclabel'), 'utf8');
    expect(wrapper).toContain('exec /usr/bin/node /usr/lib/virt-seclabel/dist/cli/main.js "$@"');
    const demo = spawnSync(process.execPath, [join(root, 'usr/lib/virt-seclabel/dist/cli/main.js'), ...DEMO_ARGS], { cwd: REPO, encoding: 'utf8' });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toBe(demoFromBuild());

    // The Cockpit page, built by the same rpmbuild as a noarch subpackage: the page only, needing the
    // bridge and this very version of the CLI it runs, its licence the one its bundled packages give.
    const page = join(dir, 'rpmbuild/RPMS/noarch', `cockpit-virt-seclabel-${VERSION}-1.noarch.rpm`);
    expect(existsSync(page), `${page} was not built (dist/cockpit/ missing? npm run build)`).toBe(true);
    const qc = (...args: string[]) => execFileSync('rpm', ['-qp', ...args, page], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(qc('--requires').filter((r) => !r.startsWith('rpmlib('))).toEqual(['cockpit-bridge', `virt-seclabel = ${VERSION}-1`]);
    expect(qc('--qf', '%{LICENSE}')).toEqual([execFileSync('bash', [join(REPO, 'scripts/package/copyright.sh'), 'cockpit-rpm'], { encoding: 'utf8' }).trim()]);
    expect(qc('--list')).toEqual([
      '/usr/share/cockpit/virt-seclabel',
      '/usr/share/cockpit/virt-seclabel/index.css',
      '/usr/share/cockpit/virt-seclabel/index.html',
      '/usr/share/cockpit/virt-seclabel/index.js',
      '/usr/share/cockpit/virt-seclabel/manifest.json',
      `/usr/share/licenses/cockpit-virt-seclabel-${VERSION}`,
      `/usr/share/licenses/cockpit-virt-seclabel-${VERSION}/COPYRIGHT`,
    ]);
    const pageRoot = join(dir, 'page-root');
    mkdirSync(pageRoot);
    execFileSync('sh', ['-c', `rpm2cpio "$1" | cpio -idm --quiet`, 'sh', page], { cwd: pageRoot });
    expect(readFileSync(join(pageRoot, 'usr/share/cockpit/virt-seclabel/index.js'))).toEqual(readFileSync(join(REPO, 'dist/cockpit/virt-seclabel/index.js')));
  }, 400_000);
});
