/**
 * Entity and size attacks: each one is refused quickly (well under a second of parsing) with a clear
 * FILE:LINE:COL error and nothing on stdout, and nothing is ever expanded or fetched. Run through the
 * annotate command in-process (timed) and a few through the built CLI (the real process contract).
 */
import { describe, expect, it } from 'vitest';
import { DEBIAN_POLICY } from '../cli/harness.js';
import { MAX_INPUT_BYTES, parseXml } from '../../src/xml/parse.js';
import { missingRequirements } from '../support/requirements.js';
import { CLI, runCli, runCommand } from './support/cli.js';
import { checkContract } from './support/contract.js';
import { swappableHost } from './support/open-host.js';
import { annotateBytes } from './support/run-inprocess.js';

const MiB = 1024 * 1024;
const enc = new TextEncoder();
const domain = (inner: string) => `<domain type='kvm'><name>x</name><devices>${inner}</devices></domain>`;

interface Attack {
  readonly name: string;
  readonly input: () => Uint8Array;
  /** What the error must say, so the admin knows why. */
  readonly message: RegExp;
}

const DOCTYPE = /DOCTYPE is not allowed/;
const LAUGHS = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('\n');

export const ATTACKS: readonly Attack[] = [
  { name: 'billion laughs', input: () => enc.encode(`<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n${LAUGHS}\n]>\n<lolz>&lol9;</lolz>\n`), message: DOCTYPE },
  { name: 'quadratic blowup', input: () => enc.encode(`<!DOCTYPE d [<!ENTITY a "${'a'.repeat(100_000)}">]><domain>${'&a;'.repeat(50_000)}</domain>`), message: DOCTYPE },
  { name: 'external entity (XXE)', input: () => enc.encode(`<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/shadow">]>\n<domain><name>&x;</name></domain>`), message: DOCTYPE },
  { name: 'parameter entity', input: () => enc.encode(`<!DOCTYPE domain [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><domain/>`), message: DOCTYPE },
  { name: 'external DTD', input: () => enc.encode(`<?xml version="1.0"?>\n<!DOCTYPE domain SYSTEM "http://127.0.0.1:9/evil.dtd">\n<domain/>`), message: DOCTYPE },
  { name: 'public DOCTYPE', input: () => enc.encode(`<!DOCTYPE domain PUBLIC "-//x//y" "y.dtd"><domain/>`), message: DOCTYPE },
  { name: 'bare DOCTYPE', input: () => enc.encode(`<!DOCTYPE domain><domain/>`), message: DOCTYPE },
  { name: 'lower-case doctype', input: () => enc.encode(`<!doctype domain><domain/>`), message: DOCTYPE },
  { name: 'DOCTYPE inside the root', input: () => enc.encode(domain('<!DOCTYPE x [<!ENTITY y "z">]>')), message: DOCTYPE },
  { name: 'entity without a DTD', input: () => enc.encode(domain("<disk type='file'><source file='&xxe;'/></disk>")), message: /undefined entity &xxe;/ },
  { name: 'billion laughs in UTF-16', input: () => Uint8Array.from([0xff, 0xfe, ...[...`<!DOCTYPE a [${LAUGHS}]><a>&lol9;</a>`].flatMap((c) => [c.charCodeAt(0), 0])]), message: /UTF-16/ },
  { name: 'input over the size limit (17 MiB)', input: () => new Uint8Array(17 * MiB).fill(0x20), message: /over the limit/ },
  { name: 'multi-megabyte attribute value (8 MiB path)', input: () => enc.encode(domain(`<disk type='file' device='disk'><source file='/${'A'.repeat(8 * MiB)}'/><target dev='vda'/></disk>`)), message: /start tag <source> is \d+ characters long \(its longest attribute value is 8388609 characters\), over the limit of 65536/ },
  { name: 'multi-megabyte attribute value, unclosed', input: () => enc.encode(domain(`<disk type='file'><source file='/${'A'.repeat(8 * MiB)}`)), message: /attribute value/ },
  { name: 'multi-megabyte element name', input: () => enc.encode(`<${'d'.repeat(8 * MiB)}/>`), message: /^<stdin>:1:2: error: element name is longer than 1024 characters/ },
  { name: 'many attributes of 8 KiB in one tag', input: () => enc.encode(domain(`<x ${Array.from({ length: 64 }, (_, i) => `a${i}='${'v'.repeat(8192)}'`).join(' ')}/>`)), message: /start tag <x> is \d+ characters long/ },
  { name: 'very deep nesting (100 000 levels)', input: () => enc.encode(`<domain>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</domain>`), message: /nested deeper than/ },
  { name: 'very deep nesting, unclosed (2 MiB of <a>)', input: () => enc.encode('<a>'.repeat((2 * MiB) / 3)), message: /nested deeper than/ },
];

