/**
 * The virsh client's reading of many domains, against a stand-in virsh that runs the batch script on a
 * table of domains and can change it mid-batch (as another libvirt client would): a domain undefined,
 * or made transient, after its dumpxml and before the batch's closing lists; a virsh that dies
 * mid-batch; the number of virsh processes for N domains.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { virshClient } from '../../../src/adapters/libvirt/virsh-client.js';
import type { DomainRead } from '../../../src/libvirt/client.js';

interface Dom {
  uuid: string;
  name: string;
  persistent: boolean;
  state: 'running' | 'shut off';
}
interface Table {
  domains: Dom[];
  /** After `dumpxml` of this UUID: undefine it, or make it transient. */
  after?: Record<string, 'undefine' | 'transient'>;
  /** Exit (as if killed) before the command with this index in the process. */
  dieAt?: number;
}

/** Runs the commands of a batch script (no quoted ';' in what the client sends for these domains). */
const STAND_IN = `#!${process.execPath}
const fs = require('node:fs');
const file = process.env.VSL_FAKE_VIRSH;
const t = JSON.parse(fs.readFileSync(file, 'utf8'));
fs.appendFileSync(file + '.log', 'process\\n');
const script = process.argv[process.argv.length - 1];
const out = [];
let i = 0;
for (const cmd of script.split(' ; ')) {
  if (!cmd.startsWith('echo')) i++;
  if (t.dieAt !== undefined && i > t.dieAt) { process.stdout.write(out.join('')); process.exit(137); }
  const w = cmd.split(' ');
  const find = (ref) => t.domains.find((d) => d.uuid === ref || d.name === ref);
  if (w[0] === 'echo' && w[1] === '--err') process.stderr.write('error: ' + w[2] + '\\n');
  else if (w[0] === 'echo') out.push(cmd.slice(6, -1));
  else if (w[0] === 'list') {
    const ds = t.domains.filter((d) => (!w.includes('--persistent') || d.persistent) && (!w.includes('--state-shutoff') || d.state === 'shut off'));
    out.push(ds.map((d) => (w.includes('--name') ? d.uuid + ' ' + d.name : d.uuid) + '\\n').join(''));
  } else if (w[0] === 'dumpxml' || w[0] === 'domuuid') {
    const d = find(w[w.length - 1]);
    if (!d) process.stderr.write("error: failed to get domain '" + w[w.length - 1] + "'\\n");
    else out.push(w[0] === 'domuuid' ? d.uuid + '\\n' : '<domain><name>' + d.name + '</name><uuid>' + d.uuid + '</uuid></domain>\\n');
    const then = d && t.after && t.after[d.uuid];
    if (then === 'undefine') t.domains = t.domains.filter((x) => x !== d);
    if (then === 'transient') d.persistent = false;
  }
}
process.stdout.write(out.join(''));
`;

const dir = mkdtempSync(join(tmpdir(), 'vsl-virsh-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const virsh = join(dir, 'virsh');
writeFileSync(virsh, STAND_IN);
chmodSync(virsh, 0o755);

const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const dom = (i: number, over: Partial<Dom> = {}): Dom => ({ uuid: uuid(i), name: `vm${i}`, persistent: true, state: 'shut off', ...over });

let n = 0;
function readAll(table: Table, names?: string[], batch?: number) {
  const file = join(dir, `table-${++n}.json`);
  writeFileSync(file, JSON.stringify(table));
  process.env.VSL_FAKE_VIRSH = file;
  const r = virshClient('test:///fake', { virsh, batch }).readDefinitions(names);
  if (!r.ok) return { error: r.error, processes: 0 };
  const reads = [...r.value].map((d: DomainRead) => (d.kind === 'persistent' ? `${d.name}: ${d.running ? 'running' : 'shut off'}` : d.kind === 'failed' ? `${d.name}: failed: ${d.why}` : `${d.name}: ${d.kind}`));
  return { reads, processes: readFileSync(`${file}.log`, 'utf8').split('\n').filter(Boolean).length };
}

describe('virshClient.readDefinitions', () => {
  it('500 domains: 1 + 2 virsh processes, each domain with its state, the transient one skipped', () => {
    const domains = Array.from({ length: 500 }, (_, i) => dom(i, i === 7 ? { state: 'running' } : i === 8 ? { persistent: false, state: 'running' } : {}));
    const r = readAll({ domains });
    expect(r.processes).toBe(3);
    expect(r.reads).toHaveLength(500);
    expect(r.reads?.slice(6, 10)).toEqual(['vm6: shut off', 'vm7: running', 'vm8: transient', 'vm9: shut off']);
  });

  it('a domain undefined or made transient after its dumpxml is a failure or a skip, never a read', () => {
    const r = readAll({ domains: [dom(1), dom(2), dom(3), dom(4)], after: { [uuid(2)]: 'undefine', [uuid(3)]: 'transient' } });
    expect(r.reads).toEqual(['vm1: shut off', 'vm2: failed: undefined while it was being read', 'vm3: transient', 'vm4: shut off']);
  });

  it('a virsh that dies mid-batch fails the domains it did not answer; the next batch reads on', () => {
    const r = readAll({ domains: [dom(1), dom(2), dom(3), dom(4), dom(5)], dieAt: 2 }, undefined, 3);
    // Every process dies before its third command: the first lists (2 commands), then each batch of 3
    // answers two dumpxml and never its lists.
    expect(r.reads).toEqual([
      'vm1: failed: virsh list: virsh ended before answering: exit 137',
      'vm2: failed: virsh list: virsh ended before answering: exit 137',
      'vm3: failed: virsh dumpxml: virsh ended before answering: exit 137',
      'vm4: failed: virsh list: virsh ended before answering: exit 137',
      'vm5: failed: virsh list: virsh ended before answering: exit 137',
    ]);
  });

  it('named domains: looked up in one process, a missing one fails alone', () => {
    const r = readAll({ domains: [dom(1), dom(2, { persistent: false })] }, ['vm1', 'nope', 'vm2', uuid(1)]);
    expect(r.processes).toBe(2);
    expect(r.reads).toEqual(['vm1: shut off', "nope: failed: virsh domuuid: failed to get domain 'nope'", 'vm2: transient', `${uuid(1)}: shut off`]);
  });
});
