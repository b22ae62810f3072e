/**
 * The page's one way to the system: run the virt-seclabel CLI through cockpit.spawn and hand back its
 * exit code, standard output and standard error exactly as it wrote them. The page decides nothing: every
 * status, plan and error it shows is the CLI's. A small sh wrapper returns the exit code and stderr after
 * a marker on stdout, so the answer reads the same on every Cockpit version (whatever its spawn does with
 * a non-zero exit).
 */

interface SpawnPromise {
  then(ok: (out: string) => void, fail: (e: { message?: string; problem?: string }) => void): void;
}
declare const cockpit: {
  spawn(args: string[], opts: { superuser?: 'try' | 'require'; err?: 'out' | 'message' | 'ignore' }): SpawnPromise;
};

export interface CliAnswer {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A connection the page reads: qemu:///system as root where the session may ("try"), the user's session as the user. */
export interface Connection {
  readonly uri: string;
  readonly superuser: boolean;
}

const WRAPPER = 'm=$1; shift; e=$(mktemp) || exit 125; "$@" 2>"$e"; rc=$?; printf "\\n%s %s\\n" "$m" "$rc"; cat "$e"; rm -f "$e"';

function marker(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `--virt-seclabel-cockpit-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export function runCli(conn: Connection, args: readonly string[]): Promise<CliAnswer> {
  const m = marker();
  return new Promise((resolve) => {
    cockpit
      .spawn(['/bin/sh', '-c', WRAPPER, 'virt-seclabel-cockpit', m, 'virt-seclabel', ...args, '--connect', conn.uri], { ...(conn.superuser && { superuser: 'try' as const }), err: 'message' })
      .then(
        (out) => {
          const at = out.lastIndexOf(`\n${m} `);
          if (at < 0) return resolve({ code: -1, stdout: out, stderr: 'virt-seclabel did not finish (no exit status)' });
          const rest = out.slice(at + m.length + 2);
          const nl = rest.indexOf('\n');
          resolve({ code: Number(rest.slice(0, nl)), stdout: out.slice(0, at), stderr: rest.slice(nl + 1) });
        },
        (e) => resolve({ code: -1, stdout: '', stderr: e.message ?? e.problem ?? String(e) }),
      );
  });
}

/** The CLI's JSON on stdout, or its own words (stderr) as the error. */
export async function runJson<T>(conn: Connection, args: readonly string[]): Promise<{ doc?: T; answer: CliAnswer }> {
  const answer = await runCli(conn, args);
  try {
    return { doc: JSON.parse(answer.stdout) as T, answer };
  } catch {
    return { answer };
  }
}
