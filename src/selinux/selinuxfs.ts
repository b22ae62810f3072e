/**
 * What selinux/live.ts asks of selinuxfs: a tiny interface, so the live kernel's answers can come from
 * the real /sys/fs/selinux (adapters/live/selinuxfs.ts) or from a fake tree in tests.
 */

/** A selinuxfs transaction file: one write of the request, then one read of the reply on the same fd. */
export type TransactionNode = 'access' | 'context';

export type TransactionResult = { readonly ok: true; readonly reply: string } | { readonly ok: false; readonly error: string };

export interface SelinuxFs {
  /** Text of a node relative to the root (`enforce`, `class/file/index`); undefined when absent/unreadable. */
  readText(relPath: string): string | undefined;
  readBinary(relPath: string): Uint8Array | undefined;
  listDir(relPath: string): readonly string[] | undefined;
  transact(node: TransactionNode, request: string): TransactionResult;
}
