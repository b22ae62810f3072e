/**
 * QEMU's own syntax for option strings, so the files a `<qemu:commandline>` hands to QEMU are read the
 * way QEMU reads them:
 *
 * - QemuOpts (util/qemu-option.c, `-fw_cfg`, `-drive`, `-device`): `key=value` items separated by `,`;
 *   inside a value `,,` is a literal comma (get_opt_value); a key ends at the first `=` or `,`
 *   (strcspn "=,"); an item without `=` is the implied first option when the list has one (`-fw_cfg`'s
 *   `name`, `-device`'s `driver`), otherwise a flag (`foo` → on, `nofoo` → off); `id` is set apart; the
 *   last occurrence of a key wins (qemu_opt_find walks from the tail).
 * - keyval (util/keyval.c, `-blockdev`): the same items and comma escaping, dotted keys, the implied key
 *   only for the first item, and no flags (an item without `=` elsewhere is an error); or JSON when the
 *   string starts with `{`.
 * - argv (softmmu/vl.c lookup_opt): `--foo` is `-foo`; an option with an argument takes the next argv
 *   element whatever it looks like; an argument not starting with `-` is a disk image (`-hda`).
 *
 * Pure and total: any string parses to something or to an error value, never an exception.
 */

export interface OptItem {
  readonly key: string;
  readonly value: string;
}

export type OptsParse = { readonly ok: true; readonly items: readonly OptItem[] } | { readonly ok: false; readonly error: string };

/** get_opt_value: up to the first single comma; `,,` is one literal comma. Returns the value and the index of the stop. */
function optValue(s: string, from: number): { value: string; end: number } {
  let value = '';
  let p = from;
  for (;;) {
    const comma = s.indexOf(',', p);
    const stop = comma === -1 ? s.length : comma;
    if (stop < s.length && s[stop + 1] === ',') {
      value += s.slice(p, stop + 1);
      p = stop + 2;
      continue;
    }
    value += s.slice(p, stop);
    return { value, end: stop };
  }
}

/** Index of the first '=' or ',' at or after `from` (strcspn(params, "=,")). */
function keyEnd(s: string, from: number): number {
  for (let i = from; i < s.length; i++) if (s[i] === '=' || s[i] === ',') return i;
  return s.length;
}

/** QemuOpts' opts_do_parse. `implied` is the list's implied_opt_name when the caller permits abbreviation. */
export function parseQemuOpts(s: string, implied?: string): OptsParse {
  const items: OptItem[] = [];
  let firstname = implied;
  let p = 0;
  while (p < s.length) {
    const len = keyEnd(s, p);
    let key: string;
    let value: string;
    let end: number;
    if (s[len] !== '=') {
      if (firstname !== undefined) {
        key = firstname;
        ({ value, end } = optValue(s, p));
      } else {
        key = s.slice(p, len);
        end = len;
        if (key.startsWith('no')) {
          key = key.slice(2);
          value = 'off';
        } else value = 'on';
      }
    } else {
      key = s.slice(p, len);
      ({ value, end } = optValue(s, len + 1));
    }
    firstname = undefined;
    if (key.length === 0) return { ok: false, error: `empty parameter name at offset ${p}` };
    items.push({ key, value });
    p = end < s.length ? end + 1 : end;
  }
  return { ok: true, items };
}

/** keyval_parse for the dotted form (`-blockdev driver=file,filename=/x`); JSON is handled by the caller. */
export function parseKeyval(s: string, implied?: string): OptsParse {
  const items: OptItem[] = [];
  let p = 0;
  let first = true;
  while (p < s.length) {
    const len = keyEnd(s, p);
    let key: string;
    let value: string;
    let end: number;
    if (s[len] !== '=') {
      if (!(first && implied !== undefined && len > p)) return { ok: false, error: `expected '=' after parameter '${s.slice(p, len)}'` };
      key = implied;
      ({ value, end } = optValue(s, p));
    } else {
      key = s.slice(p, len);
      if (key.length === 0) return { ok: false, error: `empty parameter name at offset ${p}` };
      ({ value, end } = optValue(s, len + 1));
    }
    first = false;
    items.push({ key, value });
    p = end < s.length ? end + 1 : end;
  }
  return { ok: true, items };
}

