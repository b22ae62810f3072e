/** qemu.conf in a snapshot: comments go, settings (as the reader sees them) and line numbers stay. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseQemuConf } from '../../src/host/qemu-conf.js';
import { shrinkQemuConf } from '../../src/adapters/snapshot/qemu-conf-shrink.js';

const settings = (text: string) => {
  const r = parseQemuConf(text);
  return r.ok ? [...r.value] : r.error;
};

describe('shrinkQemuConf', () => {
  it.skipIf(!existsSync('/etc/libvirt/qemu.conf'))("keeps the distribution file's settings in a fraction of its size", () => {
    const text = readFileSync('/etc/libvirt/qemu.conf', 'utf8');
    const shrunk = shrinkQemuConf(text);
    expect(settings(shrunk)).toEqual(settings(text));
    expect(shrunk.split('\n').length).toBe(text.split('\n').length);
    expect(shrunk.length).toBeLessThan(text.length / 5);
  });

  it('keeps settings inside lists with comment lines, and the line of an error', () => {
    const text = '# header\nuser = "qemu"\nsecurity_driver = [\n  # the MAC driver\n  "selinux",\n  "dac" ]\n';
    expect(settings(shrinkQemuConf(text))).toEqual(settings(text));
    const bad = '# c\n# c\nuser = \n';
    expect(shrinkQemuConf(bad)).toBe(bad);
  });
});
