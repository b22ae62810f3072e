import { describe, expect, it } from 'vitest';
import { accountNames, parseGroup, parseId, parsePasswd, readAccounts } from '../../src/host/accounts.js';
import { memoryView } from '../support/memory-view.js';

describe('passwd and group parsing (glibc files backend)', () => {
  it('skips comments, blank, NIS-compat and malformed lines instead of inventing accounts', () => {
    const text = ['# comment', '', 'root:x:0:0:root:/root:/bin/sh', '+nis::::::', 'bad:x:1:1', 'neg:x:-1:0::/:/bin/sh', 'big:x:4294967295:0::/:/bin/sh', 'qemu:x:107:107::/:/sbin/nologin'].join('\n');
    expect(parsePasswd(text)).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root' },
      { name: 'qemu', uid: 107, gid: 107, home: '/' },
    ]);
    expect(parseGroup('kvm:x:107:\nstorage:x:3000:a,b\nbroken:x:zz:\n')).toEqual([
      { name: 'kvm', gid: 107, members: [] },
      { name: 'storage', gid: 3000, members: ['a', 'b'] },
    ]);
  });

  it('accepts only plain decimal ids below (uid_t)-1', () => {
    expect([parseId('0'), parseId('4294967294'), parseId('4294967295'), parseId('+1'), parseId(' 1'), parseId('1e3')]).toEqual([0, 4294967294, undefined, undefined, undefined, undefined]);
  });

  it('reads both files through the view and names ids (first entry wins)', () => {
    const view = memoryView({}, { text: { '/etc/passwd': 'a:x:1:1::/:/bin/sh\nb:x:1:1::/:/bin/sh\n', '/etc/group': 'g:x:1:\n' } });
    const acc = readAccounts(view);
    expect(acc.ok).toBe(true);
    if (!acc.ok) return;
    const names = accountNames(acc.value);
    expect([names.userName(1), names.groupName(1), names.userName(2)]).toEqual(['a', 'g', undefined]);
    expect(readAccounts(memoryView({})).ok).toBe(false);
  });
});
