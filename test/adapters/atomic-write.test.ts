/**
 * The one atomic writer (src/adapters/atomic-write.ts) that annotate --in-place, facts -o, hook install
 * and the policy cache use: what it keeps, what it refuses, and that a refusal leaves the target and
 * the directory exactly as they were.
 */
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFailure, writeFileAtomic, WriteError } from '../../src/adapters/atomic-write.js';

const isRoot = process.geteuid?.() === 0;

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsl-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = (f: () => void): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(WriteError);
      return writeFailure(e);
    }
    throw new Error('expected a refusal');
  };

  it('replaces an existing file whole and keeps its mode', () => {
    const p = join(dir, 'vm.xml');
    writeFileSync(p, 'old', { mode: 0o640 });
    writeFileAtomic({ path: p, data: Buffer.from('new content') });
    expect(readFileSync(p, 'utf8')).toBe('new content');
    expect(statSync(p).mode & 0o7777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['vm.xml']);
  });

  it.runIf(isRoot)('keeps the owner of a file another user owns (root rewriting it)', () => {
    const p = join(dir, 'vm.xml');
    writeFileSync(p, 'old');
    chownSync(p, 4242, 4343);
    writeFileAtomic({ path: p, data: Buffer.from('x') });
    expect([statSync(p).uid, statSync(p).gid]).toEqual([4242, 4343]);
  });

  it('writes several parts one after the other', () => {
    const p = join(dir, 'entry');
    writeFileAtomic({ path: p, data: [Buffer.from('ab'), Buffer.from(''), Buffer.from('cd')], create: { mode: 0o600 } });
    expect(readFileSync(p, 'utf8')).toBe('abcd');
  });

  it('creates a missing file only when told how, with the umask applied as open(2) applies it', () => {
    const p = join(dir, 'facts.json');
    expect(refusal(() => writeFileAtomic({ path: p, data: Buffer.from('x') }))).toMatch(/no such file/);
    expect(readdirSync(dir)).toEqual([]);
    const old = process.umask(0o027);
    try {
      writeFileAtomic({ path: p, data: Buffer.from('x'), create: { mode: 0o644 } });
    } finally {
      process.umask(old);
    }
    expect(statSync(p).mode & 0o7777).toBe(0o640);
  });

  it.runIf(isRoot)('gives a forced mode and owner whatever the file had', () => {
    const p = join(dir, 'hook');
    writeFileSync(p, 'old', { mode: 0o600 });
    chownSync(p, 4242, 4242);
    writeFileAtomic({ path: p, data: Buffer.from('#!/bin/sh\n'), force: { mode: 0o755, owner: { uid: 0, gid: 0 } } });
    const st = statSync(p);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, 0, 0o755]);
  });

  it('never writes through a symbolic link: refused, link and target unchanged', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'target bytes');
    const link = join(dir, 'link');
    symlinkSync(target, link);
    expect(refusal(() => writeFileAtomic({ path: link, data: Buffer.from('x'), create: { mode: 0o644 } }))).toMatch(/symbolic link/);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('target bytes');
    expect(readdirSync(dir).sort()).toEqual(['link', 'target']);
  });

  it('refuses a directory and a FIFO (never opens them)', () => {
    mkdirSync(join(dir, 'd'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(refusal(() => writeFileAtomic({ path: join(dir, 'd'), data: Buffer.from('x') }))).toMatch(/not a regular file/);
    expect(refusal(() => writeFileAtomic({ path: join(dir, 'fifo'), data: Buffer.from('x') }))).toMatch(/not a regular file/);
    expect(lstatSync(join(dir, 'fifo')).isFIFO()).toBe(true);
  });

  it('refuses when the file changed since it was read, and leaves the newer content and no temp file', () => {
    const p = join(dir, 'vm.xml');
    writeFileSync(p, 'edited by someone else');
    expect(refusal(() => writeFileAtomic({ path: p, data: Buffer.from('ours'), expected: Buffer.from('what we read') }))).toMatch(/changed while it was processed/);
    expect(readFileSync(p, 'utf8')).toBe('edited by someone else');
    expect(readdirSync(dir)).toEqual(['vm.xml']);
  });

  it('writes when the file still holds what was read', () => {
    const p = join(dir, 'vm.xml');
    writeFileSync(p, 'what we read');
    writeFileAtomic({ path: p, data: Buffer.from('ours'), expected: Buffer.from('what we read') });
    expect(readFileSync(p, 'utf8')).toBe('ours');
  });

  it('says why in words when the directory cannot take the temporary file', () => {
    const p = join(dir, 'missing-dir', 'x');
    expect(refusal(() => writeFileAtomic({ path: p, data: Buffer.from('x'), create: { mode: 0o644 } }))).toMatch(/^cannot write: /);
  });

});
