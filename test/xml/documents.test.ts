/**
 * A stream of whole domain documents in one input, as `virt-install --print-xml` prints them: each is
 * annotated, everything between them is kept byte for byte, every diagnostic carries the line in the
 * whole input and says which document it belongs to, and one bad document means no output at all.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DOCUMENTS, splitDocuments } from '../../src/xml/documents.js';
import { MAX_ELEMENTS } from '../../src/xml/scanner.js';
import { runCli } from '../hardening/support/cli.js';
import { missingRequirements } from '../support/requirements.js';

const HOST = ['--models', 'dac', '--user', 'nobody', '--group', 'nogroup', '--qemu-conf', '/nonexistent/qemu.conf'];
const text = (b: Uint8Array | string) => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'));
const SECLABEL = /\r?\n *<seclabel model=.dac. relabel=.no.\/>|<\/source>/g;
/** The input again: the output with the inserted seclabels (and the end tags that opened them) taken out. */
const withoutInsertions = (out: string) => out.replace(SECLABEL, '').replace(/<source file=(['"])([^'"]+)\1>(\r?\n *)?/g, '<source file=$1$2$1/>');

const disk = (file: string, dev: string, quote = "'") =>
  `    <disk type=${quote}file${quote} device=${quote}cdrom${quote}>\n      <source file=${quote}${file}${quote}/>\n      <target dev=${quote}${dev}${quote}/>\n      <readonly/>\n    </disk>\n`;
const domain = (name: string, disks: string) => `<domain type='qemu'>\n  <name>${name}</name>\n  <devices>\n${disks}  </devices>\n</domain>`;

describe('splitDocuments', () => {
  it('one document is one part, the input itself', () => {
    const bytes = new TextEncoder().encode(domain('one', ''));
    const parts = splitDocuments(bytes);
    expect(Array.isArray(parts) && parts.length === 1 && parts[0]!.parse === bytes).toBe(true);
  });

  it('blanks what came before, so lines and columns stay those of the whole input', () => {
    const input = `\uFEFF${domain('a', '')}<!-- é𝄞 --><?xml version='1.0'?>\r\n${domain('b', '')}\n`;
    const parts = splitDocuments(new TextEncoder().encode(input));
    if (!Array.isArray(parts)) throw new Error('split');
    expect(parts.map((p) => p.index)).toEqual([1, 2]);
    const second = text(parts[1]!.parse);
    expect(second.split('\n').length).toBe(input.split('\n').length);
    expect(second.trimStart().startsWith("<domain type='qemu'>\n  <name>b</name>")).toBe(true);
    expect(text(parts[1]!.restore)).toBe("<?xml version='1.0'?>");
  });

  it(`refuses more than ${MAX_DOCUMENTS} documents`, () => {
    const many = Array.from({ length: MAX_DOCUMENTS + 1 }, (_, i) => domain(`d${i}`, '')).join('\n');
    expect(splitDocuments(new TextEncoder().encode(many))).toEqual({ tooMany: MAX_DOCUMENTS });
  });

  it('the element limit holds for the whole stream, not per document (a stream cannot multiply it)', () => {
    // Two documents, each under the per-document limit, together over it.
    const half = '<a/>'.repeat(MAX_ELEMENTS / 2 + 10);
    const stream = `<domain>${half}</domain>\n<domain>${half}</domain>\n`;
    expect(splitDocuments(new TextEncoder().encode(stream))).toEqual({ tooManyElements: MAX_ELEMENTS });
  });
});

describe('a stream through the built CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsl-stream-'));
  chmodSync(dir, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const iso = join(dir, 'shared.iso');
  writeFileSync(iso, 'iso');

  it('annotates each document and keeps everything between them byte for byte (BOM, declaration, comment, CRLF, non-ASCII)', async () => {
    const input = `\uFEFF${domain('first', disk(iso, 'hda'))}\n<!-- between: é𝄞 -->\r\n<?xml version="1.0"?>\n${domain('second', disk(iso, 'hdb', '"') + disk(join(dir, 'gone.iso'), 'hdc'))}\n`;
    const file = join(dir, 'stream.xml');
    writeFileSync(file, input);
    const r = await runCli([...HOST, file], { timeoutMs: 60_000 });
    expect(r.code, text(r.stderr)).toBe(0);
    const out = text(r.stdout);
    expect(out.match(/<seclabel/g)).toHaveLength(2);
    expect(withoutInsertions(out)).toBe(input);
    expect(out).toContain('<seclabel model="dac" relabel="no"/>'); // the second document's own quote style
    // The warning for the missing ISO names its line in the whole input and its document.
    const line = input.split('\n').findIndex((l) => l.includes('gone.iso')) + 1;
    expect(text(r.stderr)).toBe(`${file}:${line}:7: warning: document 2: disk hdc (${join(dir, 'gone.iso')}): ${join(dir, 'gone.iso')} does not exist; the VM will fail to start\n`);

    // Idempotent: the output run again changes nothing.
    writeFileSync(file, out);
    const again = await runCli([...HOST, '--check', file], { timeoutMs: 60_000 });
    expect(again.code, text(again.stderr)).toBe(0);
  });

  it('a bad second document: exit 2, its line in the whole input, no output', async () => {
    const input = `${domain('ok', disk(iso, 'hda'))}\n${domain('bad', disk(iso, 'hdb')).replace('<target', '<target <')}\n`;
    const r = await runCli([...HOST], { timeoutMs: 60_000, stdin: new TextEncoder().encode(input) });
    expect(r.code).toBe(2);
    expect(r.stdout).toHaveLength(0);
    const line = input.split('\n').findIndex((l) => l.includes('<target <')) + 1;
    expect(text(r.stderr)).toMatch(new RegExp(`^<stdin>:${line}:\\d+: error: document 2: `, 'm'));
  });

  it('no DTD in a later document either', async () => {
    const input = `${domain('ok', '')}\n<!DOCTYPE domain [<!ENTITY x "y">]>\n${domain('evil', '')}\n`;
    const r = await runCli([...HOST], { timeoutMs: 60_000, stdin: new TextEncoder().encode(input) });
    expect(r.code).toBe(2);
    expect(text(r.stderr)).toMatch(/DOCTYPE is not allowed/);
  });

  it.skipIf(missingRequirements({ commands: ['virt-install'] }) !== undefined)('the real virt-install --print-xml (install step, then the final domain)', async () => {
    const printed = execFileSync(
      'virt-install',
      ['--connect', 'test:///default', '--name', 'vsl-stream', '--memory', '512', '--vcpus', '1', '--cdrom', iso, '--disk', 'none', '--osinfo', 'detect=on,require=off', '--print-xml'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(printed.match(/<domain /g)).toHaveLength(2);
    const file = join(dir, 'virt-install.xml');
    writeFileSync(file, printed);
    copyFileSync(file, `${file}.orig`);
    const check = await runCli([...HOST, '--check', file], { timeoutMs: 60_000 });
    expect(check.code).toBe(1);
    const line = printed.split('\n').findIndex((l) => l.includes(`<source file="${iso}"`)) + 1;
    expect(text(check.stderr)).toContain(`${file}:${line}:7: warning: document 1: disk hda (${iso}): add <seclabel model='dac' relabel='no'/>`);
    const r = await runCli([...HOST, '--in-place', file], { timeoutMs: 60_000 });
    expect(r.code, text(r.stderr)).toBe(0);
    const out = execFileSync('cat', [file], { encoding: 'utf8' });
    expect(withoutInsertions(out)).toBe(printed);
    // Both documents still parse as libvirt domains: virt-xml-validate each.
    for (const doc of out.split(/(?=<domain )/)) {
      const one = join(dir, 'one.xml');
      writeFileSync(one, doc);
      expect(() => execFileSync('virt-xml-validate', [one, 'domain'], { stdio: 'pipe' })).not.toThrow();
    }
  });
});
