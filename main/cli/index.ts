/**
 * The quicscope command line: `quicscope get URL...` and `quicscope serve`. `main(args, io)`
 * parses, runs the command and returns the exit status (0 ok, 1 failure, 2 usage); run as a
 * script it uses the process's streams and exits with it.
 */
import { pathToFileURL } from 'node:url';
import { processIo } from './io.ts';
import type { Io } from './io.ts';
import { UsageError, commandHelp, parseCommand } from './options.ts';
import type { CommandSpec, ParsedCommand } from './options.ts';
import { GET_COMMAND, SERVE_COMMAND } from './specs.ts';

const PROGRAM = 'quicscope';

/** The commands: their option tables and what runs them (loaded only when one runs). */
export const COMMANDS: readonly { spec: CommandSpec; run: (p: ParsedCommand, io: Io) => Promise<number> }[] =
  [
    { spec: GET_COMMAND, run: async (p, io) => (await import('./get.ts')).runGet(p, io) },
    { spec: SERVE_COMMAND, run: async (p, io) => (await import('./serve.ts')).runServe(p, io) },
  ];

/** The top-level help: every command and its flags. */
export function mainHelp(): string {
  const lines = [
    `usage: ${PROGRAM} <command> [options]`,
    '',
    'quicscope: QUIC (v1, v2) and HTTP/3 in TypeScript, with qlog, key log and pcapng traces.',
    '',
    'commands:',
  ];
  for (const { spec } of COMMANDS) {
    lines.push(`  ${spec.name.padEnd(8)}${spec.summary.split('\n')[0]}`);
    const flags = spec.options.map((o) => `--${o.name}`).join(' ');
    lines.push(`          flags: ${flags}`);
  }
  lines.push('', `Run '${PROGRAM} <command> --help' for the options of a command.`);
  return lines.join('\n') + '\n';
}

/** Runs the CLI with `args` (without node and the script); resolves with the exit status. */
export async function main(args: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (command === undefined) {
    io.err(`${PROGRAM}: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const parsed = parseCommand(command.spec, rest);
    if (parsed.values.help === true) {
      io.out(commandHelp(PROGRAM, command.spec));
      return 0;
    }
    return await command.run(parsed, io);
  } catch (e) {
    if (e instanceof UsageError) {
      const hint = e.command === null ? '' : ` (see '${PROGRAM} ${e.command} --help')`;
      io.err(`${PROGRAM}: ${e.message}${hint}\n`);
      return 2;
    }
    io.err(`${PROGRAM}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Whether this module is the program being run (not imported). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && import.meta.url === pathToFileURL(entry).href;
}

if (isEntryPoint()) {
  const status = await main(process.argv.slice(2), processIo());
  // Let stdout drain, then exit: open handles (none expected) must not keep the CLI alive.
  process.exitCode = status;
  setImmediate(() => process.exit(status));
}
