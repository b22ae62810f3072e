/**
 * ACL xattr decoding against the real encoder: setfacl writes the ACL, the kernel stores it, getfattr
 * returns the raw bytes, getfacl prints the entries the decoder must find.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAcl, encodeAcl, entryText, type Acl } from '../../src/dac/acl.js';
import { missingRequirements } from '../support/requirements.js';

const skip = missingRequirements({ commands: ['setfacl', 'getfacl', 'getfattr'] });

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(skip !== undefined)('decodeAcl against setfacl/getfattr/getfacl', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync('/tmp/virt-seclabel-acl-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases = [
    'u::rw-,g::r--,g:107:r--,m::r--,o::---',
    'u::rw-,u:64055:r--,g::---,m::r--,o::---',
    'u::rwx,u:0:--x,u:1000:rw-,u:4294967294:r-x,g::r-x,g:107:rw-,g:2000:---,m::rwx,o::r-x',
    'u::---,u:5:rwx,g::---,m::---,o::---',
  ];
  for (const [i, text] of cases.entries()) {
    it(`decodes what the kernel stores for ${text}`, () => {
      const file = `${dir}/f${i}`;
      fs.writeFileSync(file, '');
      sh('setfacl', [`--set=${text}`, file]);
      const hex = /=0x([0-9a-f]+)/.exec(sh('getfattr', ['--absolute-names', '-e', 'hex', '-n', 'system.posix_acl_access', file]))![1]!;
      const raw = Uint8Array.from(Buffer.from(hex, 'hex'));
      const decoded = decodeAcl(raw);
      expect(decoded.ok).toBe(true);
      const acl = (decoded as { value: Acl }).value;
      const expected = sh('getfacl', ['--absolute-names', '--numeric', '--omit-header', file])
        .split('\n')
        .map((l) => l.replace(/\s*#.*$/, ''))
        .filter(Boolean);
      expect(acl.map(entryText)).toEqual(expected);
      expect(encodeAcl(acl)).toEqual(raw);
    });
  }
});

const le = (...words: [number, number, number][]) => {
  const b = Buffer.alloc(4 + words.length * 8);
  b.writeUInt32LE(2, 0);
  words.forEach(([tag, perm, id], i) => {
    b.writeUInt16LE(tag, 4 + i * 8);
    b.writeUInt16LE(perm, 6 + i * 8);
    b.writeUInt32LE(id, 8 + i * 8);
  });
  return Uint8Array.from(b);
};
const U = 0xffffffff;

describe('decodeAcl rejects what the kernel would refuse', () => {
  it('accepts a minimal ACL and treats a bare header as no ACL', () => {
    expect(decodeAcl(le([1, 6, U], [4, 4, U], [0x20, 4, U]))).toMatchObject({ ok: true });
    expect(decodeAcl(le())).toEqual({ ok: true, value: null });
  });
  const bad: [string, Uint8Array][] = [
    ['empty', new Uint8Array()],
    ['version 1', Uint8Array.from([1, 0, 0, 0])],
    ['a partial entry', Uint8Array.from([2, 0, 0, 0, 1, 0, 6, 0])],
    ['an unknown tag', le([1, 6, U], [0x40, 4, U], [4, 4, U], [0x20, 4, U])],
    ['permission bits beyond rwx', le([1, 8, U], [4, 4, U], [0x20, 4, U])],
    ['named entries without a mask', le([1, 6, U], [2, 4, 5], [4, 4, U], [0x20, 4, U])],
    ['entries out of order', le([4, 4, U], [1, 6, U], [0x20, 4, U])],
    ['a named user -1', le([1, 6, U], [2, 4, U], [4, 4, U], [0x10, 4, U], [0x20, 4, U])],
    ['no other entry', le([1, 6, U], [4, 4, U])],
    ['two owners', le([1, 6, U], [1, 6, U], [4, 4, U], [0x20, 4, U])],
    ['an entry after other', le([1, 6, U], [4, 4, U], [0x20, 4, U], [0x10, 4, U])],
    ['more than 64 KiB', new Uint8Array(65540)],
  ];
  for (const [name, bytes] of bad) it(`rejects ${name}`, () => expect(decodeAcl(bytes).ok).toBe(false));

  it('never throws on arbitrary bytes, and what it accepts re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = decodeAcl(bytes);
        if (r.ok && r.value) expect(encodeAcl(r.value)).toEqual(bytes.length === 4 + r.value.length * 8 ? normalise(bytes) : bytes);
      }),
      { numRuns: 2000 },
    );
  });
});

/** Unnamed entries carry an ignored id; the encoder writes -1 there, as the kernel does. */
function normalise(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes);
  for (let at = 4; at < b.length; at += 8) if (![2, 8].includes(b.readUInt16LE(at))) b.writeUInt32LE(U, at + 4);
  return Uint8Array.from(b);
}
