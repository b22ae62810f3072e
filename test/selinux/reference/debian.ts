/** Where Debian puts what the SELinux reference suites compare against (libsepol-dev, selinux-policy-default/-mls). */
export const LIBSEPOL_A = '/usr/lib/x86_64-linux-gnu/libsepol.a';
export const DEBIAN_DEFAULT_POLICY = '/etc/selinux/default/policy/policy.33';
export const DEBIAN_MLS_POLICY = '/etc/selinux/mls/policy/policy.33';
