import { describe, expect, it } from 'vitest';
import { highestPolicyFile, policyDir, selinuxTypeFromConfig } from '../../src/selinux/policy-store.js';

describe('policy store', () => {
  it('takes the SELINUXTYPE line, ignoring comments', () => {
    expect(selinuxTypeFromConfig('# SELINUXTYPE=mls\nSELINUXTYPE=targeted\n')).toBe('targeted');
    expect(policyDir('targeted')).toBe('/etc/selinux/targeted/policy');
  });

  it('picks the highest policy.N and nothing else', () => {
    expect(highestPolicyFile(['policy.31', 'policy.33', 'policy.9', 'policy.33.bak', 'x'])).toBe('policy.33');
    expect(highestPolicyFile(['policy.kern', 'README'])).toBeUndefined();
  });
});
