/**
 * QEMU's option-string rules (util/qemu-option.c, util/keyval.c, vl.c lookup_opt) as the domain model
 * reads `<qemu:commandline>`: escaped commas, implied first keys, flags, last-wins, and hostile strings
 * that must parse to something or to an error value, never throw.
 */
import { describe, expect, it } from 'vitest';
import { lastValue, parseKeyval, parseQemuOpts, qemuFileArgs, splitQemuArgv } from '../../src/domain/qemu-options.js';

const items = (r: ReturnType<typeof parseQemuOpts>) => (r.ok ? r.items.map((i) => [i.key, i.value]) : r.error);

describe('parseQemuOpts (QemuOpts)', () => {
  it('reads the Ignition fw_cfg string, with name implied for -fw_cfg', () => {
    expect(items(parseQemuOpts('name=opt/com.coreos/config,file=/srv/ign/vm.ign', 'name'))).toEqual([
      ['name', 'opt/com.coreos/config'],
      ['file', '/srv/ign/vm.ign'],
    ]);
    expect(items(parseQemuOpts('opt/x,file=/a', 'name'))).toEqual([['name', 'opt/x'], ['file', '/a']]);
  });

  it('a doubled comma is a literal comma inside a value; a key ends at = or ,', () => {
    expect(items(parseQemuOpts('file=/srv/a,,b.img,format=raw'))).toEqual([['file', '/srv/a,b.img'], ['format', 'raw']]);
    expect(items(parseQemuOpts('file=/a,,,,b'))).toEqual([['file', '/a,,b']]);
    expect(items(parseQemuOpts('file=/a,,'))).toEqual([['file', '/a,']]);
    // "/a,,,b": ",," is a comma, then a single "," ends the value; "b" is a flag.
    expect(items(parseQemuOpts('file=/a,,,b'))).toEqual([['file', '/a,'], ['b', 'on']]);
    expect(items(parseQemuOpts('file=a=b=c'))).toEqual([['file', 'a=b=c']]);
  });

  it('items without = are flags (noX is X=off) when nothing is implied, and only the first is implied', () => {
    expect(items(parseQemuOpts('readonly,nosnapshot,file=/x'))).toEqual([['readonly', 'on'], ['snapshot', 'off'], ['file', '/x']]);
    expect(items(parseQemuOpts('a,b', 'name'))).toEqual([['name', 'a'], ['b', 'on']]);
  });

  it('the last occurrence of a key wins', () => {
    const r = parseQemuOpts('file=/first,file=/second');
    expect(r.ok && lastValue(r.items, 'file')).toBe('/second');
  });

  it('empty keys are errors, empty strings are empty lists, and nothing throws on hostile input', () => {
    expect(parseQemuOpts('=x').ok).toBe(false);
    expect(parseQemuOpts(',file=/x').ok).toBe(false);
    expect(items(parseQemuOpts(''))).toEqual([]);
    const hostile = [',', ',,', '=', '==', ',,,', 'file=', 'file=,', 'file=,,', '\u0000,file=/x', 'a'.repeat(100000) + ',file=/y', ',='.repeat(5000), '\ud800=,\udfff'];
    for (const s of hostile) {
      expect(() => parseQemuOpts(s)).not.toThrow();
      expect(() => parseQemuOpts(s, 'name')).not.toThrow();
      expect(() => parseKeyval(s, 'driver')).not.toThrow();
    }
    expect(items(parseQemuOpts('file='))).toEqual([['file', '']]);
  });
});

describe('escaping round trip (seeded)', () => {
  it('any value written with its commas doubled parses back to itself, in QemuOpts and keyval alike', () => {
    let seed = 22;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = [',', '=', 'a', '/', ' ', '\\', '"', 'é', '\u0000'];
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const pairs = Array.from({ length: 1 + Math.floor(next() * 4) }, (_, j) => [`k${j}${word(2).replace(/[,=]/g, 'x')}`, word(Math.floor(next() * 8))] as const);
      const text = pairs.map(([k, v]) => `${k}=${v.replace(/,/g, ',,')}`).join(',');
      const expected = pairs.map(([k, v]) => [k, v]);
      expect(items(parseQemuOpts(text)), text).toEqual(expected);
      expect(items(parseKeyval(text)), text).toEqual(expected);
    }
  });
});

