/** `virt-seclabel doctor [FILE...|--domain NAME...|--all-domains|--path PATH...] [--json] [--apply]`: options and the hand-off to commands/doctor.ts. */
import { defineCommand, fileArgs, usage } from './command.js';
import { documented } from './help.js';
import { hostOptionsFrom, repeatable, withHostOptions, type RawHostArgs } from './host-args.js';

export const doctorCommand = defineCommand({
  command: 'doctor [files..]',
  describe: 'find the owner and label records libvirt left behind (trusted.libvirt.security.*) and files it left chowned; --apply undoes them as libvirt\'s last stop would have',
  builder: (y) =>
    documented(withHostOptions(y), 'doctor')
      .positional('files', { type: 'string', array: true, describe: 'files to check (disks, images, ISOs)' })
      .option('domain', repeatable('check the files this domain\'s libvirt definition names: disks and their backing chains (repeatable)'))
      .option('all-domains', { type: 'boolean', default: false, describe: 'check the files of every domain libvirt defines on --connect' })
      .option('path', repeatable('check every file under this directory (repeatable)'))
      .option('state-dir', { type: 'string', default: '/run/libvirt/qemu', describe: 'libvirt\'s QEMU state directory: its <domstatus> files say which domains run' })
      .option('owner', { type: 'string', describe: '--apply: give files left chowned this owner, UID:GID (never guessed)' })
      .option('label', { type: 'string', describe: '--apply: give files left labelled this SELinux context (never guessed)' })
      .option('apply', { type: 'boolean', default: false, describe: 'undo what the plan lists, under libvirt\'s metadata lock' })
      .option('json', { type: 'boolean', default: false, describe: 'JSON (schemas/doctor.schema.json)' }),
  async run(a, io) {
    const host = hostOptionsFrom(a as unknown as RawHostArgs);
    if (!host.ok) return usage(io, host.error);
    const { doctorRequest } = await import('../commands/doctor-request.js');
    const req = doctorRequest(
      { files: fileArgs(a), domain: a.domain ?? [], allDomains: a.allDomains, path: a.path ?? [], stateDir: a.stateDir, owner: a.owner, label: a.label, apply: a.apply, json: a.json },
      host.value,
    );
    if (!req.ok) return usage(io, req.error);
    const { runDoctorRequest } = await import('../commands/doctor.js');
    return runDoctorRequest(req.value, host.value, a.connect, io);
  },
});