/** The last value of a key (QEMU's qemu_opt_get), or undefined. */
export function lastValue(items: readonly OptItem[], key: string): string | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (items[i]!.key === key) return items[i]!.value;
  return undefined;
}

/** qapi_bool_parse: on/yes/true/y and off/no/false/n; anything else is undefined (QEMU refuses it). */
export function qemuBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (['on', 'yes', 'true', 'y'].includes(v)) return true;
  if (['off', 'no', 'false', 'n'].includes(v)) return false;
  return undefined;
}

/** QEMU options that take no argument (softmmu/qemu-options.hx without HAS_ARG), as far as a domain would pass them. */
const NO_ARG = new Set([
  'S', 's', 'h', 'help', 'version', 'nographic', 'nodefaults', 'no-user-config', 'no-reboot', 'no-shutdown',
  'snapshot', 'daemonize', 'enable-kvm', 'no-hpet', 'no-acpi', 'full-screen', 'no-fd-bootchk', 'win2k-hack',
  'rtc-td-hack', 'no-kvm', 'preconfig', 'only-migratable', 'enable-fips', 'semihosting', 'no-quit', 'alt-grab',
  'ctrl-grab', 'curses', 'portrait', 'no-frame', 'sdl', 'singlestep', 'enable-sync-profile', 'perfmap', 'jitdump',
]);

/** One option of the command line with its argument, as lookup_opt sees it. */
export interface QemuArg {
  /** The option name without dashes; '' for a bare argument (QEMU takes it as `-hda`). */
  readonly option: string;
  readonly value: string | undefined;
  /** Index into the argv list of the option (or of the bare argument). */
  readonly index: number;
  /** Index of the argument's own argv element (differs from index when the option took the next one). */
  readonly valueIndex: number;
}

export function splitQemuArgv(argv: readonly string[]): QemuArg[] {
  const out: QemuArg[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      out.push({ option: '', value: a, index: i, valueIndex: i });
      continue;
    }
    const name = a.startsWith('--') ? a.slice(2) : a.slice(1);
    if (NO_ARG.has(name)) {
      out.push({ option: name, value: undefined, index: i, valueIndex: i });
      continue;
    }
    // Unknown options are taken to have an argument, as nearly all of QEMU's do.
    const value = i + 1 < argv.length ? argv[i + 1] : undefined;
    out.push({ option: name, value, index: i, valueIndex: value === undefined ? i : i + 1 });
    if (value !== undefined) i++;
  }
  return out;
}

/** A file QEMU opens because of one option, with the access it asks for. */
export interface QemuFileArg {
  readonly option: string;
  readonly path: string;
  readonly access: 'read' | 'readwrite';
  /** Image format when the option names one (`-drive format=`), for the backing chain. */
  readonly format?: string;
  /** argv index of the argument that names the file. */
  readonly argIndex: number;
}

export interface QemuArgProblem {
  readonly option: string;
  readonly argIndex: number;
  readonly message: string;
}

const PATH_OPTIONS: Record<string, 'read' | 'readwrite'> = {
  kernel: 'read', initrd: 'read', dtb: 'read', bios: 'read', readconfig: 'read', cdrom: 'read',
  pflash: 'readwrite', hda: 'readwrite', hdb: 'readwrite', hdc: 'readwrite', hdd: 'readwrite',
  fda: 'readwrite', fdb: 'readwrite', mtdblock: 'readwrite', sd: 'readwrite', '': 'readwrite',
};

function jsonFilenames(v: unknown, depth: number, out: { path: string; readOnly: boolean | undefined }[], ro: boolean | undefined): void {
  if (depth > 32 || v === null || typeof v !== 'object' || Array.isArray(v)) return;
  const o = v as Record<string, unknown>;
  const here = typeof o['read-only'] === 'boolean' ? (o['read-only'] as boolean) : ro;
  if (typeof o.filename === 'string') out.push({ path: o.filename, readOnly: here });
  for (const [k, c] of Object.entries(o)) if (k !== 'filename') jsonFilenames(c, depth + 1, out, here);
}

