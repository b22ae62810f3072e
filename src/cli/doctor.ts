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
    const files = fileArgs(a);
    const domains = (a.domain as string[]) ?? [];
    const paths = (a.path as string[]) ?? [];
    if (files.length + domains.length + paths.length === 0 && !a.allDomains) return usage(io, 'doctor: name FILEs, --domain NAME, --all-domains or --path PATH');
    if (files.some((f) => !f.startsWith('/')) || paths.some((p) => !p.startsWith('/'))) return usage(io, 'doctor: FILE and --path take absolute paths');
    let owner: { uid: number; gid: number } | undefined;
    if (a.owner !== undefined) {
      const m = /^([0-9]{1,10}):([0-9]{1,10})$/.exec(a.owner);
      if (!m || Number(m[1]) >= 0xffffffff || Number(m[2]) >= 0xffffffff) return usage(io, `--owner ${a.owner}: expected UID:GID (numbers)`);
      owner = { uid: Number(m[1]), gid: Number(m[2]) };
    }
    const { plausibleContext } = await import('../doctor/records.js');
    if (a.label !== undefined && !plausibleContext(a.label)) return usage(io, `--label ${a.label}: not an SELinux context (user:role:type[:level])`);
    const { runDoctorRequest } = await import('../commands/doctor.js');
    return runDoctorRequest(
      {
        targets: [
          ...files.map((path) => ({ kind: 'file' as const, path })),
          ...domains.map((name) => ({ kind: 'domain' as const, name })),
          ...(a.allDomains ? [{ kind: 'all-domains' as const }] : []),
          ...paths.map((path) => ({ kind: 'path' as const, path })),
        ],
        stateDir: a.stateDir,
        host: host.value,
        options: { ...(owner ? { owner } : {}), ...(a.label !== undefined ? { label: a.label } : {}) },
        apply: a.apply,
        json: a.json,
      },
      host.value,
      a.connect,
      io,
    );
  },
});
