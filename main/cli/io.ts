/** Where the CLI writes and what it knows of its terminal (a seam for tests). */

/** The CLI's output streams and terminal facts. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (progress bar). */
  stdoutIsTty: boolean;
  /** Terminal width. */
  columns: number;
  /** Resolves when the user asks to stop (SIGINT / SIGTERM); `serve` waits on it. */
  interrupted(): Promise<string>;
}

/** The process's own streams and signals. */
export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    stdoutIsTty: process.stdout.isTTY === true,
    columns: process.stdout.columns ?? 80,
    interrupted: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
  };
}
