/**
 * Many virsh commands in one process: the reply parser against output a hostile definition could make
 * (marker-like lines, `error:` lines, NULs, a huge document), a command failing mid-batch, a virsh that
 * stops early; then the same through the real virsh (libvirt's built-in test:///default driver, no
 * daemon needed): replies byte-identical to a virsh process of their own, quoting of any word.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchScript, newToken, parseBatch, runBatch } from '../../../src/adapters/libvirt/virsh-batch.js';
import { missingRequirements } from '../../support/requirements.js';

/** What virsh prints for a batch: each reply, then the two markers (echo adds no newline on stdout). */
function virshOutput(token: string, replies: ({ out: string | Buffer } | { err: string })[]) {
  const out: Buffer[] = [];
  let err = '';
  replies.forEach((r, i) => {
    if ('out' in r) out.push(Buffer.from(r.out));
    else err += r.err;
    err += `error: ${token}-${i}\n`;
    out.push(Buffer.from(`\n${token}-${i}\n`));
  });
  return { stdout: Buffer.concat(out), stderr: err };
}

const text = (r: { ok: boolean; value?: Buffer; error?: string }) => (r.ok ? { ok: r.value!.toString('latin1') } : { error: r.error });

describe('parseBatch', () => {
  const token = newToken();

  it('returns each reply byte for byte, whatever lines the content has', () => {
    const guessed = `vsl-${'0'.repeat(32)}`;
    const hostile = [
      `<domain>\n<description>\n${guessed}-1\n\n${guessed}-0\nerror: ${guessed}-1\nerror: failed\n`,
      `${token.slice(0, -1)}-1\n${token}-9\n${token}-1x\n x${token}-1\n</description>\n</domain>\n`,
    ].join('');
    const withNul = Buffer.from([0x3c, 0x61, 0x00, 0x3e, 0x0a, 0xff, 0xfe, 0x0a]);
    const { stdout, stderr } = virshOutput(token, [{ out: hostile }, { out: withNul }, { out: '' }, { out: 'no newline at the end' }]);
    const r = parseBatch(4, token, stdout, stderr, 'exit 0');
    expect(r.answered).toBe(4);
    expect(r.replies.map(text)).toEqual([{ ok: hostile }, { ok: withNul.toString('latin1') }, { ok: '' }, { ok: 'no newline at the end' }]);
  });

  it('a huge document', () => {
    const huge = `<domain>\n${'<!-- x -->\n'.repeat(3_000_000)}</domain>\n`;
    const { stdout, stderr } = virshOutput(token, [{ out: huge }, { out: 'b\n' }]);
    const r = parseBatch(2, token, stdout, stderr, 'exit 0');
    expect(r.replies[0]!.ok && r.replies[0]!.value.equals(Buffer.from(huge))).toBe(true);
    expect(r.replies.map(text)[1]).toEqual({ ok: 'b\n' });
  });

  it('a command failing mid-batch fails alone, with virsh\'s words', () => {
    const { stdout, stderr } = virshOutput(token, [
      { out: '<domain>a</domain>\n' },
      { err: "error: failed to get domain 'x'\n" },
      { err: 'error: one\nerror: two\n' },
      { out: '<domain>c</domain>\n' },
    ]);
    const r = parseBatch(4, token, stdout, stderr, 'exit 0');
    expect(r.replies.map(text)).toEqual([{ ok: '<domain>a</domain>\n' }, { error: "failed to get domain 'x'" }, { error: 'one; two' }, { ok: '<domain>c</domain>\n' }]);
  });

  it('a virsh that stops early answers what it reached and fails the rest with what it said', () => {
    const full = virshOutput(token, [{ out: 'a\n' }, { out: 'b\n' }, { out: 'c\n' }]);
    const cut = full.stdout.indexOf(`\n${token}-1\n`);
    const r = parseBatch(3, token, full.stdout.subarray(0, cut), `error: ${token}-0\nerror: Disconnected from the daemon\n`, 'exit 1');
    expect(r.answered).toBe(1);
    expect(r.replies.map(text)).toEqual([{ ok: 'a\n' }, { error: 'virsh ended before answering: Disconnected from the daemon' }, { error: 'virsh ended before answering: Disconnected from the daemon' }]);
    expect(parseBatch(2, token, Buffer.alloc(0), '', 'killed by SIGKILL').replies.map(text)).toEqual([
      { error: 'virsh ended before answering: killed by SIGKILL' },
      { error: 'virsh ended before answering: killed by SIGKILL' },
    ]);
  });

  it('a stderr marker counts only at the start of a line', () => {
    const { stdout } = virshOutput(token, [{ out: 'a\n' }]);
    const r = parseBatch(1, token, stdout, `error: see error: ${token}-0\n`, 'exit 0');
    expect(r.answered).toBe(0);
  });

  it('the script quotes every word for virsh and echoes both markers after each command', () => {
    expect(batchScript([['dumpxml', '--domain', "it's; #a b"], ['list']], 'T')).toBe(
      "dumpxml --domain 'it'\\''s; #a b' ; echo --err T-0 ; echo '\nT-0\n' ; list ; echo --err T-1 ; echo '\nT-1\n'",
    );
  });
});

