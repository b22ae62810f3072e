/**
 * The LibvirtClient over virsh (libvirt-clients), a virsh process per batch of commands rather than per
 * command (virsh-batch.ts): starting virsh and connecting costs ~40 ms, a command over the open
 * connection well under 1 ms. Reading N domains takes 1 + ceil(N / BATCH) processes:
 *   1. which domains: `list --all --uuid --name` (or `domuuid` for each named one), and which are persistent;
 *   2. per batch: `dumpxml --inactive` of each persistent one by UUID, then `list --all --uuid` with
 *      --persistent and --state-shutoff, so a domain undefined (or made transient) while it was read is
 *      a failure (or skipped) of its own rather than a definition that no longer exists.
 * virsh defines only from a file it can open (Node's stdin to a child is a socket, which /dev/stdin cannot
 * open), so the XML goes into a fresh private directory (mkdtemp: 0700, ours) that is removed right after.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failure, success, type Result } from '../../result.js';
import type { DomainRead, LibvirtClient } from '../../libvirt/client.js';
import { MAX_SCRIPT_BYTES, runBatch, scriptBytes, type BatchOptions } from './virsh-batch.js';

export interface VirshClientOptions extends BatchOptions {
  /** The most domains read by one virsh process (bounds its output held in memory). */
  readonly batch?: number;
}

type Command = readonly string[];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const lines = (b: Buffer) => b.toString().split('\n').filter((l) => l !== '');
const uuids = (b: Buffer) => new Set(lines(b).map((l) => l.trim()));

