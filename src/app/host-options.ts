/** The host settings every command takes (annotate, explain, facts), as plain data. */
import type { ConnectMode } from '../decide/connection.js';
import type { SecurityDriver } from '../decide/types.js';

export interface HostOptions {
  readonly connect: ConnectMode;
  readonly qemuConf: string;
  readonly user?: string;
  readonly group?: string;
  /** Explicit active models; undefined = detect. */
  readonly models?: readonly SecurityDriver[];
  readonly policy?: string;
  readonly booleans: Readonly<Record<string, boolean>>;
  /** Offline: decide from a facts snapshot instead of the live host. */
  readonly facts?: string;
}

export const DEFAULT_QEMU_CONF = '/etc/libvirt/qemu.conf';

/**
 * The qemu.conf the daemon of that connection reads: the system daemon /etc/libvirt/qemu.conf, a session
 * daemon its user's own (libvirt: virGetUserConfigDirectory() + "/qemu.conf", i.e. $XDG_CONFIG_HOME or
 * ~/.config, then libvirt/). Reading /etc's for a session decided under a configuration that daemon never
 * reads (and an unprivileged user usually cannot read it: Debian ships it 0600).
 */
export function defaultQemuConf(connect: ConnectMode, env: Readonly<Record<string, string | undefined>>): string {
  if (connect === 'system') return DEFAULT_QEMU_CONF;
  const config = env.XDG_CONFIG_HOME || `${env.HOME ?? ''}/.config`;
  return `${config}/libvirt/qemu.conf`;
}

/** The mode of a libvirt URI; query parameters (`?socket=…`) reach the same driver, so they are ignored here. */
export function parseConnectUri(full: string): ConnectMode | undefined {
  const uri = full.split('?')[0];
  if (uri === 'qemu:///system') return 'system';
  if (uri === 'qemu:///session') return 'session';
  return undefined;
}

export function parseModels(text: string): SecurityDriver[] | string {
  if (text.trim() === '' || text === 'none') return [];
  const out: SecurityDriver[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    if (part !== 'dac' && part !== 'selinux' && part !== 'apparmor') return `unknown model '${part}' (expected dac, selinux, apparmor or none)`;
    if (!out.includes(part)) out.push(part);
  }
  return out;
}

function parseBoolean(text: string): [string, boolean] | string {
  const m = /^([A-Za-z0-9_.-]+)=(on|off|1|0|true|false)$/.exec(text);
  if (!m) return `--boolean ${text}: expected NAME=on|off`;
  return [m[1]!, m[2] === 'on' || m[2] === '1' || m[2] === 'true'];
}

/** Every repeated --boolean NAME=on|off; the first malformed one is the error. */
export function parseBooleans(texts: readonly string[]): Record<string, boolean> | string {
  const booleans: Record<string, boolean> = {};
  for (const t of texts) {
    const p = parseBoolean(t);
    if (typeof p === 'string') return p;
    booleans[p[0]] = p[1];
  }
  return booleans;
}