const skip = missingRequirements({ files: [DEBIAN_POLICY] });

describe.skipIf(skip)('entity and size attacks are refused quickly with a clear error', () => {
  const host = swappableHost();
  it.each(ATTACKS.map((a) => [a.name, a] as const))('%s', async (_name, attack) => {
    const input = attack.input();
    // The refusal itself (parseXml) is timed, best of two: the machine is shared and the CI bound must
    // not measure the neighbours. The whole command is run once for the output contract.
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      expect(parseXml(input).ok).toBe(false);
      best = Math.min(best, performance.now() - t0);
    }
    const r = await annotateBytes(host.ctx, input);
    const c = checkContract(r, input, '<stdin>', ['dac', 'selinux']);
    expect(c.ok ? c.outcome : c.why).toBe('refused');
    expect(r.stderr).toMatch(attack.message);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    console.log(`attack '${attack.name}': ${input.length} bytes refused in ${best.toFixed(1)} ms`);
    expect(best).toBeLessThan(1000);
  });

  it('an XInclude is plain markup: nothing is fetched or inlined', async () => {
    const input = enc.encode(domain(`<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>`));
    const r = await annotateBytes(host.ctx, input);
    expect(r.code).toBe(0);
    expect(Buffer.from(r.stdout).equals(Buffer.from(input))).toBe(true);
  });
});

describe.skipIf(missingRequirements({ files: [CLI] }))('the same attacks through the built CLI', () => {
  it.each(ATTACKS.filter((a) => /laughs$|XXE|8 MiB path|100 000/.test(a.name)).map((a) => [a.name, a] as const))('%s', async (_name, attack) => {
    const input = attack.input();
    const r = await runCli(['--models', 'dac', '--user', 'nobody', '--group', 'nogroup'], { stdin: input, timeoutMs: 30_000 });
    expect(r.timedOut).toBe(false);
    const c = checkContract(r, input, '<stdin>', ['dac']);
    expect(c.ok ? c.outcome : c.why).toBe('refused');
    expect(r.stderr).toMatch(attack.message);
  });
});

describe.skipIf(missingRequirements({ files: [CLI, '/dev/zero', '/dev/urandom'] }))('endless inputs are cut at the size limit, not read to exhaustion', () => {
  // Before the bounded readers, `virt-seclabel /dev/zero` grew past 3 GB and ran until killed.
  it.each([
    ['/dev/zero as FILE', ['/dev/zero'], '/dev/zero', undefined],
    ['/dev/zero on stdin', [], '<stdin>', '/dev/zero'],
    ['/dev/urandom on stdin', [], '<stdin>', '/dev/urandom'],
  ] as const)('%s', async (_name, files, shownAs, stdinFrom) => {
    const r = await runCommand('sh', ['-c', `exec "$0" "$@"${stdinFrom ? ` < ${stdinFrom}` : ''}`, process.execPath, CLI, '--models', 'dac', '--user', 'nobody', '--group', 'nogroup', ...files], {
      timeoutMs: 30_000,
    });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stdout).toHaveLength(0);
    expect(r.stderr).toBe(`${shownAs}:1:1: error: input is ${MAX_INPUT_BYTES + 1} bytes, over the limit of ${MAX_INPUT_BYTES} bytes (16 MiB)\n`);
  });

  it('query --policy /dev/zero', async () => {
    const r = await runCli(['query', '--policy', '/dev/zero', '-s', 'u:r:t', '-t', 'u:r:t', '-c', 'file', '-p', 'read'], { timeoutMs: 30_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read policy \/dev\/zero: larger than 67108864 bytes/);
  });
});
