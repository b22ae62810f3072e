import { describe, expect, it } from 'vitest';
import { confStringList, parseQemuConf } from '../../src/host/qemu-conf.js';

describe('parseQemuConf', () => {
  it('reads strings, numbers, lists and comments in libvirt syntax', () => {
    const r = parseQemuConf(
      [
        '# a comment',
        'user = "libvirt-qemu"   # trailing comment',
        "group = '+107'",
        'dynamic_ownership = 0',
        'security_driver = [ "selinux",',
        '   # comment inside a list',
        '   "apparmor", ]',
        'a = 1; b = -2',
        'desc = """multi',
        'line"""',
        'after = "x"',
      ].join('\n'),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.get('user')).toBe('libvirt-qemu');
    expect(r.value.get('group')).toBe('+107');
    expect(r.value.get('dynamic_ownership')).toBe(0);
    expect(r.value.get('security_driver')).toEqual(['selinux', 'apparmor']);
    expect(r.value.get('b')).toBe(-2);
    expect(r.value.get('desc')).toBe('multi\nline');
    expect(r.value.get('after')).toBe('x');
  });

  it.each([
    ['user = "unterminated\n', 1, 'unterminated string'],
    ['\n\nuser "x"\n', 3, "expected '='"],
    ['ok = 1\nlist = [ "a" "b" ]\n', 2, "expected ','"],
    ['x = 1\n= 2\n', 2, 'expected a setting name'],
    ['x = yes\n', 1, 'expected a string, a number or a list'],
    ['x = 1 2\n', 1, 'unexpected'],
    ['x = [\n"a",\n', 3, 'unterminated list'],
  ])('names the line of a syntax error: %j', (text, line, message) => {
    const r = parseQemuConf(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.line).toBe(line);
    expect(r.error.message).toContain(message);
  });

  it('refuses absurdly nested lists instead of recursing without bound', () => {
    const r = parseQemuConf(`x = ${'['.repeat(10_000)}`);
    expect(r.ok).toBe(false);
  });

  it('takes security_driver as a string or a list', () => {
    const one = parseQemuConf('security_driver = "none"');
    const bad = parseQemuConf('security_driver = [ 1 ]');
    expect(one.ok && confStringList(one.value, 'security_driver')).toEqual({ ok: true, value: ['none'] });
    expect(bad.ok && confStringList(bad.value, 'security_driver').ok).toBe(false);
  });
});