describe('parseKeyval (-blockdev)', () => {
  it('dotted keys, escaped commas, an implied driver only first, no flags', () => {
    expect(items(parseKeyval('file,filename=/a,,b', 'driver'))).toEqual([['driver', 'file'], ['filename', '/a,b']]);
    expect(items(parseKeyval('driver=qcow2,file.driver=file,file.filename=/x', 'driver'))).toEqual([
      ['driver', 'qcow2'],
      ['file.driver', 'file'],
      ['file.filename', '/x'],
    ]);
    expect(parseKeyval('driver=file,readonly', 'driver').ok).toBe(false);
  });
});

describe('splitQemuArgv (lookup_opt)', () => {
  it('--x is -x, options take the next element whatever it is, bare arguments are -hda', () => {
    expect(splitQemuArgv(['--fw_cfg', 'name=a,file=/b', '-nodefaults', '/img', '-name', '-kernel'])).toEqual([
      { option: 'fw_cfg', value: 'name=a,file=/b', index: 0, valueIndex: 1 },
      { option: 'nodefaults', value: undefined, index: 2, valueIndex: 2 },
      { option: '', value: '/img', index: 3, valueIndex: 3 },
      { option: 'name', value: '-kernel', index: 4, valueIndex: 5 },
    ]);
  });
});

describe('qemuFileArgs', () => {
  it('finds the files of -fw_cfg, -drive, -blockdev (dotted and JSON), -kernel, -initrd, -bios, -device romfile and bare images', () => {
    const r = qemuFileArgs([
      '-fw_cfg', 'name=opt/com.coreos/config,file=/srv/ign/vm.ign',
      '-fw_cfg', 'name=opt/s,string=not-a-file',
      '-drive', 'if=none,id=d0,file=/srv/a,,b.qcow2,format=qcow2,readonly=on',
      '-drive', 'file=/srv/rw.img,format=raw',
      '-drive', 'file=/srv/cd.iso,media=cdrom',
      '-blockdev', 'driver=file,node-name=f,filename=/srv/bd.raw,read-only=on',
      '-blockdev', '{"driver":"qcow2","node-name":"q","file":{"driver":"file","filename":"/srv/j.qcow2"},"read-only":true}',
      '-kernel', '/boot/k', '-initrd', '/boot/i', '-bios', '/fw/bios.bin',
      '-device', 'virtio-net-pci,romfile=/srv/efi.rom',
      '/srv/bare.img',
    ]);
    expect(r.problems).toEqual([]);
    expect(r.files.map((f) => [f.option, f.path, f.access, f.format ?? null])).toEqual([
      ['fw_cfg', '/srv/ign/vm.ign', 'read', null],
      ['drive', '/srv/a,b.qcow2', 'read', 'qcow2'],
      ['drive', '/srv/rw.img', 'readwrite', 'raw'],
      ['drive', '/srv/cd.iso', 'read', null],
      ['blockdev', '/srv/bd.raw', 'read', null],
      ['blockdev', '/srv/j.qcow2', 'read', null],
      ['kernel', '/boot/k', 'read', null],
      ['initrd', '/boot/i', 'read', null],
      ['bios', '/fw/bios.bin', 'read', null],
      ['device', '/srv/efi.rom', 'read', null],
      ['', '/srv/bare.img', 'readwrite', null],
    ]);
  });

  it('relative names, protocols, bad JSON and a missing argument are problems, not guesses', () => {
    const r = qemuFileArgs(['-bios', 'OVMF.fd', '-drive', 'file=nbd:localhost:10809', '-blockdev', '{"driver":', '-fw_cfg', '=x', '-kernel']);
    expect(r.files).toEqual([]);
    expect(r.problems.map((p) => p.option)).toEqual(['bios', 'drive', 'blockdev', 'fw_cfg', 'kernel']);
  });

  it('never throws on hostile argument lists', () => {
    const nasty = ['', '-', '--', '---', '-fw_cfg', ',,', '-drive', '=', '-blockdev', '{"a":'.repeat(2000), '-blockdev', '[]', '-blockdev', 'null', '-blockdev', '{"filename":1}', '-device', ',romfile'];
    for (let i = 0; i < nasty.length; i++) expect(() => qemuFileArgs(nasty.slice(i))).not.toThrow();
    const deep = '{"file":'.repeat(100) + '{"filename":"/deep"}' + '}'.repeat(100);
    expect(() => qemuFileArgs(['-blockdev', deep])).not.toThrow();
  });
});
