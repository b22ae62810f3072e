/**
 * A HostView that only knows text files (qemu.conf, /etc/passwd, selinuxfs flags): enough for the
 * connection and settings rules, which never look at inodes.
 */
import { missing, ok, unknown, type HostView } from '../../src/host/view.js';

export function textView(files: Record<string, string>): HostView {
  const none = () => unknown('not part of this test view');
  return {
    // A listed path is a plain root-owned file (the AppArmor probe asks whether a template exists).
    lstat: (p) => (p in files ? ok({ type: 'file', mode: 0o644, uid: 0, gid: 0 }) : none()),
    readlink: none,
    aclAccess: none,
    selinuxLabel: none,
    readBytes: none,
    readBinary: none,
    listDir: none,
    readText: (p) => (p in files ? ok(files[p]!) : missing()),
  };
}
