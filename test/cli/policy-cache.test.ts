/**
 * The parsed-policy cache as people meet it, through the shipped build (dist/cli/main.js): the first run
 * stores the model, later runs take it and answer exactly as a run without the cache does, a damaged
 * entry is read around and replaced, a refused policy is never stored, and VIRT_SECLABEL_NO_CACHE=1 leaves
 * no trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';

const REPO = join(import.meta.dirname, '../..');
const CLI = join(REPO, 'dist/cli/main.js');
const POLICY = '/etc/selinux/default/policy/policy.33';
const skip = missingRequirements({ files: [POLICY] });

const QUERY = ['query', '--policy', POLICY, '-s', 'system_u:system_r:svirt_t:s0:c1,c2', '-t', 'system_u:object_r:public_content_t:s0', '-c', 'file', '-p', 'read,write,open'];

describe.skipIf(skip !== undefined)('parsed-policy cache, through the shipped command', () => {
  let dir: string;
  let cache: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsl-cli-cache-'));
    cache = join(dir, 'cache');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], env: Record<string, string> = { VIRT_SECLABEL_CACHE_DIR: cache }) =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, VIRT_SECLABEL_NO_CACHE: '', ...env } });
  const entries = () => (existsSync(cache) ? readdirSync(cache) : []);

  it('stores on the first run, answers from the entry later, exactly as without a cache', () => {
    const without = run(QUERY, { VIRT_SECLABEL_NO_CACHE: '1', VIRT_SECLABEL_CACHE_DIR: cache });
    expect(entries()).toEqual([]);
    expect(without.status).toBe(1); // write is denied: a real answer, not an error
    expect(without.stdout).toMatch(/^denied/);

    const first = run(QUERY);
    expect(entries()).toHaveLength(1);
    const file = join(cache, entries()[0]!);
    const before = statSync(file);
    utimesSync(file, new Date(0), new Date(0));

    const second = run(QUERY);
    const after = statSync(file);
    for (const r of [first, second]) expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: without.status, stdout: without.stdout, stderr: without.stderr });
    expect(after.ino).toBe(before.ino); // read, not rewritten
    expect(after.mtimeMs).toBeGreaterThan(0); // and marked as used
  });

  it('annotate decides the same from a cached model', () => {
    const images = join(dir, 'images');
    const xml = join(dir, 'vm.xml');
    mkdirSync(images);
    writeFileSync(join(images, 'a.iso'), 'x');
    writeFileSync(xml, `<domain type='kvm'>\n  <name>cache</name>\n  <devices>\n    <disk type='file' device='cdrom'>\n      <source file='${images}/a.iso'/>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n  </devices>\n</domain>\n`);
    const args = ['--no-config', '--user', 'nobody', '--group', 'nogroup', '--models', 'dac,selinux', '--policy', POLICY, 'explain', xml];
    const without = run(args, { VIRT_SECLABEL_NO_CACHE: '1' });
    expect(without.status, without.stderr).toBe(0);
    const first = run(args);
    const second = run(args);
    expect(entries()).toHaveLength(1);
    expect(first.stdout).toBe(without.stdout);
    expect(second.stdout).toBe(without.stdout);
  });

  it('a damaged entry is read around and replaced', () => {
    const good = run(QUERY);
    const file = join(cache, entries()[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1000]! ^= 0x40; // inside the model
    writeFileSync(file, bytes, { mode: 0o600 });
    const inode = statSync(file).ino;
    const again = run(QUERY);
    expect({ status: again.status, stdout: again.stdout }).toEqual({ status: good.status, stdout: good.stdout });
    expect(statSync(file).ino).not.toBe(inode);
    expect(readFileSync(file).equals(bytes)).toBe(false);
  });

  it('the libvirt hook reads the policy itself and never writes a cache (it runs in the daemon\'s context)', () => {
    const xml = `<domain type='kvm'>\n  <name>vsl-hook</name>\n  <devices>\n    <disk type='file' device='cdrom'><source file='${dir}/a.iso'><seclabel model='selinux' relabel='no'/></source><target dev='hdc'/><readonly/></disk>\n  </devices>\n  <seclabel type='dynamic' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:s0:c10,c20</label><imagelabel>system_u:object_r:svirt_image_t:s0:c10,c20</imagelabel></seclabel>\n</domain>\n`;
    writeFileSync(join(dir, 'a.iso'), 'x');
    const hookArgs = ['hook', '--models', 'selinux', '--policy', POLICY, '--qemu-conf', '/nonexistent/qemu.conf', '--hook-config', '/nonexistent/hook.conf', '--', 'vsl-hook', 'start', 'begin', '-'];
    const r = spawnSync(process.execPath, [CLI, ...hookArgs], { cwd: REPO, encoding: 'utf8', input: xml, env: { ...process.env, VIRT_SECLABEL_NO_CACHE: '', VIRT_SECLABEL_CACHE_DIR: cache } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/vsl-hook: disk hdc/); // it judged the disk (a build without this rule cached here)
    expect(existsSync(cache)).toBe(false);
    run(QUERY); // the same policy through another command is cached
    expect(entries()).toHaveLength(1);
  });

  it('a refused policy is refused on every run and never stored', () => {
    const bad = join(dir, 'policy.33');
    writeFileSync(bad, Buffer.alloc(4096, 7));
    const args = ['query', '--policy', bad, '-s', 'a:b:c', '-t', 'a:b:c', '-c', 'file', '-p', 'read'];
    const first = run(args);
    const second = run(args);
    expect(first.status).toBe(2);
    expect(first.stderr).toMatch(/not a usable binary policy/);
    expect(second.stderr).toBe(first.stderr);
    expect(entries()).toEqual([]);
  });
});
