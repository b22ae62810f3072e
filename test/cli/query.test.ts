/**
 * `virt-seclabel query` called in-process: every answer it prints is checked against libsepol's answer to
 * the same question; hostile lines get an error line and the stream goes on; policy selection follows
 * --policy, then selinuxfs, then /etc/selinux/config.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuery, type QueryEnvironment, type QueryOptions } from '../../src/commands/query.js';
import { selinuxTypeFromConfig } from '../../src/selinux/policy-store.js';
import { nodeSelinuxFs } from '../../src/adapters/live/selinuxfs.js';
import { rootedView } from '../support/rooted-view.js';
import { missingRequirements } from '../support/requirements.js';
import { compilePolicy } from '../selinux/differential/compile.js';
import { makeFakeSelinuxfs } from '../selinux/fake-selinuxfs.js';
import { askSepol, type SepolQuery } from '../selinux/reference/sepol.js';

const DEFAULT_POLICY = '/etc/selinux/default/policy/policy.33';
const NO_SYSTEM: QueryEnvironment = { selinuxfs: undefined, view: async () => rootedView('/nonexistent') };

async function run(opts: Partial<QueryOptions>, stdin = '', env: QueryEnvironment = NO_SYSTEM) {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: string[] = [];
  const errs: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  err.on('data', (c: Buffer) => errs.push(c.toString()));
  const code = await runQuery({ booleans: {}, ...opts }, { stdin: Readable.from([stdin]), stdout: out, stderr: err }, env);
  return { code, stdout: chunks.join(''), stderr: errs.join('') };
}

const lines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('SELINUXTYPE from /etc/selinux/config', () => {
  it('reads the value, ignoring comments and quotes', () => {
    expect(selinuxTypeFromConfig('# SELINUXTYPE=mls\nSELINUX=permissive\nSELINUXTYPE=default\n')).toBe('default');
    expect(selinuxTypeFromConfig('SELINUXTYPE="targeted"')).toBe('targeted');
    expect(selinuxTypeFromConfig('SELINUX=enforcing')).toBeUndefined();
  });
});

const skip = missingRequirements({ commands: ['cc', 'checkpolicy'], files: [DEFAULT_POLICY, '/usr/lib/x86_64-linux-gnu/libsepol.a'] });

describe.skipIf(skip)('runQuery', () => {
  const svirt = 'system_u:system_r:svirt_t:s0:c12,c345';
  const questions: SepolQuery[] = [
    { scontext: svirt, tcontext: 'system_u:object_r:public_content_t:s0', tclass: 'file', perms: ['read', 'open'] },
    { scontext: svirt, tcontext: 'system_u:object_r:public_content_t:s0', tclass: 'file', perms: ['read', 'write'] },
    { scontext: svirt, tcontext: 'system_u:object_r:nfs_t:s0', tclass: 'file', perms: ['read', 'open'] },
    { scontext: svirt, tcontext: 'system_u:object_r:nfs_t:s0', tclass: 'file', perms: ['read', 'open'], booleans: { virt_use_nfs: true } },
    { scontext: svirt, tcontext: 'system_u:object_r:svirt_image_t:s0:c1,c2', tclass: 'file', perms: ['read'] },
  ];
  let expected: ReturnType<typeof askSepol>;
  beforeAll(() => {
    expected = askSepol(DEFAULT_POLICY, questions);
  });

  it('answers one question in human form with exit 0 allowed / 1 denied, as libsepol does', async () => {
    for (const [i, q] of questions.entries()) {
      const ref = expected[i]!;
      if (!ref.ok) throw new Error('reference refused a valid question');
      const allowed = ref.allowed.every(Boolean);
      const r = await run({ policy: DEFAULT_POLICY, scontext: q.scontext, tcontext: q.tcontext, tclass: q.tclass, perms: [...q.perms], booleans: { ...q.booleans } });
      expect(r.code).toBe(allowed ? 0 : 1);
      const [first, reason] = r.stdout.split('\n');
      const denied = q.perms.filter((_, j) => !ref.allowed[j]);
      expect(first).toBe(allowed ? 'allowed' : `denied: ${denied.join(', ')}`);
      expect(reason && reason.length > 10).toBe(true);
    }
    // The set above must exercise both outcomes.
    expect(new Set(expected.map((a) => a.ok && a.allowed.every(Boolean))).size).toBe(2);
  });

  it('answers JSON Lines, one line per input, echoing the input and agreeing with libsepol', async () => {
    const input = questions.map((q) => JSON.stringify(q)).join('\n') + '\n';
    const r = await run({ policy: DEFAULT_POLICY }, input);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(questions.length);
    out.forEach((o, i) => {
      const ref = expected[i]!;
      const q = questions[i]!;
      expect(o).toMatchObject({ ...q });
      expect(o.allowed).toBe(ref.ok && ref.allowed.every(Boolean));
      expect(o.denied).toEqual(ref.ok ? q.perms.filter((_, j) => !ref.allowed[j]) : undefined);
      expect(typeof o.reason).toBe('string');
    });
  });

  it('applies command-line booleans to every line, and a line\'s own booleans on top', async () => {
    const q = { scontext: svirt, tcontext: 'system_u:object_r:nfs_t:s0', tclass: 'file', perms: ['read'] };
    const input = `${JSON.stringify(q)}\n${JSON.stringify({ ...q, booleans: { virt_use_nfs: false } })}\n`;
    const [on, off] = askSepol(DEFAULT_POLICY, [
      { ...q, booleans: { virt_use_nfs: true } },
      { ...q, booleans: { virt_use_nfs: false } },
    ]);
    const out = lines((await run({ policy: DEFAULT_POLICY, booleans: { virt_use_nfs: true } }, input)).stdout);
    expect(out.map((o) => o.allowed)).toEqual([on?.ok && on.allowed[0], off?.ok && off.allowed[0]]);
    expect(out[0]!.allowed).not.toBe(out[1]!.allowed);
  });

  it('gives an error line for every bad line and goes on', async () => {
    const good = JSON.stringify(questions[0]);
    const bad = [
      '{not json',
      '[1,2]',
      '"text"',
      JSON.stringify({ ...questions[0], perms: 'read' }),
      JSON.stringify({ ...questions[0], perms: [] }),
      JSON.stringify({ ...questions[0], scontext: 'system_u:system_r:no_such_t:s0' }),
      JSON.stringify({ ...questions[0], tclass: 'no_such_class' }),
      JSON.stringify({ ...questions[0], perms: ['read', 'fly'] }),
      JSON.stringify({ ...questions[0], booleans: { no_such_boolean: true } }),
      JSON.stringify({ ...questions[0], booleans: { virt_use_nfs: 'yes' } }),
      JSON.stringify({ tcontext: 'x' }),
      `{"scontext": "${'a'.repeat(2_000_000)}"}`,
    ];
    const input = [good, ...bad.flatMap((b) => [b, good]), ''].join('\n');
    const r = await run({ policy: DEFAULT_POLICY }, input);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(1 + bad.length * 2);
    out.forEach((o, i) => {
      if (i % 2 === 0) expect(o.allowed, `line ${i + 1}`).toBe(true);
      else {
        expect(o.allowed, `line ${i + 1}`).toBeNull();
        expect(typeof o.error).toBe('string');
      }
    });
  });

  it('exits 2 with a message for an unusable policy or an incomplete question', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'query-bad-'));
    try {
      writeFileSync(join(dir, 'junk'), 'not a policy at all');
      expect((await run({ policy: join(dir, 'junk'), scontext: svirt, tcontext: svirt, tclass: 'file', perms: ['read'] })).code).toBe(2);
      expect((await run({ policy: join(dir, 'missing') }, '')).code).toBe(2);
      const partial = await run({ policy: DEFAULT_POLICY, scontext: svirt });
      expect(partial.code).toBe(2);
      expect(partial.stderr).toMatch(/-s .* -t .* -c .* -p/);
      const invalid = await run({ policy: DEFAULT_POLICY, scontext: 'nonsense', tcontext: svirt, tclass: 'file', perms: ['read'] });
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).not.toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('policy selection without --policy', () => {
    let root: string;
    let etc: string;
    beforeAll(() => {
      // /etc/selinux/<type>/policy holds policy.30 (conditionals) and policy.33 (constraints): the
      // highest number must win, which the answers tell apart (image_t exists in both, vm_t's rules differ).
      root = mkdtempSync(join(tmpdir(), 'query-root-'));
      etc = join(root, 'etc', 'selinux');
      mkdirSync(join(etc, 'edge', 'policy'), { recursive: true });
      writeFileSync(join(etc, 'config'), 'SELINUX=permissive\nSELINUXTYPE=edge\n');
      copyFileSync(compilePolicy({ conf: 'conditionals', version: 30, mls: false, handleUnknown: 'deny' }), join(etc, 'edge', 'policy', 'policy.30'));
      copyFileSync(compilePolicy({ conf: 'constraints', version: 33, mls: false, handleUnknown: 'deny' }), join(etc, 'edge', 'policy', 'policy.33'));
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('uses /etc/selinux/config SELINUXTYPE and the highest policy.N', async () => {
      // tool_t exists only in constraints.conf (policy.33).
      const q = { scontext: 'system_u:sys_r:tool_t', tcontext: 'system_u:object_r:image_t', tclass: 'file', perms: ['read'] };
      const [ref] = askSepol(join(etc, 'edge', 'policy', 'policy.33'), [q]);
      const r = await run({ ...q, perms: [...q.perms] }, '', { selinuxfs: undefined, view: async () => rootedView(root) });
      expect(ref?.ok).toBe(true);
      expect(r.code).toBe(ref?.ok && ref.allowed[0] ? 0 : 1);
    });

    it('asks the live kernel when selinuxfs is mounted', async () => {
      const policy = compilePolicy({ conf: 'conditionals', version: 33, mls: false, handleUnknown: 'deny' });
      const fake = makeFakeSelinuxfs(policy, { current: { use_nfs: true } });
      try {
        const env = { selinuxfs: nodeSelinuxFs(fake.root, fake.transact), view: async () => rootedView(root) };
        const q = { scontext: 'system_u:sys_r:vm_t', tcontext: 'system_u:object_r:nfs_t', tclass: 'file', perms: ['read'] };
        const [ref] = askSepol(policy, [{ ...q, booleans: fake.current }]);
        const r = await run({ ...q, perms: [...q.perms] }, '', env);
        expect(fake.transactions.some((t) => t.node === 'access')).toBe(true);
        expect(r.code).toBe(ref?.ok && ref.allowed[0] ? 0 : 1);
        expect(r.stdout).toMatch(/running kernel/);
      } finally {
        fake.cleanup();
      }
    });
  });
});
