/** The streams a command talks to and the exit-code contract: below cli/ and precommit/, which both run commands. */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** The exit-code contract (README): 0 done, 1 --check found something, 2 usage, parse or I/O error. */
export const EXIT = { ok: 0, found: 1, error: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
