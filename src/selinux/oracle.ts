/**
 * What the SELinux decision asks of a policy. The live engine answers from the loaded binary policy
 * (or the kernel); an offline run answers from the questions a facts snapshot recorded. Keeping the
 * interface this narrow is what lets a snapshot carry kilobytes of answers instead of the whole policy.
 */
import type { AccessAnswer, AccessRequest } from './access.js';

export interface SelinuxOracle {
  compute(req: AccessRequest): AccessAnswer;
  /** Whether the policy defines a type (svirt_tcg_t exists in Fedora's policy, not in Debian's). */
  typeExists(name: string): boolean;
  /** The boolean values questions are answered under (policy defaults or the live kernel's, plus overrides). */
  booleans(): ReadonlyMap<string, boolean>;
  /**
   * The label the policy's genfscon gives the root of a filesystem of this type (what every inode of an
   * NFS, CIFS or FUSE mount without `context=` or security labels carries): the context text, null when
   * the policy has none for it, undefined when this oracle cannot tell.
   */
  genfsContext?(fsType: string): string | null | undefined;
}
