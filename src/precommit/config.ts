/**
 * .virt-seclabel.json: which facts snapshot decides which domain files, for checks run where the
 * hypervisor is not (a workstation, a pre-commit hook, CI). Found like .gitignore or .editorconfig: the
 * nearest one walking up from the working directory.
 *
 *   { "facts": [ { "files": "vms/prod/**.xml", "snapshot": "facts/prod.json" },
 *                { "files": "vms/lab/*.xml",   "snapshot": "facts/lab.json" } ] }
 *
 * Patterns and snapshot paths are relative to the config file's directory; the first matching entry
 * wins. JSON, not YAML: no extra dependency, and the schema is four keys.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFully } from '../host/fd-io.js';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { failure, success, type Result } from '../result.js';
import { globToRegExp } from './glob.js';

export const CONFIG_NAME = '.virt-seclabel.json';
/** A mapping file is a few lines; a huge one is not ours. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface FactsMapping {
  readonly files: string;
  readonly match: RegExp;
  /** Absolute path of the snapshot. */
  readonly snapshot: string;
}

export interface FactsConfig {
  readonly path: string;
  readonly dir: string;
  readonly mappings: readonly FactsMapping[];
}

export function parseConfig(text: string, path: string): Result<FactsConfig, string> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return failure(`${path}: not JSON: ${(e as Error).message}`);
  }
  const bad = (what: string) => failure(`${path}: ${what} (expected { "facts": [ { "files": "PATTERN", "snapshot": "FILE" } ] })`);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return bad('not an object');
  const keys = Object.keys(data);
  if (keys.some((k) => k !== 'facts')) return bad(`unexpected key "${keys.find((k) => k !== 'facts')}"`);
  const list = (data as { facts?: unknown }).facts;
  if (!Array.isArray(list)) return bad('"facts" is not a list');
  const dir = dirname(path);
  const mappings: FactsMapping[] = [];
  for (const [i, m] of list.entries()) {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return bad(`facts[${i}] is not an object`);
    const { files, snapshot, ...rest } = m as Record<string, unknown>;
    if (Object.keys(rest).length > 0) return bad(`facts[${i}]: unexpected key "${Object.keys(rest)[0]}"`);
    if (typeof files !== 'string' || files === '') return bad(`facts[${i}].files is not a pattern`);
    if (typeof snapshot !== 'string' || snapshot === '') return bad(`facts[${i}].snapshot is not a file name`);
    mappings.push({ files, match: globToRegExp(files.replace(/^\.\//, '')), snapshot: resolve(dir, snapshot) });
  }
  return success({ path, dir, mappings });
}

/** The file's text; undefined when there is no such file (keep walking up). */
function readSmall(path: string): Result<string, string> | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return failure(`${path}: not a regular file`);
    if (st.size > MAX_CONFIG_BYTES) return failure(`${path}: larger than ${MAX_CONFIG_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    const n = readFully(fd, buf);
    return success(buf.subarray(0, n).toString('utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return failure(`${path}: cannot read: ${(e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The nearest config at or above `start`; undefined when there is none up to the root. */
export function findConfig(start: string): Result<FactsConfig | undefined, string> {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, CONFIG_NAME);
    const text = readSmall(candidate);
    if (text !== undefined) return text.ok ? parseConfig(text.value, candidate) : text;
    const up = dirname(dir);
    if (up === dir) return success(undefined);
    dir = up;
  }
}

/** The snapshot for a domain file (as named on the command line, relative to `cwd`), if any maps it. */
export function snapshotFor(config: FactsConfig, file: string, cwd: string): string | undefined {
  const rel = relative(config.dir, resolve(cwd, file));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  const slashed = rel.split(sep).join('/');
  return config.mappings.find((m) => m.match.test(slashed))?.snapshot;
}