/**
 * The files QEMU opens from an argv list, and what could not be read. A file that is not an absolute
 * local path (a protocol, a relative name QEMU looks up in its data directories) is a problem, not a guess.
 */
export function qemuFileArgs(argv: readonly string[]): { files: QemuFileArg[]; problems: QemuArgProblem[] } {
  const files: QemuFileArg[] = [];
  const problems: QemuArgProblem[] = [];
  const add = (option: string, argIndex: number, path: string, access: 'read' | 'readwrite', format?: string) => {
    if (!path.startsWith('/')) {
      problems.push({ option, argIndex, message: `-${option || 'hda'} names ${JSON.stringify(path)}, not an absolute local path: not decided` });
      return;
    }
    files.push({ option, path, access, argIndex, ...(format !== undefined && { format }) });
  };
  for (const a of splitQemuArgv(argv)) {
    if (a.value === undefined) {
      if (!NO_ARG.has(a.option)) problems.push({ option: a.option, argIndex: a.index, message: `-${a.option} without its argument: QEMU refuses to start` });
      continue;
    }
    const opt = a.option;
    if (opt in PATH_OPTIONS) {
      add(opt, a.valueIndex, a.value, PATH_OPTIONS[opt]!);
      continue;
    }
    if (opt === 'fw_cfg') {
      const p = parseQemuOpts(a.value, 'name');
      if (!p.ok) problems.push({ option: opt, argIndex: a.valueIndex, message: `-fw_cfg ${JSON.stringify(a.value)}: ${p.error}` });
      else {
        const file = lastValue(p.items, 'file');
        if (file !== undefined) add(opt, a.valueIndex, file, 'read');
      }
      continue;
    }
    if (opt === 'drive') {
      const p = parseQemuOpts(a.value);
      if (!p.ok) {
        problems.push({ option: opt, argIndex: a.valueIndex, message: `-drive ${JSON.stringify(a.value)}: ${p.error}` });
        continue;
      }
      const file = lastValue(p.items, 'file');
      if (file === undefined) continue;
      const ro = qemuBool(lastValue(p.items, 'read-only') ?? lastValue(p.items, 'readonly'));
      const cdrom = lastValue(p.items, 'media') === 'cdrom';
      const snapshot = qemuBool(lastValue(p.items, 'snapshot')) === true;
      add(opt, a.valueIndex, file, ro === true || cdrom || snapshot ? 'read' : 'readwrite', lastValue(p.items, 'format'));
      continue;
    }
    if (opt === 'blockdev') {
      if (a.value.trimStart().startsWith('{')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(a.value);
        } catch (e) {
          problems.push({ option: opt, argIndex: a.valueIndex, message: `-blockdev JSON: ${(e as Error).message}` });
          continue;
        }
        const found: { path: string; readOnly: boolean | undefined }[] = [];
        jsonFilenames(parsed, 0, found, undefined);
        for (const f of found) add(opt, a.valueIndex, f.path, f.readOnly === true ? 'read' : 'readwrite');
        continue;
      }
      const p = parseKeyval(a.value, 'driver');
      if (!p.ok) {
        problems.push({ option: opt, argIndex: a.valueIndex, message: `-blockdev ${JSON.stringify(a.value)}: ${p.error}` });
        continue;
      }
      for (const it of p.items)
        if (it.key === 'filename' || it.key.endsWith('.filename')) {
          const prefix = it.key.slice(0, it.key.length - 'filename'.length);
          const ro = qemuBool(lastValue(p.items, `${prefix}read-only`) ?? lastValue(p.items, 'read-only'));
          add(opt, a.valueIndex, it.value, ro === true ? 'read' : 'readwrite');
        }
      continue;
    }
    if (opt === 'device') {
      const p = parseQemuOpts(a.value, 'driver');
      if (p.ok) {
        const rom = lastValue(p.items, 'romfile');
        if (rom !== undefined && rom !== '') add(opt, a.valueIndex, rom, 'read');
      }
    }
  }
  return { files, problems };
}
