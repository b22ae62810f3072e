/** doctor's flags → its request: the usage errors the command line reports, and the targets in order. */
import { describe, expect, it } from 'vitest';
import { doctorRequest, type DoctorFlags } from '../../src/commands/doctor-request.js';
import { hostOptions } from '../cli/harness.js';

const flags = (over: Partial<DoctorFlags>): DoctorFlags => ({ files: [], domain: [], allDomains: false, path: [], stateDir: '/run/libvirt/qemu', apply: false, json: false, ...over });
const error = (over: Partial<DoctorFlags>) => {
  const r = doctorRequest(flags(over), hostOptions());
  return r.ok ? undefined : r.error;
};

describe('doctorRequest', () => {
  it('needs something to check, by absolute path', () => {
    expect(error({})).toBe('doctor: name FILEs, --domain NAME, --all-domains or --path PATH');
    expect(error({ files: ['disk.raw'] })).toBe('doctor: FILE and --path take absolute paths');
    expect(error({ path: ['images'] })).toBe('doctor: FILE and --path take absolute paths');
  });
  it('takes --owner as numbers only and --label as a context', () => {
    expect(error({ files: ['/i/a'], owner: 'qemu:qemu' })).toBe('--owner qemu:qemu: expected UID:GID (numbers)');
    expect(error({ files: ['/i/a'], owner: '4294967295:0' })).toBe('--owner 4294967295:0: expected UID:GID (numbers)');
    expect(error({ files: ['/i/a'], label: 'virt_image_t' })).toBe('--label virt_image_t: not an SELinux context (user:role:type[:level])');
  });
  it('keeps the targets and the --apply values', () => {
    const r = doctorRequest(flags({ files: ['/i/a'], domain: ['vm1', 'vm2'], allDomains: true, path: ['/srv'], owner: '4242:4243', label: 'system_u:object_r:virt_image_t:s0', apply: true }), hostOptions());
    expect(r.ok && r.value).toMatchObject({
      targets: [{ kind: 'file', path: '/i/a' }, { kind: 'domain', name: 'vm1' }, { kind: 'domain', name: 'vm2' }, { kind: 'all-domains' }, { kind: 'path', path: '/srv' }],
      options: { owner: { uid: 4242, gid: 4243 }, label: 'system_u:object_r:virt_image_t:s0' },
      apply: true,
      json: false,
    });
  });
});