/** Items cut into runs whose commands, with `tail` after each run, fit one virsh argument and `max`. */
function batches<T>(items: readonly T[], command: (t: T) => Command, tail: readonly Command[], max: number): T[][] {
  const tailBytes = tail.reduce((n, c) => n + scriptBytes(c), 0);
  const out: T[][] = [];
  let run: T[] = [];
  let bytes = tailBytes;
  for (const item of items) {
    const b = scriptBytes(command(item));
    if (run.length > 0 && (run.length >= max || bytes + b > MAX_SCRIPT_BYTES)) {
      out.push(run);
      run = [];
      bytes = tailBytes;
    }
    run.push(item);
    bytes += b;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** Runs items' commands then `tail`, a batch per virsh process; yields each batch's replies. */
function* batched<T>(uri: string, opts: VirshClientOptions, items: readonly T[], command: (t: T) => Command, tail: readonly Command[]) {
  for (const run of batches(items, command, tail, opts.batch ?? 250)) {
    const r = runBatch(uri, [...run.map(command), ...tail], opts);
    const lost = failure(r.ok ? '' : r.error.replace(/^virsh: /, ''));
    yield { run, replies: r.ok ? r.value.slice(0, run.length) : run.map(() => lost), tail: r.ok ? r.value.slice(run.length) : tail.map(() => lost) };
  }
}

const said = (command: Command, r: Result<Buffer, string>): Result<Buffer, string> => (r.ok ? r : failure(`virsh ${command[0]}: ${r.error}`));

const LIST_ALL: Command = ['list', '--all', '--uuid', '--name'];
const PERSISTENT: Command = ['list', '--all', '--uuid', '--persistent'];
const EXISTING: Command = ['list', '--all', '--uuid'];
const SHUT_OFF: Command = ['list', '--all', '--uuid', '--state-shutoff'];

export function virshClient(uri: string, opts: VirshClientOptions = {}): LibvirtClient {
  const one = (command: Command): Result<Buffer, string> => {
    const r = runBatch(uri, [command], opts);
    return r.ok ? said(command, r.value[0]!) : r;
  };

  /** Step 1: each domain's name and UUID (or why it has none), and whether it was persistent. */
  function which(names: readonly string[] | undefined): Result<{ name: string; uuid: Result<string, string>; persistent: boolean }[], string> {
    if (names === undefined) {
      const r = runBatch(uri, [LIST_ALL, PERSISTENT], opts);
      if (!r.ok) return r;
      const [all, persistent] = r.value.map((x, i) => said([LIST_ALL, PERSISTENT][i]!, x));
      if (!all!.ok) return all!;
      if (!persistent!.ok) return persistent!;
      const p = uuids(persistent!.value);
      const out = [];
      for (const l of lines(all!.value)) {
        const uuid = l.slice(0, 36);
        if (!UUID.test(uuid) || l[36] !== ' ') return failure(`virsh list: unexpected line ${JSON.stringify(l)}`);
        out.push({ name: l.slice(37), uuid: success(uuid), persistent: p.has(uuid) });
      }
      return success(out);
    }
    const out = [];
    const domuuid = (n: string): Command => ['domuuid', '--domain', n];
    for (const { run, replies, tail } of batched(uri, opts, names, domuuid, [PERSISTENT])) {
      const listed = said(PERSISTENT, tail[0]!);
      const persistent = listed.ok ? success(uuids(listed.value)) : listed;
      for (const [i, name] of run.entries()) {
        const r = said(domuuid(name), replies[i]!);
        const uuid = r.ok ? r.value.toString().trim() : '';
        if (!r.ok) out.push({ name, uuid: r, persistent: false });
        else if (!UUID.test(uuid)) out.push({ name, uuid: failure(`virsh domuuid: unexpected answer ${JSON.stringify(r.value.toString())}`), persistent: false });
        else if (!persistent.ok) out.push({ name, uuid: persistent, persistent: false });
        else out.push({ name, uuid: success(uuid), persistent: persistent.value.has(uuid) });
      }
    }
    return success(out);
  }

  function* read(domains: ReturnType<typeof which> & { ok: true }): Generator<DomainRead> {
    const wanted = domains.value.filter((d) => d.uuid.ok && d.persistent).map((d) => (d.uuid as { value: string }).value);
    const dumpxml = (uuid: string): Command => ['dumpxml', '--inactive', '--domain', uuid];
    const got = new Map<string, DomainRead>();
    const pending = batched(uri, opts, wanted, dumpxml, [EXISTING, PERSISTENT, SHUT_OFF]);
    for (const d of domains.value) {
      if (!d.uuid.ok) {
        yield { name: d.name, kind: 'failed', why: d.uuid.error };
        continue;
      }
      if (!d.persistent) {
        yield { name: d.name, kind: 'transient' };
        continue;
      }
      const uuid = d.uuid.value;
      // Batches are read in the order their domains are reached: one batch's XML in memory at a time.
      while (!got.has(uuid)) {
        const next = pending.next();
        if (next.done) throw new Error(`virsh client: domain ${uuid} was never read`);
        const { run, replies, tail } = next.value;
        // The three lists after the batch, each as a set of UUIDs (or why virsh could not list).
        const [existing, persistent, shutOff] = tail.map((t, i) => {
          const r = said([EXISTING, PERSISTENT, SHUT_OFF][i]!, t);
          return r.ok ? success(uuids(r.value)) : r;
        }) as [Result<Set<string>, string>, Result<Set<string>, string>, Result<Set<string>, string>];
        got.clear();
        for (const [i, id] of run.entries()) {
          const x = said(dumpxml(id), replies[i]!);
          const base = { name: '' };
          if (!x.ok) got.set(id, { ...base, kind: 'failed', why: x.error });
          else if (!existing.ok) got.set(id, { ...base, kind: 'failed', why: existing.error });
          else if (!persistent.ok) got.set(id, { ...base, kind: 'failed', why: persistent.error });
          else if (!shutOff.ok) got.set(id, { ...base, kind: 'failed', why: shutOff.error });
          else if (!existing.value.has(id)) got.set(id, { ...base, kind: 'failed', why: 'undefined while it was being read' });
          else if (!persistent.value.has(id)) got.set(id, { ...base, kind: 'transient' });
          else got.set(id, { ...base, kind: 'persistent', ref: id, running: !shutOff.value.has(id), xml: new Uint8Array(x.value) });
        }
      }
      yield { ...got.get(uuid)!, name: d.name };
    }
  }

  return {
    readDefinitions(names) {
      const domains = which(names);
      return domains.ok ? success(read(domains)) : domains;
    },
    dumpInactive(ref) {
      const r = one(['dumpxml', '--inactive', '--domain', ref]);
      return r.ok ? success(new Uint8Array(r.value)) : r;
    },
    define(xml) {
      const dir = mkdtempSync(join(tmpdir(), 'virt-seclabel-define-'));
      try {
        const file = join(dir, 'domain.xml');
        writeFileSync(file, xml, { mode: 0o600, flag: 'wx' });
        const r = one(['define', '--file', file]);
        return r.ok ? success(undefined) : r;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
