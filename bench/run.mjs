// Runs every benchmark in this folder in turn (after `npm run build`): whole-process start-up ratios
// and the effect of each start-up means, policy-load cost against policy size and query-stream memory,
// the SELinux engine against sesearch and the libsepol helper, the labels list against sesearch, and
// offline checking of many domains, and what the libvirt hook adds to a VM start (root and libvirt; it
// says so and skips without them).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
let failed = false;
for (const script of ['startup.mjs', 'scale.mjs', 'selinux.mjs', 'labels.mjs', 'offline.mjs', 'hook-start.mjs']) {
  console.log(`\n=== bench/${script}`);
  const r = spawnSync(process.execPath, [here + script, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
