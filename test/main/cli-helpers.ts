/**
 * Helpers of the CLI tests: run `main()` in-process with captured output, start an in-process
 * file server with a chosen certificate, and temporary directories.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../../core/connection/config.ts';
import { main } from '../../main/cli/index.ts';
import type { Io } from '../../main/cli/io.ts';
import { serveFiles } from '../../main/h3/server.ts';
import type { H3FileServer, ServeFilesOptions } from '../../main/h3/server.ts';

/** What a CLI run printed and returned. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in this process; `interrupt` resolves `io.interrupted()` (for serve). */
export async function runMain(
  args: string[],
  interrupt: Promise<string> = new Promise(() => {}),
): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    stdoutIsTty: false,
    columns: 80,
    interrupted: () => interrupt,
  };
  const code = await main(args, io);
  return { code, out, err };
}

/** A temporary directory, removed by `cleanup`. */
export function tempDir(prefix: string): {
  dir: string;
  file: (name: string, text?: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    dir,
    file: (name, text) => {
      const p = join(dir, name);
      if (text !== undefined) writeFileSync(p, text);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts serveFiles on 127.0.0.1:0 with a certificate chain and key (PEM). */
export async function startServer(
  chainPem: string,
  keyPem: string,
  options: Partial<ServeFilesOptions> & { configure?: (config: Config) => void } = {},
): Promise<{ server: H3FileServer; port: number; url: (path: string) => string }> {
  const config = new Config();
  config.setCertificateChain(chainPem);
  config.setPrivateKey(keyPem);
  options.configure?.(config);
  delete options.configure;
  const server = await serveFiles({ host: '127.0.0.1', port: 0, config, dir: null, ...options });
  const port = server.address.port;
  return { server, port, url: (path) => `https://127.0.0.1:${port}${path}` };
}