const noVirsh = missingRequirements({ commands: ['virsh'] });

describe.skipIf(noVirsh !== undefined)('runBatch with the real virsh (test:///default)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsl-virsh-batch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each word reaches virsh as it was, whatever it holds', () => {
    const words = ["it's", 'a b', 'x;y', '#z', '"q"', 'back\\slash', 'new\nline', '$HOME', '-', "''", 'tab\there', 'é'];
    const r = runBatch('test:///default', words.map((w) => ['echo', '--', w]));
    expect(r.ok && r.value.map((x) => (x.ok ? x.value.toString() : x.error))).toEqual(words);
  });

  it('a failing command mid-batch is an error of its own; the replies around it are what one virsh each prints', () => {
    const r = runBatch('test:///default', [
      ['dumpxml', '--inactive', '--domain', 'test'],
      ['dumpxml', '--inactive', '--domain', 'no-such-domain'],
      ['list', '--all', '--uuid', '--name'],
    ]);
    if (!r.ok) throw new Error(r.error);
    const alone = (...args: string[]) => execFileSync('virsh', ['-q', '-c', 'test:///default', ...args]);
    expect(r.value[0]!.ok && r.value[0]!.value.equals(alone('dumpxml', '--inactive', '--domain', 'test'))).toBe(true);
    expect(text(r.value[1]!)).toEqual({ error: "failed to get domain 'no-such-domain'" });
    expect(r.value[2]!.ok && r.value[2]!.value.equals(alone('list', '--all', '--uuid', '--name'))).toBe(true);
  });

  it('a definition with marker-like and error-like lines and 4 MB of text comes back whole', () => {
    const guessed = `vsl-${'f'.repeat(32)}`;
    const description = `\n${guessed}-1\nerror: ${guessed}-1\n\n${guessed}-2\n${'y'.repeat(4 * 1024 * 1024)}\n`;
    const file = join(dir, 'hostile.xml');
    writeFileSync(
      file,
      `<domain type='test'><name>hostile</name><description>${description}</description><memory>1024</memory><os><type>hvm</type></os></domain>\n`,
    );
    // The test driver keeps a definition for the life of its connection: define and read in one batch.
    const r = runBatch('test:///default', [['define', '--file', file], ['dumpxml', '--inactive', '--domain', 'hostile'], ['dumpxml', '--domain', 'gone']]);
    if (!r.ok) throw new Error(r.error);
    expect(r.value[0]!.ok).toBe(true);
    const xml = r.value[1]!.ok ? r.value[1]!.value.toString() : '';
    expect(xml).toContain(`<description>${description}</description>`);
    expect(xml.endsWith('</domain>\n')).toBe(true);
    expect(r.value[2]!.ok).toBe(false);
  });

  it('no connection: one failure for the whole batch, in virsh\'s words', () => {
    const r = runBatch('qemu:///system?socket=/nonexistent/sock', [['list']]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^virsh: failed to connect to the hypervisor/);
  });

  it('no virsh', () => {
    const r = runBatch('test:///default', [['list']], { virsh: join(dir, 'no-such-virsh') });
    expect(r).toEqual({ ok: false, error: 'virsh not found: install libvirt-clients (the domains mode talks to libvirt through virsh)' });
  });
});
